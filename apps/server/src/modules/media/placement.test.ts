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

  it("puts viewers on the room's origin, and refuses them (503 sfu_full) when it is full, draining or silent", async () => {
    await placement.noteReport(report('a'));
    await placement.noteReport(report('b', { load: { viewers: 1, publishers: 1, sessions: 2 } }));
    await placement.directory.setOrigin('r1', 'b');
    expect((await placement.place('r1', 'subscribe'))?.nodeId).toBe('b');
    // b held one viewer of two, and one more was just placed there.
    expect(await refusal(placement.place('r1', 'subscribe'))).toEqual({ code: 'sfu_full', retryAfter: '3' });
    await placement.noteReport(report('b', { draining: true }));
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
    new Placement({ directory: new InMemoryMediaDirectory({ ttlMs: 10_000 }), retryAfterSeconds: 3, logger });
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
