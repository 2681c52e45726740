import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestSfu, TestPublisher, type TestSfu, TestSubscriber, waitFor } from '../test-peers.js';

/**
 * When a viewer's media flows again after an interruption (ICE disconnected, then connected; an ICE
 * restart), its picture comes back with the first packets, not at the encoder's next periodic keyframe.
 * The interruption is the state werift reports (the SFU's own peer connection announces it), so this
 * checks the SFU's reaction, not a network.
 */
describe('a WHEP viewer whose transport comes back', () => {
  let t: TestSfu;
  beforeAll(async () => {
    t = await startTestSfu();
  });
  afterAll(() => t.close());

  /** A publisher sending one keyframe at the start (then only when asked), a viewer playing it, video flowing. */
  async function steadyRoom(room: string) {
    const pub = new TestPublisher();
    expect((await pub.publish(t.url, room)).status).toBe(201);
    await pub.connected();
    pub.start(20, 1_000_000);
    const sub = new TestSubscriber();
    expect((await sub.play(t.url, room)).status).toBe(201);
    await waitFor(() => sub.keyframes >= 1 && sub.videoPackets > 20, 10_000, 'video at the viewer');
    const session = (kind: 'publisher' | 'subscriber') =>
      t.sfu.rooms
        .room(room)!
        .sessions()
        .find((s) => s.kind === kind)!;
    return { pub, sub, publisher: session('publisher'), viewer: session('subscriber') };
  }

  it('gets a keyframe as soon as ICE is connected again', async () => {
    const { pub, sub, viewer } = await steadyRoom('resume');
    await waitFor(() => viewer.connected, 5000, 'viewer connected');
    // steady state: no keyframe comes by itself
    const settled = sub.videoPackets;
    await waitFor(() => sub.videoPackets > settled + 25, 5000, 'more video');
    const before = sub.keyframes;
    const plis = pub.plis;

    viewer.pc.iceConnectionStateChange.execute('disconnected');
    viewer.pc.iceConnectionStateChange.execute('connected');

    await waitFor(() => pub.plis > plis, 5000, 'a keyframe request at the publisher');
    await waitFor(() => sub.keyframes > before, 5000, 'a keyframe at the viewer');
    expect(viewer.closed).toBe(false);
    await sub.close();
    await pub.close();
  }, 30_000);

  it('the publisher is asked for a keyframe as soon as its own ICE is connected again', async () => {
    const { pub, sub, publisher } = await steadyRoom('resume-pub');
    const settled = sub.videoPackets;
    await waitFor(() => sub.videoPackets > settled + 25, 5000, 'more video');
    const plis = pub.plis;

    publisher.pc.iceConnectionStateChange.execute('disconnected');
    publisher.pc.iceConnectionStateChange.execute('connected');

    await waitFor(() => pub.plis > plis, 5000, 'a keyframe request at the publisher');
    expect(publisher.closed).toBe(false);
    await sub.close();
    await pub.close();
  }, 30_000);
});
