import type { Server as HttpServer } from 'node:http';
import {
  AppError,
  Counter,
  clientAddress,
  Emitter,
  Gauge,
  type Logger,
  logListenerErrors,
  MemoryRateLimiter,
  type Registry,
  type TrustFunction,
  type TrustProxy,
  trustFunction,
  unavailable,
} from '@fusionflow/kit';
import {
  type Ack,
  closeCodeOf,
  ErrorCode,
  HandshakeAuth,
  type PeerId,
  PROTOCOL_VERSION,
  type RoomId,
  type RoomKind,
  type ServerMessage,
  type ServerMessageName,
  SIGNALING_PATH,
  type SignalingErrorMessage,
} from '@fusionflow/protocol';
import { decodeJwt } from 'jose';
import { Server, type Socket } from 'socket.io';
import type { z } from 'zod';
import type { AccessTokens, Session } from '../identity/access-tokens.js';

/** Where a connection is: set by the room presence on `join`, cleared on `leave`. */
export interface Membership {
  readonly roomId: RoomId;
  readonly roomKind: RoomKind;
  readonly peerId: PeerId;
  /** The language the member reads chat in: the connection also sits in the room's channel for it. */
  readonly language: string;
}

/** One authenticated connection, as handlers see it. */
export interface SocketContext {
  /** The connection id (Socket.IO socket id); also the id of the reconnect slot's holder. */
  readonly id: string;
  readonly session: Session;
  /** The client's address (through the trusted proxies, as for HTTP). */
  readonly address: string;
  readonly logger: Logger;
  membership: Membership | null;
  /** Send one message to this connection. */
  send<N extends ServerMessageName>(name: N, body: ServerMessage<N>): void;
}

/**
 * A message handler. Throw an AppError to answer with a coded `error` (nothing else happens). What
 * it returns (an object) goes into the acknowledgement: `{ ok: true, ...result }`.
 */
// biome-ignore lint/suspicious/noConfusingVoidType: handlers without a result return nothing
export type MessageHandler<T> = (ctx: SocketContext, body: T) => Promise<object | void> | object | void;

export interface RealtimeGatewayOptions {
  tokens: AccessTokens;
  /** Which proxies to believe about the client's address (TRUST_PROXY). */
  trustProxy: TrustProxy;
  /** Open connections per account or guest token on this process. */
  maxConnectionsPerUser: number;
  /** Open connections per client address on this process, accounts and guests together. */
  maxConnectionsPerIp: number;
  logger: Logger;
  metrics: Registry;
  maxMessageBytes: number;
  messagesPer10s: number;
  pingIntervalMs: number;
  pingTimeoutMs: number;
  corsOrigins: readonly string[];
}

interface Connection extends SocketContext {
  readonly socket: Socket;
  /** Messages of one connection are handled one after another, in the order they came. */
  queue: Promise<void>;
  expiry: NodeJS.Timeout | undefined;
}

type AnyHandler = { schema: z.ZodType; handler: MessageHandler<unknown> };

const roomChannel = (roomId: RoomId) => `room:${roomId}`;
const peerChannel = (peerId: PeerId) => `peer:${peerId}`;
const languageChannel = (roomId: RoomId, language: string) => `room:${roomId}:lang:${language}`;
/** Every connection of one sign-in, so signing out closes them on whichever process holds them. */
const sessionChannel = (sessionId: string) => `session:${sessionId}`;

/** Open connections per key (user, address) on this process. */
class ConnectionCounts {
  readonly #counts = new Map<string, number>();

  get(key: string): number {
    return this.#counts.get(key) ?? 0;
  }

  add(key: string): void {
    this.#counts.set(key, this.get(key) + 1);
  }

  remove(key: string): void {
    const n = this.get(key) - 1;
    if (n > 0) this.#counts.set(key, n);
    else this.#counts.delete(key);
  }

  clear(): void {
    this.#counts.clear();
  }
}

/**
 * The real-time connection layer of the control plane: Socket.IO on the HTTP server's origin
 * (`/socket.io`). It authenticates the handshake with the access token, checks the protocol
 * version, limits message size and rate per connection, validates every inbound message with the
 * protocol's schema before a handler sees it, answers bad input with a coded `error` (and an ack
 * error when the client asked for one), and closes a connection whose access token expires or
 * whose session is signed out. It caps the connections one account (or guest token) and one client
 * address may hold open; a guest token costs nothing to mint, so the address cap is what holds guests.
 * Modules register handlers (`handle`) and send through it; it knows nothing about calls or chat.
 */
export interface GatewayEvents {
  [event: string]: unknown;
  /** A connection closed, after its queued messages were handled; listeners are awaited in turn. */
  disconnect: { ctx: SocketContext; reason: string };
}

export class RealtimeGateway extends Emitter<GatewayEvents> {
  readonly io: Server;
  readonly #handlers = new Map<string, AnyHandler>();
  readonly #connections = new Map<string, Connection>();
  readonly #limiter: MemoryRateLimiter;
  readonly #trust: TrustFunction;
  readonly #perUser = new ConnectionCounts();
  readonly #perAddress = new ConnectionCounts();
  readonly #log: Logger;
  readonly #messages: Counter<'type' | 'result'>;
  readonly #errors: Counter<'code'>;
  #closed = false;
  /** No new connection, no further message handled (shutdown's first step). */
  #intakeStopped = false;

  constructor(private readonly o: RealtimeGatewayOptions) {
    super(logListenerErrors(o.logger));
    this.#log = o.logger;
    this.#limiter = new MemoryRateLimiter(o.messagesPer10s, 10_000);
    this.#trust = trustFunction(o.trustProxy);
    this.io = new Server({
      path: SIGNALING_PATH,
      serveClient: false,
      // Frames up to twice the message limit get a coded error; larger ones close the connection.
      maxHttpBufferSize: o.maxMessageBytes * 2,
      pingInterval: o.pingIntervalMs,
      pingTimeout: o.pingTimeoutMs,
      cors: { origin: [...o.corsOrigins], credentials: true },
    });
    const sockets = new Gauge({
      name: 'realtime_connected_sockets',
      help: 'Real-time (Socket.IO) connections open on this process',
      registers: [o.metrics],
    });
    // Distinct signed-in accounts (guests left out) with a connection open here, read at scrape time.
    const io = this.io;
    new Gauge({
      name: 'realtime_active_users',
      help: 'Distinct signed-in users with a real-time connection open on this process',
      registers: [o.metrics],
      collect() {
        const users = new Set<string>();
        for (const socket of io.of('/').sockets.values()) {
          const session = socket.data.session as Session | undefined;
          if (session && !session.isGuest) users.add(session.userId);
        }
        this.set(users.size);
      },
    });
    this.#messages = new Counter({
      name: 'realtime_messages_total',
      help: 'Real-time messages received, by message type and result (ok or the refusal)',
      labelNames: ['type', 'result'] as const,
      registers: [o.metrics],
    });
    this.#errors = new Counter({
      name: 'realtime_errors_total',
      help: 'Coded errors sent to real-time clients, by code',
      labelNames: ['code'] as const,
      registers: [o.metrics],
    });
    this.io.use((socket, next) => {
      this.#authenticate(socket).then(
        () => next(),
        (err: unknown) => {
          const body = this.#errorBody(err);
          const refusal = new Error(body.message) as Error & { data?: unknown };
          refusal.data = { ...body, closeCode: closeCodeOf(body.code) };
          this.#errors.inc({ code: body.code });
          next(refusal);
        },
      );
    });
    this.io.on('connection', (socket) => {
      sockets.inc();
      socket.once('disconnect', () => sockets.dec());
      this.#onConnection(socket);
    });
  }

  /** Attach to the HTTP server (same origin as the API). */
  attach(server: HttpServer): void {
    this.io.attach(server);
  }

  /** Handle a client message: its body is validated with `schema` before `handler` sees it. */
  handle<S extends z.ZodType>(event: string, schema: S, handler: MessageHandler<z.output<S>>): void {
    if (this.#handlers.has(event)) throw new Error(`a handler for "${event}" is already registered`);
    this.#handlers.set(event, { schema, handler: handler as MessageHandler<unknown> });
  }

  /** Put a connection into the channels of its room and peer (so broadcasts reach it on any process). */
  async enter(ctx: SocketContext, membership: Membership): Promise<void> {
    const c = this.#connections.get(ctx.id);
    ctx.membership = membership;
    await c?.socket.join([
      roomChannel(membership.roomId),
      peerChannel(membership.peerId),
      languageChannel(membership.roomId, membership.language),
    ]);
  }

  /** Take a connection out of its room's channels. */
  async exit(ctx: SocketContext): Promise<void> {
    const m = ctx.membership;
    ctx.membership = null;
    const c = this.#connections.get(ctx.id);
    if (m && c) {
      await c.socket.leave(roomChannel(m.roomId));
      await c.socket.leave(peerChannel(m.peerId));
      await c.socket.leave(languageChannel(m.roomId, m.language));
    }
  }

  /** Send to every connection in a room, on every process, except the given peers. */
  emitToRoom<N extends ServerMessageName>(
    roomId: RoomId,
    name: N,
    body: ServerMessage<N>,
    except: readonly PeerId[] = [],
  ): void {
    let target = this.io.to(roomChannel(roomId));
    if (except.length > 0) target = target.except(except.map(peerChannel));
    target.emit(name, body);
  }

  /** Send to the connections of a room that read in one language, on every process. */
  emitToRoomLanguage<N extends ServerMessageName>(
    roomId: RoomId,
    language: string,
    name: N,
    body: ServerMessage<N>,
  ): void {
    this.io.to(languageChannel(roomId, language)).emit(name, body);
  }

  /** Send to the connection holding a peer's slot, on whichever process it is. */
  emitToPeer<N extends ServerMessageName>(peerId: PeerId, name: N, body: ServerMessage<N>): void {
    this.io.to(peerChannel(peerId)).emit(name, body);
  }

  /** Close a connection by id, on whichever process holds it (a resumed slot's old connection). */
  disconnectConnection(id: string): void {
    this.io.in(id).disconnectSockets(true);
  }

  /** Cut a connection's transport on this process as a network failure would (the client reconnects). */
  dropTransport(id: string): boolean {
    const c = this.#connections.get(id);
    c?.socket.conn.close();
    return c !== undefined;
  }

  /** Take one peer's connection out of its room's channels, on whichever process holds it. */
  evict(roomId: RoomId, peerId: PeerId, language: string): void {
    this.io
      .in(peerChannel(peerId))
      .socketsLeave([roomChannel(roomId), peerChannel(peerId), languageChannel(roomId, language)]);
    for (const c of this.#connections.values()) {
      if (c.membership?.roomId === roomId && c.membership.peerId === peerId) c.membership = null;
    }
  }

  /** Take every connection out of a room's channels, on every process (the room ended). */
  clearRoom(roomId: RoomId, members: readonly { peerId: PeerId; language: string }[]): void {
    const languages = new Set(members.map((m) => languageChannel(roomId, m.language)));
    this.io
      .in(roomChannel(roomId))
      .socketsLeave([roomChannel(roomId), ...members.map((m) => peerChannel(m.peerId)), ...languages]);
    for (const c of this.#connections.values()) if (c.membership?.roomId === roomId) c.membership = null;
  }

  /**
   * Close every connection of a signed-out session, on every process, telling each why
   * (`session_ended`). New handshakes with its tokens are refused by the token check.
   */
  endSession(sessionId: string, message = 'this session was signed out'): void {
    const body: SignalingErrorMessage = {
      code: ErrorCode.SessionEnded,
      message,
      closeCode: closeCodeOf(ErrorCode.SessionEnded),
    };
    this.#errors.inc({ code: body.code });
    this.io.to(sessionChannel(sessionId)).emit('error', body);
    this.io.in(sessionChannel(sessionId)).disconnectSockets(true);
  }

  /** Connections open on this process. */
  get size(): number {
    return this.#connections.size;
  }

  /**
   * Shutdown's first step: refuse new connections and answer every message not yet handled with
   * `unavailable` (so none reaches a module that is closing), then wait for the messages being
   * handled now. Sending (`emitToRoom`…) still works until `close`. Idempotent.
   */
  async stopIntake(): Promise<void> {
    this.#intakeStopped = true;
    await Promise.allSettled([...this.#connections.values()].map((c) => c.queue));
  }

  /** Idempotent: closes every connection (children first), then the engine and the adapter. */
  async close(reason = 'server shutting down'): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#intakeStopped = true;
    for (const c of this.#connections.values()) {
      clearTimeout(c.expiry);
      c.socket.disconnect(true);
    }
    await Promise.allSettled([...this.#connections.values()].map((c) => c.queue));
    this.#connections.clear();
    // The disconnects above were told; nothing is left to tell anyone.
    this.removeAllListeners();
    this.#limiter.close();
    this.#perUser.clear();
    this.#perAddress.clear();
    await this.io.of('/').adapter.close();
    this.io.engine?.close();
    this.#log.info({ reason }, 'real-time gateway closed');
  }

  // --- internals ------------------------------------------------------------------------------

  async #authenticate(socket: Socket): Promise<void> {
    if (this.#intakeStopped) throw unavailable();
    const auth = HandshakeAuth.safeParse(socket.handshake.auth);
    if (!auth.success) {
      throw new AppError(ErrorCode.Unauthorized, 'connect with auth: { token: <access token>, protocol: 1 }');
    }
    if (String(auth.data.protocol) !== String(PROTOCOL_VERSION)) {
      throw new AppError(
        ErrorCode.ProtocolMismatch,
        `this server speaks protocol ${PROTOCOL_VERSION}, the client ${String(auth.data.protocol)}; reload the page or update the client`,
      );
    }
    const session = await this.o.tokens.verify(auth.data.token);
    const exp = decodeJwt(auth.data.token).exp;
    const address = clientAddress(socket.handshake.address, socket.handshake.headers['x-forwarded-for'], this.#trust);
    this.#reserve(socket, session, address);
    socket.data.session = session;
    socket.data.token = auth.data.token;
    socket.data.address = address;
    socket.data.expiresAt = typeof exp === 'number' ? exp * 1000 : undefined;
  }

  /**
   * Count the connection against its user's and its address's caps (synchronously after the last
   * await, so parallel handshakes see each other), or refuse it with `too_many_connections`. The
   * count is given back when the connection closes, whether or not it ever finished connecting.
   */
  #reserve(socket: Socket, session: Session, address: string): void {
    if (this.#intakeStopped) throw unavailable();
    const user = `user:${session.userId}`;
    if (this.#perUser.get(user) >= this.o.maxConnectionsPerUser) {
      throw new AppError(
        ErrorCode.TooManyConnections,
        `this account already has ${this.o.maxConnectionsPerUser} connections open; close one (another tab) first`,
        { retryAfterSeconds: 5 },
      );
    }
    if (this.#perAddress.get(address) >= this.o.maxConnectionsPerIp) {
      throw new AppError(
        ErrorCode.TooManyConnections,
        `this address already has ${this.o.maxConnectionsPerIp} connections open`,
        { retryAfterSeconds: 5 },
      );
    }
    this.#perUser.add(user);
    this.#perAddress.add(address);
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      this.#perUser.remove(user);
      this.#perAddress.remove(address);
    };
    // 'disconnect' for a connected socket; the transport's close also covers a handshake whose
    // client went away before it completed (Socket.IO then never reports the socket).
    socket.once('disconnect', release);
    socket.conn.once('close', release);
  }

  #onConnection(socket: Socket): void {
    const session = socket.data.session as Session;
    const address = socket.data.address as string;
    const logger = this.#log.child({ connection: socket.id, userId: session.userId });
    const c: Connection = {
      id: socket.id,
      socket,
      session,
      address,
      logger,
      membership: null,
      queue: Promise.resolve(),
      expiry: undefined,
      send: (name, body) => {
        socket.emit(name, body);
      },
    };
    this.#connections.set(socket.id, c);
    const expiresAt = socket.data.expiresAt as number | undefined;
    if (expiresAt !== undefined) {
      // The access token's end is the connection's end; the client reconnects with a fresh token.
      c.expiry = setTimeout(
        () => {
          const body: SignalingErrorMessage = {
            code: ErrorCode.TokenExpired,
            message: 'access token expired; reconnect with a fresh one',
            closeCode: closeCodeOf(ErrorCode.TokenExpired),
          };
          this.#errors.inc({ code: body.code });
          socket.emit('error', body);
          logger.info('access token expired; closing the connection');
          socket.disconnect(true);
        },
        Math.max(0, Math.min(expiresAt - Date.now(), 2 ** 31 - 1)),
      );
      c.expiry.unref();
    }
    if (session.sessionId !== null) this.#watchSession(c, session.sessionId, socket.data.token as string);
    socket.onAny((event: string, ...args: unknown[]) => {
      c.queue = c.queue.then(() => this.#dispatch(c, event, args));
    });
    socket.once('disconnect', (reason) => {
      clearTimeout(c.expiry);
      void this.#limiter.reset(socket.id);
      c.queue = c.queue.then(async () => {
        await this.emitSerial('disconnect', { ctx: c, reason });
        this.#connections.delete(socket.id);
      });
    });
  }

  /**
   * Put the connection in its session's channel, then check the token once more: a sign-out that
   * raced this handshake either is seen now or reaches the channel (it revokes before it broadcasts).
   */
  #watchSession(c: Connection, sessionId: string, token: string): void {
    void (async () => {
      await c.socket.join(sessionChannel(sessionId));
      await this.o.tokens.verify(token);
    })().catch((err: unknown) => {
      const body = this.#errorBody(err);
      if (body.code === ErrorCode.Internal) c.logger.warn({ err }, 'could not re-check the session');
      this.#errors.inc({ code: body.code });
      c.socket.emit('error', { ...body, closeCode: closeCodeOf(body.code) });
      c.socket.disconnect(true);
    });
  }

  async #dispatch(c: Connection, event: string, args: unknown[]): Promise<void> {
    const ack = typeof args.at(-1) === 'function' ? (args.pop() as (answer: Ack) => void) : undefined;
    const entry = this.#handlers.get(event);
    const type = entry ? event : 'unknown';
    try {
      if (this.#intakeStopped) throw unavailable();
      const limit = this.#limiter.hitSync(c.id);
      if (!limit.allowed) {
        throw new AppError(ErrorCode.RateLimited, 'too many messages, slow down', {
          retryAfterSeconds: limit.retryAfterSeconds,
        });
      }
      if (!entry) throw new AppError(ErrorCode.BadRequest, `unknown message "${event.slice(0, 64)}"`);
      if (args.length > 1) throw new AppError(ErrorCode.ValidationFailed, 'a message has exactly one body');
      const body = args[0];
      const size = body === undefined ? 0 : Buffer.byteLength(JSON.stringify(body) ?? '');
      if (size > this.o.maxMessageBytes) {
        throw new AppError(
          ErrorCode.PayloadTooLarge,
          `message of ${size} bytes is over the limit of ${this.o.maxMessageBytes}`,
        );
      }
      const parsed = entry.schema.safeParse(body);
      if (!parsed.success) {
        const issue = parsed.error.issues[0];
        const where = issue && issue.path.length > 0 ? ` at ${issue.path.map(String).join('.')}` : '';
        throw new AppError(
          ErrorCode.ValidationFailed,
          `${event}: ${issue?.message ?? 'invalid'}${where}`,
          parsed.error.issues.slice(0, 5).map((i) => ({ path: i.path.map(String), message: i.message })),
        );
      }
      const result = await entry.handler(c, parsed.data);
      this.#messages.inc({ type, result: 'ok' });
      ack?.({ ok: true, ...(result ?? {}) });
    } catch (err) {
      const body = { ...this.#errorBody(err), event: event.slice(0, 64) };
      this.#messages.inc({ type, result: body.code });
      this.#errors.inc({ code: body.code });
      if (body.code === ErrorCode.Internal) c.logger.error({ err, event: type }, 'real-time message failed');
      else c.logger.debug({ code: body.code, event: type }, 'real-time message refused');
      c.socket.emit('error', body);
      ack?.({ ok: false, error: body });
    }
  }

  #errorBody(err: unknown): SignalingErrorMessage {
    if (err instanceof AppError) {
      const retry = (err.details as { retryAfterSeconds?: number } | undefined)?.retryAfterSeconds;
      return {
        code: err.code,
        message: err.message,
        ...(typeof retry === 'number' ? { retryAfterSeconds: retry } : {}),
      };
    }
    return { code: ErrorCode.Internal, message: 'internal error' };
  }
}
