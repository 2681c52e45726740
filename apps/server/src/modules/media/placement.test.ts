import { createLogger } from '@fusionflow/kit';
import type { SfuNodeReport } from '@fusionflow/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import { InMemoryMediaDirectory } from './in-memory-media-directory.js';
import { Placement } from './placement.js';

const logger = createLogger({ level: 'silent', name: 'test' });
const report = (nodeId: string, patch: Partial<SfuNodeReport> = {}): SfuNodeReport => ({
  nodeId,
  url: `http://${nodeId}:8090`,
  draining: false,
  capacity: { maxViewers: 2 },
  load: { viewers: 0, publishers: 0, sessions: 0 },
  rooms: [],
  sentAt: new Date(0).toISOString(),
  ...patch,
});

describe('Placement', () => {
  let now = 0;
  let placement: Placement;
  beforeEach(() => {
    now = 1_000_000;
    placement = new Placement({
      directory: new InMemoryMediaDirectory({ ttlMs: 10_000, now: () => now }),
      retryAfterSeconds: 3,
      originMaxViewers: 20,
      logger,
    });
  });

  const refusal = async (p: Promise<unknown>) => {
    const err = (await p.then(
      () => undefined,
      (e: unknown) => e,
    )) as { code?: string; headers?: Record<string, string> } | undefined;
    return err && { code: err.code, retryAfter: err.headers?.['retry-after'] };
  };

  it('places nothing without reporting nodes (the one static SFU, plain URLs)', async () => {
    expect(await placement.place('r1', 'publish')).toBeUndefined();
    expect(await placement.place('r1', 'subscribe')).toBeUndefined();
  });

  it('puts a publisher on the least-loaded usable node, counting what it placed since the last report', async () => {
    await placement.noteReport(report('a', { load: { viewers: 1, publishers: 1, sessions: 2 } }));
    await placement.noteReport(report('b'));
    await placement.noteReport(report('c', { draining: true }));
    expect(await placement.place('r1', 'publish')).toEqual({ nodeId: 'b', url: 'http://b:8090' });
    expect(await placement.directory.origin('r1')).toBe('b');
    // b has the one just placed, a two sessions: r2 still goes to b (1 < 2), r3 to a (tie 2:2, by id).
    expect((await placement.place('r2', 'publish'))?.nodeId).toBe('b');
    expect((await placement.place('r3', 'publish'))?.nodeId).toBe('a');
    // A publisher coming back keeps its usable origin.
    expect((await placement.place('r1', 'publish'))?.nodeId).toBe('b');
  });

  it("puts viewers on the room's origin, and refuses them (503 sfu_full) when it is full with no other node, draining or silent", async () => {
    await placement.noteReport(report('b', { load: { viewers: 1, publishers: 1, sessions: 2 } }));
    await placement.directory.setOrigin('r1', 'b');
    expect(await placement.place('r1', 'subscribe')).toEqual({ nodeId: 'b', url: 'http://b:8090' });
    // b held one viewer of two, and one more was just placed there; no other node.
    expect(await refusal(placement.place('r1', 'subscribe'))).toEqual({ code: 'sfu_full', retryAfter: '3' });
    await placement.noteReport(report('a'));
    await placement.noteReport(report('b', { draining: true }));
    // A draining origin has nothing to relay from, however much room a has.
    expect(await refusal(placement.place('r1', 'subscribe'))).toEqual({ code: 'sfu_full', retryAfter: '3' });
    await placement.noteReport(report('b'));
    expect((await placement.place('r1', 'subscribe'))?.nodeId).toBe('b');
    now += 10_001;
    await placement.noteReport(report('a'));
    expect(await refusal(placement.place('r1', 'subscribe'))).toEqual({ code: 'sfu_full', retryAfter: '3' });
    // Its publisher is placed again, on a usable node: the new origin.
    expect((await placement.place('r1', 'publish'))?.nodeId).toBe('a');
  });

  it('takes a reporting publisher as the origin of a room that has none, and forgets origins of ended rooms', async () => {
    await placement.noteReport(report('a', { rooms: [{ roomId: 'r9' as never, hasPublisher: true, viewers: 0 }] }));
    expect(await placement.directory.origin('r9')).toBe('a');
    await placement.roomEnded('r9');
    expect(await placement.directory.origin('r9')).toBeUndefined();
  });

  it('refuses a publisher when every node is draining or silent', async () => {
    await placement.noteReport(report('a', { draining: true }));
    expect(await refusal(placement.place('r1', 'publish'))).toEqual({ code: 'sfu_full', retryAfter: '3' });
  });
});

describe('Placement following publishers', () => {
  const make = () =>
    new Placement({
      directory: new InMemoryMediaDirectory({ ttlMs: 10_000 }),
      retryAfterSeconds: 3,
      originMaxViewers: 20,
      logger,
    });
  const publishing = (roomId: string) => ({ rooms: [{ roomId: roomId as never, hasPublisher: true, viewers: 0 }] });

  it('moves a room origin to the node that has its publisher, unless the origin node has it too', async () => {
    const placement = make();
    await placement.noteReport(report('a'));
    await placement.noteReport(report('b'));
    await placement.directory.setOrigin('r1', 'a');
    // The publisher came back on b (an encoder routed there): b has it, a does not.
    await placement.noteReport(report('b', publishing('r1')));
    expect(await placement.directory.origin('r1')).toBe('b');
    // Both claim it (the old session not gone yet): the origin stays where it is.
    await placement.noteReport(report('a', publishing('r1')));
    expect(await placement.directory.origin('r1')).toBe('b');
  });

  it('routes a request that names no node without placing anything', async () => {
    const placement = make();
    await placement.noteReport(report('a'));
    expect(await placement.route('r1', 'publish')).toEqual({ nodeId: 'a', url: 'http://a:8090' });
    expect(await placement.directory.origin('r1')).toBeUndefined();
    expect(await placement.nodeUrl('a')).toBe('http://a:8090');
    expect(await placement.nodeUrl('../a')).toBeUndefined();
  });
});

describe('Placement of viewers on edges (SFU_ORIGIN_MAX_VIEWERS, relays)', () => {
  let now = 0;
  const make = (originMaxViewers = 3) =>
    new Placement({
      directory: new InMemoryMediaDirectory({ ttlMs: 10_000, now: () => now }),
      retryAfterSeconds: 3,
      originMaxViewers,
      logger,
    });
  beforeEach(() => {
    now = 1_000_000;
  });
  const room = (roomId: string, viewers: number, relayFrom?: string) => ({
    roomId: roomId as never,
    hasPublisher: relayFrom === undefined,
    viewers,
    ...(relayFrom ? { relayFrom } : {}),
  });
  /** A node with room for 10 viewers, holding `viewers` of them (in `rooms`, or of other rooms). */
  const node = (nodeId: string, viewers = 0, rooms: SfuNodeReport['rooms'] = [], patch: Partial<SfuNodeReport> = {}) =>
    report(nodeId, {
      capacity: { maxViewers: 10 },
      load: { viewers, publishers: rooms.filter((r) => r.hasPublisher).length, sessions: viewers },
      rooms,
      ...patch,
    });
  const refused = async (p: Promise<unknown>) =>
    (
      (await p.then(
        () => undefined,
        (e: unknown) => e,
      )) as { code?: string } | undefined
    )?.code;
  const viaA = { relayFrom: { nodeId: 'a', url: 'http://a:8090' } };

  it('puts a viewer on the origin while its viewers of the room are under the limit, then on an edge fed from it', async () => {
    const placement = make(3);
    await placement.noteReport(node('a', 2, [room('r1', 2)]));
    await placement.noteReport(node('b'));
    expect(await placement.place('r1', 'subscribe')).toEqual({ nodeId: 'a', url: 'http://a:8090' });
    // a now holds 2 reported + 1 placed = 3 viewers of r1: the limit.
    expect(await placement.place('r1', 'subscribe')).toEqual({ nodeId: 'b', url: 'http://b:8090', ...viaA });
    // The limit is per room: another room of a's is still under it.
    await placement.directory.setOrigin('r2', 'a');
    expect(await placement.place('r2', 'subscribe')).toEqual({ nodeId: 'a', url: 'http://a:8090' });
  });

  it("sends a viewer to an edge when the origin's report already shows the room at the limit", async () => {
    const placement = make(3);
    await placement.noteReport(node('a', 3, [room('r1', 3)]));
    await placement.noteReport(node('b'));
    expect(await placement.place('r1', 'subscribe')).toEqual({ nodeId: 'b', url: 'http://b:8090', ...viaA });
    // A WHEP request that names no node has no relay claim: route() sends it to the origin (which has room), and
    // counts nothing.
    expect(await placement.route('r1', 'subscribe')).toEqual({ nodeId: 'a', url: 'http://a:8090' });
    await placement.noteReport(node('a', 10, [room('r1', 10)]));
    expect(await refused(placement.route('r1', 'subscribe'))).toBe('sfu_full');
    expect(await placement.place('r1', 'subscribe')).toEqual({ nodeId: 'b', url: 'http://b:8090', ...viaA });
  });

  it('prefers an edge that already relays the room (the one with the most free room) over a less-loaded one', async () => {
    const placement = make(3);
    await placement.noteReport(node('a', 3, [room('r1', 3)]));
    await placement.noteReport(node('b')); // idle: the least loaded, but it would open another relay
    await placement.noteReport(node('c', 6, [room('r1', 6, 'a')]));
    await placement.noteReport(node('d', 4, [room('r1', 2, 'a')]));
    await placement.noteReport(node('e', 1, [room('r1', 1, 'old-origin')])); // relays from elsewhere: not from a
    expect((await placement.place('r1', 'subscribe'))?.nodeId).toBe('d');
    // d and c relay it; once d has less free room than c, c takes the next ones.
    await placement.noteReport(node('d', 8, [room('r1', 6, 'a')]));
    expect(await placement.place('r1', 'subscribe')).toEqual({ nodeId: 'c', url: 'http://c:8090', ...viaA });
    // A full relaying edge is passed over.
    await placement.noteReport(node('c', 10, [room('r1', 10, 'a')]));
    await placement.noteReport(node('d', 10, [room('r1', 10, 'a')]));
    expect((await placement.place('r1', 'subscribe'))?.nodeId).toBe('b');
  });

  it('opens a new relay on the least-loaded usable edge with room', async () => {
    const placement = make(3);
    await placement.noteReport(node('a', 3, [room('r1', 3)]));
    await placement.noteReport(node('b', 4));
    await placement.noteReport(node('c', 1));
    await placement.noteReport(node('d', 10)); // full
    expect(await placement.place('r1', 'subscribe')).toEqual({ nodeId: 'c', url: 'http://c:8090', ...viaA });
  });

  it('skips draining and unhealthy edges, even ones that relay the room', async () => {
    const placement = make(3);
    await placement.noteReport(node('a', 3, [room('r1', 3)]));
    await placement.noteReport(node('silent', 0, [room('r1', 1, 'a')]));
    now += 10_001;
    await placement.noteReport(node('a', 3, [room('r1', 3)]));
    await placement.noteReport(node('draining', 0, [room('r1', 1, 'a')], { draining: true }));
    await placement.noteReport(node('busy', 5));
    expect((await placement.place('r1', 'subscribe'))?.nodeId).toBe('busy');
    await placement.noteReport(node('busy', 0, [], { draining: true }));
    // No usable edge left: the origin, over its limit.
    expect(await placement.place('r1', 'subscribe')).toEqual({ nodeId: 'a', url: 'http://a:8090' });
  });

  it('puts viewers on the origin over its limit when every edge is full, and refuses them when it is full too', async () => {
    const placement = make(3);
    await placement.noteReport(node('a', 8, [room('r1', 3)]));
    await placement.noteReport(node('b', 10));
    expect(await placement.place('r1', 'subscribe')).toEqual({ nodeId: 'a', url: 'http://a:8090' });
    expect(await placement.place('r1', 'subscribe')).toEqual({ nodeId: 'a', url: 'http://a:8090' });
    // a: 8 reported + 2 placed = 10 of 10; b full.
    expect(await refused(placement.place('r1', 'subscribe'))).toBe('sfu_full');
  });

  it('with no limit (0) keeps viewers on the origin until it is full, then relays', async () => {
    const placement = make(0);
    await placement.noteReport(node('a', 9, [room('r1', 9)]));
    await placement.noteReport(node('b'));
    expect((await placement.place('r1', 'subscribe'))?.nodeId).toBe('a');
    expect(await placement.place('r1', 'subscribe')).toEqual({ nodeId: 'b', url: 'http://b:8090', ...viaA });
  });

  it('counts SFU_MAX_VIEWERS 0 as no capacity limit on origin and edges', async () => {
    const placement = make(1);
    await placement.noteReport(node('a', 50, [room('r1', 0)], { capacity: { maxViewers: 0 } }));
    await placement.noteReport(node('b', 500, [], { capacity: { maxViewers: 0 } }));
    expect((await placement.place('r1', 'subscribe'))?.nodeId).toBe('a');
    expect((await placement.place('r1', 'subscribe'))?.nodeId).toBe('b');
  });

  it('splits a burst of grants by the viewers it placed since the last reports, per room', async () => {
    const placement = make(20);
    const big = { capacity: { maxViewers: 100 } };
    await placement.noteReport(node('a', 0, [room('r1', 0), room('r2', 0)], big));
    await placement.noteReport(node('b', 0, [], big));
    await placement.noteReport(node('c', 0, [], big));
    const counts: Record<string, Record<string, number>> = { r1: {}, r2: {} };
    for (let i = 0; i < 30; i++) {
      for (const r of ['r1', 'r2'] as const) {
        const placed = await placement.place(r, 'subscribe');
        counts[r]![placed!.nodeId] = (counts[r]![placed!.nodeId] ?? 0) + 1;
        if (placed!.nodeId !== 'a') expect(placed!.relayFrom?.nodeId).toBe('a');
      }
    }
    // 20 of each room on the origin; each room's overflow together on one edge (one relay per room).
    expect(counts).toEqual({ r1: { a: 20, b: 10 }, r2: { a: 20, c: 10 } });
    // b's report now shows its relay; its pending count is gone, the report keeps r1 there.
    await placement.noteReport(node('b', 10, [room('r1', 10, 'a')], big));
    expect((await placement.place('r1', 'subscribe'))?.nodeId).toBe('b');
  });

  it('shows the relays healthy nodes report in the admin view', async () => {
    const placement = make(3);
    await placement.noteReport(node('gone', 1, [room('r1', 1, 'a')]));
    now += 10_001;
    await placement.noteReport(node('a', 3, [room('r1', 3), room('r2', 1)]));
    await placement.noteReport(node('b', 3, [room('r1', 2, 'a'), room('r3', 1, 'c')]));
    await placement.noteReport(node('c', 1, [room('r3', 1)]));
    const view = await placement.view(undefined);
    expect(view.relays).toEqual([
      { roomId: 'r1', from: 'a', to: 'b' },
      { roomId: 'r3', from: 'c', to: 'b' },
    ]);
    expect(view.nodes.find((n) => n.nodeId === 'b')?.rooms).toEqual([room('r1', 2, 'a'), room('r3', 1, 'c')]);
  });
});
