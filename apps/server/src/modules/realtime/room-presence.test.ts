import { createLogger, createMetricsRegistry } from '@fusionflow/kit';
import { asPeerId, asRoomId, asUserId, NO_MEDIA, type Room, type RoomId, type RoomKind } from '@fusionflow/protocol';
import { beforeEach, describe, expect, it } from 'vitest';
import type { RoomService } from '../rooms/room-service.js';
import type { RealtimeGateway } from './realtime-gateway.js';
import { type PresenceEvent, RoomPresence } from './room-presence.js';
import { MemoryRoomStateStore, type NewMember } from './room-state-store.js';

/**
 * RoomPresence on a process that has seen no join of the room (another process took them): what
 * it broadcasts and what it reads follow the store and the room's kind only. The gateway is a
 * recorder; nothing here opens a socket.
 */
const logger = createLogger({ level: 'silent', name: 'test' });
const NOW = Date.now();

let n = 0;
const member = (peer: string, patch: Partial<NewMember> = {}): NewMember => ({
  language: 'en',
  peerId: asPeerId(peer),
  userId: asUserId(`user-${peer}`),
  displayName: `Peer ${peer}`,
  role: 'participant',
  guest: false,
  media: { ...NO_MEDIA },
  connected: true,
  joinedAt: NOW,
  resumeHash: `hash-${peer}`,
  connection: `conn-${peer}`,
  graceUntil: null,
  ...patch,
});
/** A slot whose dropped connection's grace period is over (released at the next read that releases). */
const expired = (peer: string, patch: Partial<NewMember> = {}) =>
  member(peer, { connected: false, graceUntil: NOW - 1000, ...patch });

let store: MemoryRoomStateStore;
let broadcasts: { roomId: RoomId; name: string; body: unknown }[];
let events: PresenceEvent[];
let kinds: Map<RoomId, RoomKind>;
let presence: RoomPresence;

beforeEach(() => {
  store = new MemoryRoomStateStore();
  broadcasts = [];
  events = [];
  kinds = new Map();
  const gateway = {
    handle() {},
    on: () => () => {},
    emitToRoom: (roomId: RoomId, name: string, body: unknown) => void broadcasts.push({ roomId, name, body }),
    emitToPeer() {},
    evict() {},
  } as unknown as RealtimeGateway;
  const rooms = {
    get: async (id: RoomId) => ({ id, kind: kinds.get(id) ?? 'call', status: 'live' }) as Room,
  } as unknown as RoomService;
  presence = new RoomPresence({ gateway, store, rooms, graceSeconds: 30, logger, metrics: createMetricsRegistry() });
  presence.registerKind('call', { capacity: 4 });
  presence.registerKind('live', { capacity: null, audience: true });
  presence.on('presence', (e) => void events.push(e));
});

async function roomWith(kind: RoomKind, members: NewMember[]): Promise<RoomId> {
  const id = asRoomId(`room-${++n}`);
  kinds.set(id, kind);
  // Added as of before any grace period ended (an add releases the slots expired by then).
  for (const m of members) await store.add(id, m, { capacity: null, now: 0 });
  return id;
}

describe('RoomPresence.languages: the translation targets, read without side effects', () => {
  it("lists the languages of the slots held, leaves out an expired slot's, and releases nothing", async () => {
    const roomId = await roomWith('call', [
      member('a', { language: 'en' }),
      member('b', { language: 'es', connected: false, graceUntil: NOW + 60_000 }),
      expired('c', { language: 'fr' }),
      member('d', { language: 'es' }),
    ]);
    expect((await presence.languages(roomId)).sort()).toEqual(['en', 'es']);
    // The expired slot is still there, and nobody was told anything.
    expect((await store.list(roomId)).map((m) => m.peerId)).toEqual(['a', 'b', 'c', 'd']);
    expect(broadcasts).toEqual([]);
    expect(events).toEqual([]);
    // members() is the read that releases it (and says so).
    expect((await presence.members(roomId)).map((m) => m.peerId)).toEqual(['a', 'b', 'd']);
    expect(broadcasts).toEqual([{ roomId, name: 'peer-left', body: { peerId: 'c', reason: 'timeout' } }]);
  });
});

describe('RoomPresence: who is told of a departure follows the room kind, on any process', () => {
  it("a live room's viewer slot released here is not broadcast (an audience), a host's is", async () => {
    const roomId = await roomWith('live', [expired('viewer'), expired('host', { role: 'host' })]);
    expect(await presence.members(roomId)).toEqual([]);
    expect(broadcasts).toEqual([{ roomId, name: 'peer-left', body: { peerId: 'host', reason: 'timeout' } }]);
    // Billing and the rest still hear of both.
    expect(events.map((e) => e.type === 'left' && e.member.peerId)).toEqual(['viewer', 'host']);
  });

  it("a call's member slot released here is broadcast to the room", async () => {
    const roomId = await roomWith('call', [member('a'), expired('b')]);
    await presence.members(roomId);
    expect(broadcasts).toEqual([{ roomId, name: 'peer-left', body: { peerId: 'b', reason: 'timeout' } }]);
  });

  it('a member removed from a live room by a moderator is not broadcast to the audience', async () => {
    const roomId = await roomWith('live', [member('viewer')]);
    expect(await presence.remove(roomId, asPeerId('viewer'), { roomId, reason: 'moderation', message: 'bye' })).toBe(
      true,
    );
    expect(broadcasts).toEqual([]);
    expect(events).toMatchObject([{ type: 'left', reason: 'removed' }]);
  });
});
