import type { SfuNodeReport } from '@fusionflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { adapterVariants } from '../realtime/test-redis.js';
import { InMemoryMediaDirectory } from './in-memory-media-directory.js';
import type { MediaDirectory } from './media-directory.js';
import { RedisMediaDirectory } from './redis-media-directory.js';

/** The directory's clock: tests move it, nothing waits. */
let now = 1_700_000_000_000;
const clock = () => now;
const TTL = 15_000;
const options = { ttlMs: TTL, retentionMs: 10 * TTL, now: clock };

const variants = adapterVariants<MediaDirectory>(
  () => new InMemoryMediaDirectory(options),
  (redis, prefix) => new RedisMediaDirectory(redis, prefix, options),
);

let n = 0;
const report = (nodeId: string, patch: Partial<SfuNodeReport> = {}): SfuNodeReport => ({
  nodeId,
  url: `http://10.0.0.${++n}:8090`,
  draining: false,
  capacity: { maxViewers: 100 },
  load: { viewers: 0, publishers: 0, sessions: 0 },
  rooms: [],
  sentAt: new Date(now).toISOString(),
  ...patch,
});

describe.each(variants)('MediaDirectory contract on $name', (variant) => {
  let directory: MediaDirectory;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ adapter: directory, close } = await variant.open());
  });
  afterAll(() => close());

  it('stores reports by node id, the latest replacing the one before, and lists them by id', async () => {
    const a = report('node-b', { load: { viewers: 3, publishers: 1, sessions: 4 } });
    await directory.upsert(report('node-a'));
    await directory.upsert(a);
    const newer = report('node-a', {
      draining: true,
      rooms: [{ roomId: 'r1' as never, hasPublisher: true, viewers: 2 }],
    });
    await directory.upsert(newer);
    const nodes = await directory.nodes();
    expect(nodes.map((x) => x.report.nodeId)).toEqual(['node-a', 'node-b']);
    expect(nodes[0]).toEqual({ report: newer, lastSeenMs: now, healthy: true });
    expect(await directory.node('node-b')).toEqual({ report: a, lastSeenMs: now, healthy: true });
    expect(await directory.node('nobody')).toBeUndefined();
  });

  it('keeps the rooms a node relays from an origin (relayFrom) as it reported them', async () => {
    const edge = report('node-edge', {
      rooms: [
        { roomId: 'r1' as never, hasPublisher: false, viewers: 4, relayFrom: 'node-a' },
        { roomId: 'r2' as never, hasPublisher: true, viewers: 1 },
      ],
    });
    await directory.upsert(edge);
    const stored = await directory.node('node-edge');
    expect(stored?.report.rooms).toEqual(edge.rooms);
    expect(stored?.report.rooms[1]).not.toHaveProperty('relayFrom');
    expect((await directory.nodes()).find((x) => x.report.nodeId === 'node-edge')?.report).toEqual(edge);
  });

  it('calls a node unhealthy past the TTL, healthy again on its next report, and forgets it past the retention', async () => {
    await directory.upsert(report('quiet'));
    await directory.upsert(report('chatty'));
    now += TTL + 1;
    await directory.upsert(report('chatty'));
    expect((await directory.node('quiet'))?.healthy).toBe(false);
    expect((await directory.node('chatty'))?.healthy).toBe(true);
    await directory.upsert(report('quiet'));
    expect((await directory.node('quiet'))?.healthy).toBe(true);
    now += 10 * TTL + 1;
    await directory.upsert(report('chatty'));
    expect(await directory.expire()).toEqual(expect.arrayContaining(['quiet', 'node-a', 'node-b']));
    expect(await directory.node('quiet')).toBeUndefined();
    expect((await directory.nodes()).map((x) => x.report.nodeId)).toEqual(['chatty']);
    expect(await directory.expire()).toEqual([]);
  });

  it('keeps, moves and clears room origins; a conditional clear only takes away the node it names', async () => {
    expect(await directory.origin('room-1')).toBeUndefined();
    await directory.setOrigin('room-1', 'node-a');
    await directory.setOrigin('room-2', 'node-b');
    expect(await directory.origin('room-1')).toBe('node-a');
    await directory.setOrigin('room-1', 'node-c');
    expect(await directory.origin('room-1')).toBe('node-c');
    await directory.clearOrigin('room-1', 'node-a');
    expect(await directory.origin('room-1')).toBe('node-c');
    await directory.clearOrigin('room-1', 'node-c');
    expect(await directory.origin('room-1')).toBeUndefined();
    expect(await directory.origins()).toEqual([{ roomId: 'room-2', nodeId: 'node-b' }]);
    await directory.clearOrigin('room-2');
    expect(await directory.origins()).toEqual([]);
  });

  it('takes a burst of reports from many nodes at once without losing one', async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `burst-${String(i).padStart(2, '0')}`);
    await Promise.all(ids.map((id) => directory.upsert(report(id))));
    const listed = (await directory.nodes()).map((x) => x.report.nodeId).filter((id) => id.startsWith('burst-'));
    expect(listed).toEqual(ids);
  });
});
