import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSfu, TestPublisher, type TestSfu, TestSubscriber, waitFor } from './test-peers.js';

describe('SFU with werift peers', () => {
  let t: TestSfu;
  beforeAll(async () => {
    t = await startTestSfu();
  });
  afterAll(() => t.close());

  it('forwards a publisher to subscribers', async () => {
    const pub = new TestPublisher();
    const res = await pub.publish(t.url, 'smoke');
    expect(res.status).toBe(201);
    await pub.connected();
    pub.start();
    const sub = new TestSubscriber();
    const r2 = await sub.play(t.url, 'smoke');
    expect(r2.status).toBe(201);
    await waitFor(() => sub.videoPackets > 20 && sub.audioPackets > 20, 10_000, 'media');
    expect(sub.keyframes).toBeGreaterThan(0);
    await sub.close();
    await pub.close();
  });
});
