import type { PeerId, RoomId } from '@fusionflow/protocol';
import type { Redis } from 'ioredis';
import type {
  AddResult,
  MemberPatch,
  MemberRecord,
  NewMember,
  RemoveConditions,
  RoomStateStore,
} from './room-state-store.js';

/**
 * Lua scripts keep every read-modify-write atomic across server processes. Members live in one
 * hash per room (`<prefix>room:<id>:members`, peer id → JSON) beside a join counter
 * (`<prefix>room:<id>:seq`); both expire a day after the last change, so a crashed installation
 * leaves nothing behind for long.
 */
const ADD = `
local now = tonumber(ARGV[3])
local expired = {}
local count = 0
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all, 2 do
  local m = cjson.decode(all[i + 1])
  if m.graceUntil ~= nil and m.graceUntil ~= cjson.null and tonumber(m.graceUntil) <= now then
    redis.call('HDEL', KEYS[1], all[i])
    table.insert(expired, all[i + 1])
  else
    count = count + 1
  end
end
local capacity = tonumber(ARGV[2])
if capacity >= 0 and count >= capacity then
  return {0, cjson.encode(expired)}
end
local m = cjson.decode(ARGV[1])
m.seq = redis.call('INCR', KEYS[2])
local out = cjson.encode(m)
redis.call('HSET', KEYS[1], m.peerId, out)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return {1, cjson.encode(expired), out}
`;

const UPDATE = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
local m = cjson.decode(raw)
if ARGV[3] ~= '' and m.connection ~= ARGV[3] then return false end
for k, v in pairs(cjson.decode(ARGV[2])) do m[k] = v end
local out = cjson.encode(m)
redis.call('HSET', KEYS[1], ARGV[1], out)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return out
`;

const REMOVE = `
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return false end
local m = cjson.decode(raw)
if ARGV[2] ~= '' and m.connection ~= ARGV[2] then return false end
if ARGV[3] == '1' and m.connected then return false end
redis.call('HDEL', KEYS[1], ARGV[1])
if redis.call('HLEN', KEYS[1]) == 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
return raw
`;

const CLEAR = `
local all = redis.call('HVALS', KEYS[1])
redis.call('DEL', KEYS[1], KEYS[2])
return all
`;

const TTL_SECONDS = 24 * 3600;

type Scripted = Redis & {
  ffRoomAdd(members: string, seq: string, member: string, capacity: number, now: number, ttl: number): Promise<unknown>;
  ffRoomUpdate(
    members: string,
    seq: string,
    peerId: string,
    patch: string,
    ifConnection: string,
    ttl: number,
  ): Promise<string | null>;
  ffRoomRemove(
    members: string,
    seq: string,
    peerId: string,
    ifConnection: string,
    ifDisconnected: string,
  ): Promise<string | null>;
  ffRoomClear(members: string, seq: string): Promise<string[]>;
};

/** cjson writes an empty Lua table as `{}`; lists come back as arrays otherwise. */
const parseList = (json: string): MemberRecord[] => {
  const value = JSON.parse(json) as unknown;
  return Array.isArray(value) ? value.map((m) => JSON.parse(m as string) as MemberRecord) : [];
};
const bySeq = (a: MemberRecord, b: MemberRecord) => a.seq - b.seq;

/** The canonical call state in Redis, shared by every server process (REDIS_URL). */
export class RedisRoomStateStore implements RoomStateStore {
  readonly #redis: Scripted;

  /** `redis` stays the caller's to close; `prefix` namespaces every key. */
  constructor(
    redis: Redis,
    private readonly prefix: string,
  ) {
    redis.defineCommand('ffRoomAdd', { numberOfKeys: 2, lua: ADD });
    redis.defineCommand('ffRoomUpdate', { numberOfKeys: 2, lua: UPDATE });
    redis.defineCommand('ffRoomRemove', { numberOfKeys: 2, lua: REMOVE });
    redis.defineCommand('ffRoomClear', { numberOfKeys: 2, lua: CLEAR });
    this.#redis = redis as Scripted;
  }

  #keys(roomId: RoomId): [string, string] {
    return [`${this.prefix}room:${roomId}:members`, `${this.prefix}room:${roomId}:seq`];
  }

  async add(roomId: RoomId, member: NewMember, o: { capacity: number | null; now: number }): Promise<AddResult> {
    const [ok, expired, out] = (await this.#redis.ffRoomAdd(
      ...this.#keys(roomId),
      JSON.stringify(member),
      o.capacity ?? -1,
      o.now,
      TTL_SECONDS,
    )) as [number, string, string?];
    const gone = parseList(expired);
    if (ok !== 1 || !out) return { ok: false, reason: 'full', expired: gone };
    return { ok: true, member: JSON.parse(out) as MemberRecord, expired: gone };
  }

  async get(roomId: RoomId, peerId: PeerId): Promise<MemberRecord | undefined> {
    const raw = await this.#redis.hget(this.#keys(roomId)[0], peerId);
    return raw ? (JSON.parse(raw) as MemberRecord) : undefined;
  }

  async getMany(roomId: RoomId, peerIds: readonly PeerId[]): Promise<(MemberRecord | undefined)[]> {
    if (peerIds.length === 0) return [];
    const raws = await this.#redis.hmget(this.#keys(roomId)[0], ...peerIds);
    return raws.map((raw) => (raw ? (JSON.parse(raw) as MemberRecord) : undefined));
  }

  async list(roomId: RoomId): Promise<MemberRecord[]> {
    const raws = await this.#redis.hvals(this.#keys(roomId)[0]);
    return raws.map((raw) => JSON.parse(raw) as MemberRecord).sort(bySeq);
  }

  async update(
    roomId: RoomId,
    peerId: PeerId,
    patch: MemberPatch,
    ifConnection?: string,
  ): Promise<MemberRecord | undefined> {
    const out = await this.#redis.ffRoomUpdate(
      ...this.#keys(roomId),
      peerId,
      JSON.stringify(patch),
      ifConnection ?? '',
      TTL_SECONDS,
    );
    return out ? (JSON.parse(out) as MemberRecord) : undefined;
  }

  async remove(roomId: RoomId, peerId: PeerId, c: RemoveConditions = {}): Promise<MemberRecord | undefined> {
    const raw = await this.#redis.ffRoomRemove(
      ...this.#keys(roomId),
      peerId,
      c.connection ?? '',
      c.disconnected ? '1' : '0',
    );
    return raw ? (JSON.parse(raw) as MemberRecord) : undefined;
  }

  async clear(roomId: RoomId): Promise<MemberRecord[]> {
    const raws = await this.#redis.ffRoomClear(...this.#keys(roomId));
    return raws.map((raw) => JSON.parse(raw) as MemberRecord).sort(bySeq);
  }

  async close(): Promise<void> {
    // The connection belongs to whoever passed it in.
  }
}
