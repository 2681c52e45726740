import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  AppError,
  Counter,
  conflict,
  Emitter,
  Gauge,
  type Logger,
  logListenerErrors,
  type Registry,
  unavailable,
} from '@fusionflow/kit';
import {
  asPeerId,
  ErrorCode,
  JoinMessage,
  LeaveMessage,
  NO_MEDIA,
  type PeerId,
  type PeerLeftReason,
  type PeerState,
  type RemovedMessage,
  type Room,
  type RoomId,
  type RoomKind,
  type RoomState,
} from '@fusionflow/protocol';
import type { Session } from '../identity/access-tokens.js';
import type { RoomService } from '../rooms/room-service.js';
import type { RealtimeGateway, SocketContext } from './realtime-gateway.js';
import type { MemberRecord, RoomStateStore } from './room-state-store.js';

/** How a module opens rooms of one kind to `join` (calls register `call`, live streaming `live`). */
export interface RoomKindPolicy {
  /** Most members at once; null for no limit. */
  capacity: number | null;
  /**
   * The members are an audience (a live room's viewers): nobody is told about each other's comings
   * and goings (no `peer-joined`, `peer-left`, `room-state` broadcasts), and `joined` lists only the
   * host and the newcomer. Keeps a join O(1) in messages however many watch.
   */
  audience?: boolean;
  /** Runs before a new member is admitted (not on a resume); throw an AppError to refuse. */
  admit?(room: Room, session: Session): void | Promise<void>;
  /**
   * Runs right after a new member was added, with the members that joined before it; throw an
   * AppError to refuse (the slot is taken back before anyone hears of it). Of two joins racing
   * each other the later always sees the earlier, so a rule over the members checked here holds
   * under concurrency (on every process), which `admit` alone cannot promise.
   */
  confirm?(room: Room, session: Session, earlier: readonly MemberRecord[]): void | Promise<void>;
  /** Runs after a new member was admitted (e.g. the room goes live); may return the room as it is now. */
  onJoined?(room: Room, member: MemberRecord): Room | undefined | Promise<Room | undefined>;
}

/** Runs before every join of any kind (also a resume); throw an AppError to refuse (e.g. a room ban). */
export type JoinGate = (room: Room, session: Session) => void | Promise<void>;

/** What happened to a room's membership; modules subscribe to these. */
export type PresenceEvent =
  | { type: 'joined'; roomId: RoomId; room: Room; member: MemberRecord; ctx: SocketContext; resumed: boolean }
  | { type: 'disconnected'; roomId: RoomId; member: MemberRecord }
  | { type: 'left'; roomId: RoomId; member: MemberRecord; reason: PeerLeftReason };

export interface RoomPresenceOptions {
  gateway: RealtimeGateway;
  store: RoomStateStore;
  rooms: RoomService;
  graceSeconds: number;
  logger: Logger;
  metrics: Registry;
}

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const sameHash = (a: string, b: string) => a.length === b.length && timingSafeEqual(Buffer.from(a), Buffer.from(b));

export function toPeerState(m: MemberRecord): PeerState {
  return {
    peerId: m.peerId,
    userId: m.userId,
    displayName: m.displayName,
    role: m.role,
    guest: m.guest,
    media: { ...m.media },
    connected: m.connected,
    joinedAt: new Date(m.joinedAt).toISOString(),
  };
}

/**
 * Who is in which room: the `join` and `leave` messages, reconnect slots with their grace period,
 * and the broadcasts that keep every member's view in step (`joined`, `peer-joined`, `peer-left`,
 * `room-state`). The canonical state lives in the RoomStateStore; this object owns only the grace
 * timers of connections that dropped on this process.
 *
 * A dropped connection keeps its slot for `graceSeconds`: the others see it `connected: false`
 * (a `room-state`), and a `join` with the slot's resume token — or from the same user while the
 * slot waits — takes it back without a `peer-left`/`peer-joined`. After the grace period the slot
 * is released with `peer-left { reason: 'timeout' }`.
 */
export interface PresenceEvents {
  [event: string]: unknown;
  /** Joins, drops and departures of every room this process serves. */
  presence: PresenceEvent;
}

export class RoomPresence extends Emitter<PresenceEvents> {
  readonly #policies = new Map<RoomKind, RoomKindPolicy>();
  readonly #gates: JoinGate[] = [];
  readonly #graceTimers = new Map<string, NodeJS.Timeout>();
  /** Rooms with members connected to this process, and those connections (for the rooms gauge). */
  readonly #localRooms = new Map<RoomId, Set<string>>();
  readonly #log: Logger;
  readonly #joins: Counter<'kind' | 'resumed'>;
  readonly #reconnects: Counter;
  #closed = false;

  constructor(private readonly o: RoomPresenceOptions) {
    super(logListenerErrors(o.logger));
    this.#log = o.logger;
    const localRooms = this.#localRooms;
    new Gauge({
      name: 'realtime_rooms',
      help: 'Rooms with at least one member connected to this process',
      registers: [o.metrics],
      collect() {
        this.set(localRooms.size);
      },
    });
    this.#joins = new Counter({
      name: 'realtime_joins_total',
      help: 'Room joins, by room kind and whether an earlier slot was resumed',
      labelNames: ['kind', 'resumed'] as const,
      registers: [o.metrics],
    });
    this.#reconnects = new Counter({
      name: 'realtime_reconnects_total',
      help: 'Dropped connections that came back within the grace period and resumed their slot',
      registers: [o.metrics],
    });
    o.gateway.handle('join', JoinMessage, (ctx, msg) => this.#whenOpen(() => this.#join(ctx, msg)));
    o.gateway.handle('leave', LeaveMessage, (ctx) => this.#whenOpen(() => this.#leave(ctx)));
    // Kept after close: the gateway closes last, and the connections it closes then must still mark
    // their slots (so another process, or this one restarted, resumes or releases them). The gateway
    // lets go of every listener when it has closed.
    o.gateway.on('disconnect', ({ ctx }) => this.#onDisconnect(ctx));
  }

  /** Open rooms of a kind to `join`. */
  registerKind(kind: RoomKind, policy: RoomKindPolicy): void {
    if (this.#policies.has(kind)) throw new Error(`rooms of kind ${kind} already have a policy`);
    this.#policies.set(kind, policy);
  }

  /** Check every join (of any kind) before it is admitted. */
  addGate(gate: JoinGate): void {
    this.#gates.push(gate);
  }

  /** The current members of a room (slots whose grace period ended are released first). */
  async members(roomId: RoomId): Promise<MemberRecord[]> {
    const now = Date.now();
    const all = await this.o.store.list(roomId);
    const live: MemberRecord[] = [];
    let audience: boolean | undefined;
    for (const m of all) {
      if (!m.connected && m.graceUntil !== null && m.graceUntil <= now) {
        const removed = await this.o.store.remove(roomId, m.peerId, { connection: m.connection, disconnected: true });
        if (!removed) continue;
        audience ??= await this.#audienceOf(roomId);
        this.#announceLeft(roomId, audience, removed, 'timeout');
      } else live.push(m);
    }
    return live;
  }

  /**
   * The languages read in a room now (members whose slot has not expired). A pure read: unlike
   * `members`, it releases no slot and broadcasts nothing, so asking it on every message is cheap.
   */
  async languages(roomId: RoomId): Promise<string[]> {
    const now = Date.now();
    const present = (await this.o.store.list(roomId)).filter(
      (m) => m.connected || m.graceUntil === null || m.graceUntil > now,
    );
    return [...new Set(present.map((m) => m.language))];
  }

  /** The room's state; an audience room lists only its hosts unless `members` says otherwise. */
  async roomState(room: Room, members?: MemberRecord[]): Promise<RoomState> {
    const list =
      members ??
      (await this.members(room.id)).filter((m) => !this.#policies.get(room.kind)?.audience || m.role === 'host');
    return {
      roomId: room.id,
      kind: room.kind,
      status: room.status,
      capacity: this.#policies.get(room.kind)?.capacity ?? null,
      peers: list.map(toPeerState),
    };
  }

  /**
   * Take a member out of its room (a private call's balance ran out, a moderator): its connection is
   * told why (`removed`) and leaves the room's channels on whichever process holds it; the others
   * see `peer-left { reason: 'removed' }`. False when the member was not there.
   */
  async remove(roomId: RoomId, peerId: PeerId, notice: RemovedMessage): Promise<boolean> {
    const removed = await this.o.store.remove(roomId, peerId);
    if (!removed) return false;
    this.#clearTimer(roomId, peerId);
    this.o.gateway.emitToPeer(peerId, 'removed', notice);
    this.o.gateway.evict(roomId, peerId, removed.language);
    this.#untrack(roomId, removed.connection);
    this.#announceLeft(roomId, await this.#audienceOf(roomId), removed, 'removed');
    this.#log.info({ roomId, peerId, reason: notice.reason }, 'peer removed');
    return true;
  }

  /** A room changed status: when it ended, everybody leaves it. */
  async roomChanged(room: Room): Promise<void> {
    if (room.status !== 'ended') return;
    const members = await this.o.store.clear(room.id);
    for (const m of members) this.#clearTimer(room.id, m.peerId);
    const endReason = this.o.rooms.endReason(room.id);
    this.o.gateway.emitToRoom(room.id, 'room-state', {
      ...(await this.roomState(room, [])),
      ...(endReason ? { endReason } : {}),
    });
    this.o.gateway.clearRoom(room.id, members);
    this.#localRooms.delete(room.id);
    for (const m of members) this.#emit({ type: 'left', roomId: room.id, member: m, reason: 'ended' });
    if (members.length > 0) this.#log.info({ roomId: room.id, members: members.length }, 'room ended; members left');
  }

  #whenOpen<T>(work: () => T): T {
    if (this.#closed) throw unavailable('rooms are closed');
    return work();
  }

  /**
   * Idempotent: stops the grace timers (slots stay in the store for another process or a restart);
   * joins are refused with `unavailable`.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const timer of this.#graceTimers.values()) clearTimeout(timer);
    this.#graceTimers.clear();
    this.#localRooms.clear();
    this.removeAllListeners();
  }

  // --- messages -------------------------------------------------------------------------------

  async #join(ctx: SocketContext, msg: JoinMessage): Promise<void> {
    if (ctx.membership) {
      throw conflict(ctx.membership.roomId === msg.roomId ? 'already in this room' : 'leave the current room first');
    }
    const room = await this.o.rooms.get(msg.roomId);
    const policy = this.#policies.get(room.kind);
    if (!policy) throw new AppError(ErrorCode.WrongRoomKind, `${room.kind} rooms cannot be joined here`);
    if (room.status === 'ended') throw conflict('the room has ended', ErrorCode.RoomEnded);
    for (const gate of this.#gates) await gate(room, ctx.session);
    const language = msg.language ?? ctx.session.language;
    const log = this.#log.child({ roomId: room.id });
    const now = Date.now();
    const secret = randomBytes(18).toString('base64url');
    const resumeHash = sha256(secret);

    let member: MemberRecord | undefined;
    let previous: string | undefined;
    const slot = await this.#resumable(room.id, ctx.session, msg.resume, now);
    if (slot) {
      member = await this.o.store.update(
        room.id,
        slot.peerId,
        { connected: true, connection: ctx.id, graceUntil: null, resumeHash, language },
        slot.connection,
      );
      if (member) previous = slot.connection;
    }
    if (!member) {
      await policy.admit?.(room, ctx.session);
      const added = await this.o.store.add(
        room.id,
        {
          peerId: asPeerId(randomBytes(9).toString('base64url')),
          userId: ctx.session.userId,
          displayName: ctx.session.displayName,
          language,
          role: ctx.session.userId === room.ownerId ? 'host' : 'participant',
          guest: ctx.session.isGuest,
          media: { ...NO_MEDIA },
          connected: true,
          joinedAt: now,
          resumeHash,
          connection: ctx.id,
          graceUntil: null,
        },
        { capacity: policy.capacity, now },
      );
      for (const m of added.expired) {
        this.#clearTimer(room.id, m.peerId);
        this.#announceLeft(room.id, this.#isAudience(room.kind), m, 'timeout');
      }
      if (!added.ok) {
        throw new AppError(ErrorCode.RoomFull, `the room is full (${policy.capacity} people at most)`);
      }
      member = added.member;
      if (policy.confirm) await this.#confirm(policy.confirm, room, ctx, member);
    }
    const resumed = previous !== undefined;
    if (resumed) {
      this.#clearTimer(room.id, member.peerId);
      // A half-open old connection (on any process) must not keep receiving this peer's messages.
      if (previous !== ctx.id) this.o.gateway.disconnectConnection(previous!);
    }
    await this.o.gateway.enter(ctx, { roomId: room.id, roomKind: room.kind, peerId: member.peerId, language });
    this.#track(room.id, ctx.id);

    let current = room;
    if (!resumed && policy.onJoined) current = (await policy.onJoined(room, member)) ?? room;
    const everyone = await this.members(room.id);
    // An audience sees only who hosts, not each other.
    const members = policy.audience
      ? everyone.filter((m) => m.peerId === member.peerId || m.role === 'host')
      : everyone;
    const self = members.find((m) => m.peerId === member.peerId) ?? member;
    const links = members
      .filter((m) => m.peerId !== self.peerId)
      .map((m) => ({ peerId: m.peerId, initiatorId: (m.seq > self.seq ? m : self).peerId }));
    const state = await this.roomState(current, members);
    ctx.send('joined', {
      self: toPeerState(self),
      roomState: state,
      links,
      resumed,
      resumeToken: `${self.peerId}.${secret}`,
      graceSeconds: this.o.graceSeconds,
    });
    if (policy.audience && self.role !== 'host') {
      if (resumed) this.#reconnects.inc();
    } else if (resumed) {
      this.#reconnects.inc();
      this.o.gateway.emitToRoom(room.id, 'room-state', state, [self.peerId]);
    } else {
      // The newcomer makes the offer to everyone already there.
      this.o.gateway.emitToRoom(
        room.id,
        'peer-joined',
        { peerId: self.peerId, initiatorId: self.peerId, peer: toPeerState(self) },
        [self.peerId],
      );
    }
    this.#joins.inc({ kind: room.kind, resumed: String(resumed) });
    log[policy.audience ? 'debug' : 'info'](
      { peerId: self.peerId, resumed, members: everyone.length },
      resumed ? 'peer resumed' : 'peer joined',
    );
    this.#emit({ type: 'joined', roomId: room.id, room: current, member: self, ctx, resumed });
  }

  /** Run a kind's `confirm` on a member just added; a refusal takes the slot back silently. */
  async #confirm(
    confirm: NonNullable<RoomKindPolicy['confirm']>,
    room: Room,
    ctx: SocketContext,
    member: MemberRecord,
  ): Promise<void> {
    try {
      const earlier = (await this.o.store.list(room.id)).filter((m) => m.seq < member.seq);
      await confirm(room, ctx.session, earlier);
    } catch (err) {
      await this.o.store.remove(room.id, member.peerId, { connection: ctx.id });
      throw err;
    }
  }

  /** The slot a join may take back: by resume token, or this user's slot that waits for a reconnect. */
  async #resumable(roomId: RoomId, session: Session, token: string | undefined, now: number) {
    const waiting = (m: MemberRecord | undefined): m is MemberRecord =>
      m !== undefined && m.userId === session.userId && (m.graceUntil === null || m.graceUntil > now);
    if (token) {
      const dot = token.indexOf('.');
      if (dot > 0) {
        const m = await this.o.store.get(roomId, asPeerId(token.slice(0, dot)));
        if (waiting(m) && sameHash(m.resumeHash, sha256(token.slice(dot + 1)))) return m;
      }
    }
    const members = await this.o.store.list(roomId);
    return members.find((m) => !m.connected && waiting(m));
  }

  async #leave(ctx: SocketContext): Promise<void> {
    const m = ctx.membership;
    if (!m) throw new AppError(ErrorCode.NotJoined, 'join a room first');
    const removed = await this.o.store.remove(m.roomId, m.peerId, { connection: ctx.id });
    await this.o.gateway.exit(ctx);
    this.#untrack(m.roomId, ctx.id);
    if (removed) {
      this.#announceLeft(m.roomId, this.#isAudience(m.roomKind), removed, 'left');
      this.#log.info({ roomId: m.roomId, peerId: m.peerId }, 'peer left');
    }
  }

  async #onDisconnect(ctx: SocketContext): Promise<void> {
    const m = ctx.membership;
    if (!m) return;
    ctx.membership = null;
    this.#untrack(m.roomId, ctx.id);
    // Also while shutting down: the slot is marked so another process (or this one, restarted) can resume it.
    const graceMs = this.o.graceSeconds * 1000;
    const updated = await this.o.store.update(
      m.roomId,
      m.peerId,
      { connected: false, graceUntil: Date.now() + graceMs },
      ctx.id,
    );
    // Resumed by a newer connection already, or gone: nothing to hold.
    if (!updated) return;
    this.#log.info({ roomId: m.roomId, peerId: m.peerId, graceSeconds: this.o.graceSeconds }, 'peer disconnected');
    this.#emit({ type: 'disconnected', roomId: m.roomId, member: updated });
    if (!this.#closed) {
      const key = `${m.roomId} ${m.peerId}`;
      const timer = setTimeout(() => {
        this.#graceTimers.delete(key);
        void this.#expire(m.roomId, m.roomKind, m.peerId, ctx.id);
      }, graceMs);
      timer.unref();
      this.#graceTimers.set(key, timer);
    }
    if (this.#isAudience(m.roomKind) && updated.role !== 'host') return;
    try {
      const room = await this.o.rooms.get(m.roomId);
      this.o.gateway.emitToRoom(m.roomId, 'room-state', await this.roomState(room));
    } catch (err) {
      this.#log.warn({ err, roomId: m.roomId }, 'could not broadcast the room state');
    }
  }

  async #expire(roomId: RoomId, kind: RoomKind, peerId: PeerId, connection: string): Promise<void> {
    try {
      const removed = await this.o.store.remove(roomId, peerId, { connection, disconnected: true });
      if (removed) {
        this.#log.info({ roomId, peerId }, 'reconnect grace period over; slot released');
        this.#announceLeft(roomId, this.#isAudience(kind), removed, 'timeout');
      }
    } catch (err) {
      this.#log.error({ err, roomId, peerId }, 'could not release a slot');
    }
  }

  // --- helpers --------------------------------------------------------------------------------

  /** Audience rooms (live) broadcast no membership among viewers; the kind says so on every process. */
  #isAudience(kind: RoomKind): boolean {
    return this.#policies.get(kind)?.audience === true;
  }

  async #audienceOf(roomId: RoomId): Promise<boolean> {
    try {
      return this.#isAudience((await this.o.rooms.get(roomId)).kind);
    } catch {
      return false;
    }
  }

  #announceLeft(roomId: RoomId, audience: boolean, member: MemberRecord, reason: PeerLeftReason): void {
    if (!audience || member.role === 'host') {
      this.o.gateway.emitToRoom(roomId, 'peer-left', { peerId: member.peerId, reason }, [member.peerId]);
    }
    this.#emit({ type: 'left', roomId, member, reason });
  }

  #clearTimer(roomId: RoomId, peerId: PeerId): void {
    const key = `${roomId} ${peerId}`;
    clearTimeout(this.#graceTimers.get(key));
    this.#graceTimers.delete(key);
  }

  #track(roomId: RoomId, connection: string): void {
    let set = this.#localRooms.get(roomId);
    if (!set) {
      set = new Set();
      this.#localRooms.set(roomId, set);
    }
    set.add(connection);
  }

  #untrack(roomId: RoomId, connection: string): void {
    const set = this.#localRooms.get(roomId);
    set?.delete(connection);
    if (set?.size === 0) this.#localRooms.delete(roomId);
  }

  #emit(event: PresenceEvent): void {
    this.emit('presence', event);
  }

  /** Grace timers running (tests check that none leak). */
  get pendingTimers(): number {
    return this.#graceTimers.size;
  }
}
