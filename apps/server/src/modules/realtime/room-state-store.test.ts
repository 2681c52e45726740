import { asPeerId, asRoomId, asUserId, NO_MEDIA, type PeerId } from '@fusionflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisRoomStateStore } from './redis-room-state-store.js';
import { MemoryRoomStateStore, type NewMember, type RoomStateStore } from './room-state-store.js';
import { adapterVariants } from './test-redis.js';

const variants = adapterVariants<RoomStateStore>(
  () => new MemoryRoomStateStore(),
  (redis, prefix) => new RedisRoomStateStore(redis, prefix),
);

let n = 0;
const room = () => asRoomId(`room-${++n}`);
const member = (peer: string, patch: Partial<NewMember> = {}): NewMember => ({
  language: 'en',
  peerId: asPeerId(peer),
  userId: asUserId(`user-${peer}`),
  displayName: `Peer ${peer}`,
  role: 'participant',
  guest: false,
  media: { ...NO_MEDIA },
  connected: true,
  joinedAt: 1_700_000_000_000,
  resumeHash: `hash-${peer}`,
  connection: `conn-${peer}`,
  graceUntil: null,
  ...patch,
});

describe.each(variants)('RoomStateStore contract on $name', (variant) => {
  let store: RoomStateStore;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ adapter: store, close } = await variant.open());
  });
  afterAll(() => close());

  it('adds members in joining order with increasing sequence numbers, and reads them back', async () => {
    const r = room();
    const a = await store.add(r, member('a', { role: 'host' }), { capacity: 4, now: 0 });
    const b = await store.add(r, member('b', { media: { camera: true, mic: false, screen: false } }), {
      capacity: 4,
      now: 0,
    });
    expect(a.ok && b.ok).toBe(true);
    if (!a.ok || !b.ok) return;
    expect(b.member.seq).toBeGreaterThan(a.member.seq);
    expect(await store.get(r, asPeerId('b'))).toEqual(b.member);
    expect((await store.list(r)).map((m) => m.peerId)).toEqual(['a', 'b']);
    expect(await store.getMany(r, [asPeerId('b'), asPeerId('zz'), asPeerId('a')])).toEqual([
      b.member,
      undefined,
      a.member,
    ]);
    expect(await store.get(r, asPeerId('zz'))).toBeUndefined();
    expect(await store.list(room())).toEqual([]);
  });

  it('refuses a member beyond the capacity, and none is the limit when capacity is null', async () => {
    const r = room();
    for (const p of ['a', 'b', 'c', 'd'])
      expect((await store.add(r, member(p), { capacity: 4, now: 0 })).ok).toBe(true);
    const fifth = await store.add(r, member('e'), { capacity: 4, now: 0 });
    expect(fifth).toEqual({ ok: false, reason: 'full', expired: [] });
    expect(await store.list(r)).toHaveLength(4);
    const open = room();
    for (let i = 0; i < 6; i++)
      expect((await store.add(open, member(`p${i}`), { capacity: null, now: 0 })).ok).toBe(true);
  });

  it('admits many concurrent joins exactly up to the capacity', async () => {
    const r = room();
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => store.add(r, member(`c${i}`), { capacity: 4, now: 0 })),
    );
    expect(results.filter((x) => x.ok)).toHaveLength(4);
    expect(await store.list(r)).toHaveLength(4);
  });

  it('releases slots whose grace period ended when someone joins, and reports them', async () => {
    const r = room();
    await store.add(r, member('a'), { capacity: 2, now: 0 });
    await store.add(r, member('b', { connected: false, graceUntil: 1000 }), { capacity: 2, now: 0 });
    expect((await store.add(r, member('c'), { capacity: 2, now: 999 })).ok).toBe(false);
    const later = await store.add(r, member('c'), { capacity: 2, now: 1000 });
    expect(later.ok).toBe(true);
    expect(later.expired.map((m) => m.peerId)).toEqual(['b']);
    expect((await store.list(r)).map((m) => m.peerId)).toEqual(['a', 'c']);
  });

  it('updates a member, only while the given connection holds the slot', async () => {
    const r = room();
    await store.add(r, member('a'), { capacity: 4, now: 0 });
    const media = { camera: true, mic: true, screen: false };
    const updated = await store.update(r, asPeerId('a'), { media }, 'conn-a');
    expect(updated).toMatchObject({ peerId: 'a', media, connected: true });
    expect(await store.update(r, asPeerId('a'), { connected: false }, 'someone-else')).toBeUndefined();
    const dropped = await store.update(r, asPeerId('a'), { connected: false, graceUntil: 5000 });
    expect(dropped).toMatchObject({ connected: false, graceUntil: 5000, media });
    const back = await store.update(r, asPeerId('a'), { connected: true, graceUntil: null, connection: 'conn-2' });
    expect(back).toMatchObject({ connected: true, graceUntil: null, connection: 'conn-2', media });
    expect(await store.get(r, asPeerId('a'))).toEqual(back);
    expect(await store.update(r, asPeerId('nobody'), { connected: false })).toBeUndefined();
  });

  it('removes a member only when the conditions hold, and forgets an empty room', async () => {
    const r = room();
    await store.add(r, member('a'), { capacity: 4, now: 0 });
    await store.add(r, member('b'), { capacity: 4, now: 0 });
    expect(await store.remove(r, asPeerId('a'), { connection: 'other' })).toBeUndefined();
    expect(await store.remove(r, asPeerId('a'), { disconnected: true })).toBeUndefined();
    expect((await store.remove(r, asPeerId('a'), { connection: 'conn-a' }))?.peerId).toBe('a');
    expect(await store.remove(r, asPeerId('a'))).toBeUndefined();
    await store.update(r, asPeerId('b'), { connected: false, graceUntil: 10 });
    expect((await store.remove(r, asPeerId('b'), { disconnected: true, connection: 'conn-b' }))?.peerId).toBe('b');
    expect(await store.list(r)).toEqual([]);
    // A new first member starts a fresh room.
    const again = await store.add(r, member('c'), { capacity: 4, now: 0 });
    expect(again.ok && again.member.seq).toBe(1);
  });

  it('clears a room and hands back its members', async () => {
    const r = room();
    const ids: PeerId[] = [asPeerId('a'), asPeerId('b'), asPeerId('c')];
    for (const id of ids) await store.add(r, member(id), { capacity: null, now: 0 });
    expect((await store.clear(r)).map((m) => m.peerId)).toEqual(ids);
    expect(await store.list(r)).toEqual([]);
    expect(await store.clear(r)).toEqual([]);
  });

  it('keeps rooms apart', async () => {
    const r1 = room();
    const r2 = room();
    await store.add(r1, member('a'), { capacity: 1, now: 0 });
    expect((await store.add(r2, member('a'), { capacity: 1, now: 0 })).ok).toBe(true);
    expect(await store.remove(r2, asPeerId('a'))).toBeDefined();
    expect(await store.get(r1, asPeerId('a'))).toBeDefined();
  });
});
