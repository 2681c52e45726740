import type { MediaState, PeerId, PeerRole, RoomId, UserId } from '@fusionflow/protocol';

/**
 * One member of a room as the canonical state holds it: membership, role, the media it is
 * expected to send, and its reconnect slot (which connection holds it, until when it waits for a
 * dropped connection to come back).
 */
export interface MemberRecord {
  peerId: PeerId;
  userId: UserId;
  displayName: string;
  /** The language the member reads chat in. */
  language: string;
  role: PeerRole;
  guest: boolean;
  media: MediaState;
  connected: boolean;
  /** Epoch milliseconds. */
  joinedAt: number;
  /** Order of joining within the room (assigned by the store); the later peer of a pair makes the offer. */
  seq: number;
  /** SHA-256 (hex) of the secret part of the resume token. */
  resumeHash: string;
  /** The connection (Socket.IO socket id) holding the slot. */
  connection: string;
  /** While disconnected: when the slot is released (epoch ms); null while connected. */
  graceUntil: number | null;
}

export type NewMember = Omit<MemberRecord, 'seq'>;
export type MemberPatch = Partial<
  Pick<MemberRecord, 'media' | 'connected' | 'connection' | 'graceUntil' | 'resumeHash' | 'language'>
>;

export type AddResult =
  | { ok: true; member: MemberRecord; expired: MemberRecord[] }
  | { ok: false; reason: 'full'; expired: MemberRecord[] };

export interface RemoveConditions {
  /** Only if this connection still holds the slot. */
  connection?: string;
  /** Only if the slot is waiting for a reconnect. */
  disconnected?: boolean;
}

/**
 * The canonical call state: who is in which room, with what role and expected media, and the
 * reconnect slots. Every operation is atomic, so several server processes can share one store
 * (RedisRoomStateStore); MemoryRoomStateStore is the one-process default. The same contract
 * tests (room-state-store.test.ts) run against both.
 */
export interface RoomStateStore {
  /**
   * Add a member, first releasing slots whose grace period ended by `now` (returned as
   * `expired`), refusing when the room already holds `capacity` members (null: no limit).
   */
  add(roomId: RoomId, member: NewMember, options: { capacity: number | null; now: number }): Promise<AddResult>;
  get(roomId: RoomId, peerId: PeerId): Promise<MemberRecord | undefined>;
  /** Several members at once, in the order asked (undefined where missing). */
  getMany(roomId: RoomId, peerIds: readonly PeerId[]): Promise<(MemberRecord | undefined)[]>;
  /** Every member, in joining order. */
  list(roomId: RoomId): Promise<MemberRecord[]>;
  /** Change a member; with `ifConnection`, only while that connection holds the slot. Undefined when nothing changed. */
  update(roomId: RoomId, peerId: PeerId, patch: MemberPatch, ifConnection?: string): Promise<MemberRecord | undefined>;
  /** Remove a member (when the conditions hold); the removed record, or undefined. */
  remove(roomId: RoomId, peerId: PeerId, conditions?: RemoveConditions): Promise<MemberRecord | undefined>;
  /** Remove every member of a room (it ended); the removed records. */
  clear(roomId: RoomId): Promise<MemberRecord[]>;
  close(): Promise<void>;
}

const clone = (m: MemberRecord): MemberRecord => ({ ...m, media: { ...m.media } });
const bySeq = (a: MemberRecord, b: MemberRecord) => a.seq - b.seq;

/** The one-process store: maps in memory. */
export class MemoryRoomStateStore implements RoomStateStore {
  readonly #rooms = new Map<RoomId, { seq: number; members: Map<PeerId, MemberRecord> }>();

  async add(roomId: RoomId, member: NewMember, o: { capacity: number | null; now: number }): Promise<AddResult> {
    let room = this.#rooms.get(roomId);
    if (!room) {
      room = { seq: 0, members: new Map() };
      this.#rooms.set(roomId, room);
    }
    const expired: MemberRecord[] = [];
    for (const [id, m] of room.members) {
      if (m.graceUntil !== null && m.graceUntil <= o.now) {
        room.members.delete(id);
        expired.push(m);
      }
    }
    if (o.capacity !== null && room.members.size >= o.capacity) {
      if (room.members.size === 0) this.#rooms.delete(roomId);
      return { ok: false, reason: 'full', expired };
    }
    const record: MemberRecord = { ...member, media: { ...member.media }, seq: ++room.seq };
    room.members.set(record.peerId, record);
    return { ok: true, member: clone(record), expired };
  }

  async get(roomId: RoomId, peerId: PeerId): Promise<MemberRecord | undefined> {
    const m = this.#rooms.get(roomId)?.members.get(peerId);
    return m && clone(m);
  }

  async getMany(roomId: RoomId, peerIds: readonly PeerId[]): Promise<(MemberRecord | undefined)[]> {
    const members = this.#rooms.get(roomId)?.members;
    return peerIds.map((id) => {
      const m = members?.get(id);
      return m && clone(m);
    });
  }

  async list(roomId: RoomId): Promise<MemberRecord[]> {
    return [...(this.#rooms.get(roomId)?.members.values() ?? [])].map(clone).sort(bySeq);
  }

  async update(
    roomId: RoomId,
    peerId: PeerId,
    patch: MemberPatch,
    ifConnection?: string,
  ): Promise<MemberRecord | undefined> {
    const m = this.#rooms.get(roomId)?.members.get(peerId);
    if (!m || (ifConnection !== undefined && m.connection !== ifConnection)) return undefined;
    Object.assign(m, patch, patch.media ? { media: { ...patch.media } } : {});
    return clone(m);
  }

  async remove(roomId: RoomId, peerId: PeerId, c: RemoveConditions = {}): Promise<MemberRecord | undefined> {
    const room = this.#rooms.get(roomId);
    const m = room?.members.get(peerId);
    if (!room || !m) return undefined;
    if (c.connection !== undefined && m.connection !== c.connection) return undefined;
    if (c.disconnected && m.connected) return undefined;
    room.members.delete(peerId);
    // The join counter stays with the room while it has members; an empty room is forgotten.
    if (room.members.size === 0) this.#rooms.delete(roomId);
    return m;
  }

  async clear(roomId: RoomId): Promise<MemberRecord[]> {
    const members = [...(this.#rooms.get(roomId)?.members.values() ?? [])].sort(bySeq);
    this.#rooms.delete(roomId);
    return members;
  }

  /** Rooms held (tests check that nothing lingers). */
  get size(): number {
    return this.#rooms.size;
  }

  async close(): Promise<void> {
    this.#rooms.clear();
  }
}
