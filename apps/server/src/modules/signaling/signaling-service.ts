import {
  AppError,
  badRequest,
  Counter,
  forbidden,
  Histogram,
  type Logger,
  type Registry,
  unavailable,
} from '@fusionflow/kit';
import {
  ErrorCode,
  MAX_CALL_PEERS,
  type MediaState,
  MediaStateMessage,
  type PeerId,
  ReplayRequestMessage,
  type Room,
  type RoomId,
  SignalMessage,
} from '@fusionflow/protocol';
import type { Session } from '../identity/access-tokens.js';
import type { Membership, RealtimeGateway, SocketContext } from '../realtime/realtime-gateway.js';
import type { RoomPresence } from '../realtime/room-presence.js';
import type { MemberRecord, RoomStateStore } from '../realtime/room-state-store.js';
import type { RoomService } from '../rooms/room-service.js';
import { type MediaStateFilter, NO_DROPS } from './media-state-drops.js';

export interface SignalingServiceOptions {
  gateway: RealtimeGateway;
  presence: RoomPresence;
  store: RoomStateStore;
  rooms: RoomService;
  logger: Logger;
  metrics: Registry;
  /** More admission rules for call rooms (paid private calls); throw an AppError to refuse. */
  admit?: (room: Room, session: Session) => Promise<void>;
  /** The same rules over the members already there, right after the join (RoomKindPolicy.confirm). */
  confirm?: (room: Room, session: Session, earlier: readonly MemberRecord[]) => void;
  /** TEST_HOOKS only: media-state deliveries to drop (MediaStateDrops); NO_DROPS otherwise. */
  drops?: MediaStateFilter;
}

/** Relay latency buckets in seconds (50 µs … 250 ms): the relay is one store read and one send. */
const RELAY_BUCKETS = [0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];

/**
 * Calls: peer-to-peer signaling in `call` rooms (a mesh of up to four). It opens call rooms to
 * `join` (capacity, paid calls need an account, the room goes live with its first member), relays
 * `signal` only between members of the same room, keeps each peer's expected media state
 * (`media-state`, broadcast to the room including the sender, which sends what the server holds),
 * and answers `replay-request` by replaying the canonical media state and asking the pair's
 * initiator to renegotiate.
 */
export class SignalingService {
  readonly #log: Logger;
  readonly #signals: Counter<'kind'>;
  readonly #relay: Histogram;
  readonly #replays: Counter<'reason'>;
  readonly #iceRestarts: Counter;
  readonly #drops: MediaStateFilter;
  #closed = false;

  constructor(private readonly o: SignalingServiceOptions) {
    this.#log = o.logger;
    this.#drops = o.drops ?? NO_DROPS;
    this.#signals = new Counter({
      name: 'signaling_signals_total',
      help: 'Signals relayed between call peers, by kind (offer, answer, candidate)',
      labelNames: ['kind'] as const,
      registers: [o.metrics],
    });
    this.#relay = new Histogram({
      name: 'signaling_relay_seconds',
      help: 'Time from receiving a signal to handing it to the target peer’s connection (on any process)',
      buckets: RELAY_BUCKETS,
      registers: [o.metrics],
    });
    this.#replays = new Counter({
      name: 'signaling_replay_requests_total',
      help: 'Replay requests from call peers, by reason',
      labelNames: ['reason'] as const,
      registers: [o.metrics],
    });
    this.#iceRestarts = new Counter({
      name: 'signaling_ice_restarts_total',
      help: 'Offers relayed that restart ICE',
      registers: [o.metrics],
    });

    o.presence.registerKind('call', {
      capacity: MAX_CALL_PEERS,
      admit: async (room, session) => {
        // Guests may join free calls; a paid call needs an account and the billing's consent.
        if (session.isGuest && (room.pricePerMinute ?? 0) > 0) throw forbidden('sign in to join a paid call');
        await o.admit?.(room, session);
      },
      confirm: (room, session, earlier) => o.confirm?.(room, session, earlier),
      onJoined: async (room) => (room.status === 'created' ? o.rooms.transition(room.id, 'live') : room),
    });
    o.gateway.handle('signal', SignalMessage, (ctx, msg) => this.#whenOpen(() => this.#signal(ctx, msg)));
    o.gateway.handle('media-state', MediaStateMessage, (ctx, msg) => this.#whenOpen(() => this.#mediaState(ctx, msg)));
    o.gateway.handle('replay-request', ReplayRequestMessage, (ctx, msg) =>
      this.#whenOpen(() => this.#replay(ctx, msg)),
    );
  }

  /** Idempotent: a closed service refuses calls' messages with `unavailable`. */
  close(): void {
    this.#closed = true;
    this.#drops.clear();
  }

  #whenOpen<T>(work: () => T): T {
    if (this.#closed) throw unavailable('calls are closed');
    return work();
  }

  // --- messages -------------------------------------------------------------------------------

  async #signal(ctx: SocketContext, msg: SignalMessage): Promise<void> {
    const started = process.hrtime.bigint();
    const m = this.#callMember(ctx);
    if (msg.to === m.peerId) throw badRequest('a peer cannot signal itself');
    const [self, target] = await this.o.store.getMany(m.roomId, [m.peerId, msg.to]);
    this.#checkSelf(ctx, self);
    if (!target) throw new AppError(ErrorCode.PeerNotFound, `no peer ${msg.to} in this room`);
    this.o.gateway.emitToPeer(msg.to, 'signal', { from: m.peerId, kind: msg.kind, payload: msg.payload } as never);
    this.#signals.inc({ kind: msg.kind });
    if (msg.kind === 'offer' && msg.payload.restartIce) this.#iceRestarts.inc();
    this.#relay.observe(Number(process.hrtime.bigint() - started) / 1e9);
  }

  async #mediaState(ctx: SocketContext, state: MediaState): Promise<void> {
    const m = this.#callMember(ctx);
    const updated = await this.o.store.update(m.roomId, m.peerId, { media: state }, ctx.id);
    this.#checkSelf(ctx, updated);
    // Everyone, the sender included: each client sends exactly what the server holds for it.
    this.#deliverMediaState(m.roomId, m.peerId, updated.media);
  }

  async #replay(ctx: SocketContext, msg: ReplayRequestMessage): Promise<void> {
    const m = this.#callMember(ctx);
    if (msg.peerId === m.peerId) throw badRequest('ask for a replay of another peer');
    const [self, other] = await this.o.store.getMany(m.roomId, [m.peerId, msg.peerId]);
    this.#checkSelf(ctx, self);
    if (!other) throw new AppError(ErrorCode.PeerNotFound, `no peer ${msg.peerId} in this room`);
    this.#replays.inc({ reason: msg.reason });
    this.#log.info({ roomId: m.roomId, peerId: m.peerId, of: other.peerId, reason: msg.reason }, 'replay requested');
    // Replay the canonical state: to the requester (its view of the peer) and to the peer (what it must send).
    this.#deliverMediaState(m.roomId, other.peerId, other.media, [self.peerId, other.peerId]);
    const initiator = self.seq > other.seq ? self : other;
    const responder = initiator === self ? other : self;
    this.o.gateway.emitToPeer(initiator.peerId, 'renegotiate', {
      peerId: responder.peerId,
      reason: msg.reason,
      restartIce: msg.reason === 'transport-failed',
      fresh: msg.reason === 'no-connection',
    });
  }

  // --- helpers --------------------------------------------------------------------------------

  #callMember(ctx: SocketContext): Membership {
    const m = ctx.membership;
    if (!m) throw new AppError(ErrorCode.NotJoined, 'join a call first');
    if (m.roomKind !== 'call') throw new AppError(ErrorCode.WrongRoomKind, 'signaling is for call rooms');
    return m;
  }

  /** The sender's own slot must still be held by this connection (not ended, not taken over). */
  #checkSelf(ctx: SocketContext, self: MemberRecord | undefined): asserts self is MemberRecord {
    if (!self || self.connection !== ctx.id) {
      throw new AppError(ErrorCode.NotJoined, 'this connection no longer holds a place in the call; join again');
    }
  }

  /** Send a peer's media state to the room (or only to `to`), minus the deliveries a test hook drops. */
  #deliverMediaState(roomId: RoomId, peerId: PeerId, state: MediaState, to?: readonly PeerId[]): void {
    const body = { peerId, state };
    const dropped = this.#drops.take(roomId, peerId, to);
    if (to) {
      for (const target of to) if (!dropped.includes(target)) this.o.gateway.emitToPeer(target, 'media-state', body);
    } else {
      this.o.gateway.emitToRoom(roomId, 'media-state', body, dropped);
    }
  }
}
