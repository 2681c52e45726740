import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSfu, TestPublisher, type TestSfu, TestSubscriber, waitFor } from '../test-peers.js';

/** A viewer asks for audio and video; a publisher may send only one of them (a camera without a microphone). */
describe('WHEP viewers of a publisher that sends one kind', () => {
  let t: TestSfu;
  beforeAll(async () => {
    t = await startTestSfu();
  });
  afterAll(() => t.close());

  it('answers an audio+video offer for a video-only publisher: video flows, audio is inactive', async () => {
    const pub = new TestPublisher(false);
    expect((await pub.publish(t.url, 'video-only')).status).toBe(201);
    await pub.connected();
    pub.start();
    const sub = new TestSubscriber();
    const res = await sub.play(t.url, 'video-only');
    expect(res.status, res.body).toBe(201);
    const audio = res.body.split(/\r\n(?=m=)/).find((m) => m.startsWith('m=audio'))!;
    expect(audio).toMatch(/a=inactive/);
    await waitFor(() => sub.videoPackets > 10, 10_000, 'video at the viewer');
    expect(sub.audioPackets).toBe(0);
    await sub.close();
    await pub.close();
  }, 30_000);
});
