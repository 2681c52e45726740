import {
  type Ack,
  ClientErrorCode,
  type ClientMessage,
  type ClientMessageName,
  ClientMessages,
  ErrorCode,
  PROTOCOL_VERSION,
  type ServerMessage,
  type ServerMessageName,
  ServerMessages,
  SIGNALING_PATH,
  type SignalingErrorMessage,
} from '@fusionflow/protocol';
import { io as defaultIo, type ManagerOptions, type Socket, type SocketOptions } from 'socket.io-client';
import { Emitter } from './emitter.js';
import { FusionFlowError } from './fusionflow-error.js';

export type SignalingStatus = 'connecting' | 'connected' | 'reconnecting' | 'closed';

type Incoming = { [N in ServerMessageName]: ServerMessage<N> };

export interface SignalingEvents extends Incoming {
  status: SignalingStatus;
  /** A message from the server that failed its schema (dropped). */
  'protocol-error': { name: string; issue: string };
  /** The connection cannot be made and will not be retried (bad credentials, other protocol version). */
  fatal: FusionFlowError;
  [key: string]: unknown;
}

export interface SignalingConnectionOptions {
  /** Origin of the control plane ('' or undefined: the page's own). */
  url?: string;
  /** The current access token; asked again on every (re)connect, so it may refresh. */
  token: () => string | Promise<string>;
  /** socket.io-client's `io` (tests may pass their own). */
  io?: typeof defaultIo;
  /** Extra Socket.IO options (e.g. transports). */
  socketOptions?: Partial<ManagerOptions & SocketOptions>;
}

/** Why a request got no answer from the server (it may or may not have been handled). */
export type RequestFailure =
  | typeof ClientErrorCode.NotConnected
  | typeof ClientErrorCode.Disconnected
  | typeof ClientErrorCode.Timeout
  | typeof ClientErrorCode.Closed;

/** A request that got no acknowledgement. Only idempotent messages may be sent again. */
function requestFailed(code: RequestFailure, event: string): FusionFlowError {
  return new FusionFlowError(code, `${event}: ${code.replace('_', ' ')}`, { event });
}

const FATAL = new Set<string>([
  ErrorCode.Unauthorized,
  ErrorCode.SessionEnded,
  ErrorCode.ProtocolMismatch,
  ErrorCode.Forbidden,
]);

/**
 * The signaling connection: Socket.IO with the access token in the handshake, automatic
 * reconnection (with a fresh token each time), schema validation of every message both ways.
 * A connection closed because its token expired reconnects at once with a new token.
 */
export class SignalingConnection extends Emitter<SignalingEvents> {
  readonly #socket: Socket;
  #status: SignalingStatus = 'connecting';
  #closed = false;
  #retry: ReturnType<typeof setTimeout> | undefined;
  #failures = 0;
  /** Requests waiting for their acknowledgement: failed at once when the connection drops. */
  readonly #waiting = new Set<(failure: RequestFailure) => void>();

  constructor(o: SignalingConnectionOptions) {
    super();
    const connect = o.io ?? defaultIo;
    const opts: Partial<ManagerOptions & SocketOptions> = {
      path: SIGNALING_PATH,
      autoConnect: false,
      reconnection: true,
      reconnectionDelay: 300,
      reconnectionDelayMax: 3000,
      randomizationFactor: 0.3,
      timeout: 10_000,
      // WebSocket first: one round trip to connect and no long-polling phase (a poll cycle and an upgrade
      // during which messages wait), which is what a resume after a network switch pays for. Where a proxy
      // refuses WebSockets, the same attempt falls back to long-polling (`tryAllTransports`).
      transports: ['websocket', 'polling'],
      tryAllTransports: true,
      auth: (cb: (data: object) => void) => {
        Promise.resolve()
          .then(() => o.token())
          .then(
            (token) => cb({ token, protocol: PROTOCOL_VERSION }),
            () => cb({ token: '', protocol: PROTOCOL_VERSION }),
          );
      },
      ...o.socketOptions,
    };
    this.#socket = o.url ? connect(o.url, opts) : connect(opts);
    for (const name of Object.keys(ServerMessages) as ServerMessageName[]) {
      this.#socket.on(name as string, (body: unknown) => this.#receive(name, body));
    }
    this.#socket.on('connect', () => {
      this.#failures = 0;
      this.#setStatus('connected');
    });
    this.#socket.on('disconnect', (reason) => {
      this.#failWaiting(ClientErrorCode.Disconnected);
      if (this.#closed) return;
      this.#setStatus('reconnecting');
      // The server closed it (token expired, slot taken over): Socket.IO does not retry those by itself.
      if (reason === 'io server disconnect') this.#reconnectSoon();
    });
    this.#socket.on('connect_error', (err: Error & { data?: Partial<SignalingErrorMessage> }) => {
      if (this.#closed) return;
      const code = err.data?.code;
      if (code && FATAL.has(code)) {
        this.emit('fatal', new FusionFlowError(code, err.data?.message ?? err.message));
        this.close();
        return;
      }
      this.#setStatus('reconnecting');
      // Refused by the server's middleware (e.g. token expired): retry by hand with a fresh token.
      if (code) this.#reconnectSoon();
    });
  }

  get status(): SignalingStatus {
    return this.#status;
  }

  get connected(): boolean {
    return this.#socket.connected;
  }

  /** The connection id the server knows this connection by. */
  get id(): string | undefined {
    return this.#socket.id;
  }

  connect(): void {
    if (!this.#closed) this.#socket.connect();
  }

  /**
   * Send a message (validated with its schema first: a bad one is a bug here, thrown). Nothing is
   * queued while disconnected (returns false): after a reconnect the state is repaired from the
   * server's `joined`, not by replaying stale messages.
   */
  send<N extends ClientMessageName>(name: N, body: ClientMessage<N>): boolean {
    const parsed = ClientMessages[name].safeParse(body);
    if (!parsed.success) throw new Error(`invalid ${name} message: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    if (!this.#socket.connected) return false;
    if (body === undefined) this.#socket.emit(name);
    else this.#socket.emit(name, body);
    return true;
  }

  /**
   * Send a message and wait for the server's acknowledgement (`{ ok: true, ...result }` or
   * `{ ok: false, error }`). Rejects with a `FusionFlowError` (`not_connected`, `disconnected`, `timeout`, `closed`) when there is no connection, when it drops
   * before the answer, or when no answer comes within `timeoutMs`: the server may then have handled
   * it or not, so only idempotent messages (e.g. `chat:send` with its clientId) may be sent again.
   */
  request<N extends ClientMessageName, T extends object = object>(
    name: N,
    body: ClientMessage<N>,
    timeoutMs = 10_000,
  ): Promise<Ack<T>> {
    const parsed = ClientMessages[name].safeParse(body);
    if (!parsed.success) throw new Error(`invalid ${name} message: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
    if (this.#closed) return Promise.reject(requestFailed(ClientErrorCode.Closed, name));
    if (!this.#socket.connected) return Promise.reject(requestFailed(ClientErrorCode.NotConnected, name));
    return new Promise<Ack<T>>((resolve, reject) => {
      const fail = (failure: RequestFailure) => {
        clearTimeout(timer);
        this.#waiting.delete(fail);
        reject(requestFailed(failure, name));
      };
      const timer = setTimeout(() => fail(ClientErrorCode.Timeout), timeoutMs);
      this.#waiting.add(fail);
      this.#socket.emit(name, body, (answer: Ack<T>) => {
        if (!this.#waiting.delete(fail)) return;
        clearTimeout(timer);
        if (answer && typeof answer === 'object' && typeof answer.ok === 'boolean') resolve(answer);
        else
          resolve({
            ok: false,
            error: { code: ClientErrorCode.InvalidResponse, message: `${name}: no valid acknowledgement` },
          });
      });
    });
  }

  /** Drop the connection (as a network failure would); it reconnects by itself. Tests and diagnostics. */
  dropConnection(): void {
    this.#socket.io.engine?.close();
  }

  /**
   * Reconnect now, without waiting out a retry's backoff (the device just got a network, or another one): a
   * connection made on the old network is dropped first, since its socket likely died without knowing it yet.
   */
  reconnectNow(): void {
    if (this.#closed) return;
    if (this.#socket.connected) this.#socket.io.engine?.close();
    if (this.#socket.connected) return;
    clearTimeout(this.#retry);
    // Socket.IO has no "retry now": leaving and connecting again cancels its pending attempt and opens at once.
    this.#socket.disconnect();
    this.#socket.connect();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#failWaiting(ClientErrorCode.Closed);
    this.#socket.removeAllListeners();
    this.#socket.io.removeAllListeners();
    this.#socket.disconnect();
    this.#setStatus('closed');
    this.removeAllListeners();
  }

  #failWaiting(failure: RequestFailure): void {
    for (const fail of [...this.#waiting]) fail(failure);
  }

  #reconnectSoon(): void {
    clearTimeout(this.#retry);
    this.#failures += 1;
    const delay = Math.min(5000, 200 * 2 ** Math.min(this.#failures - 1, 5));
    this.#retry = setTimeout(() => {
      if (!this.#closed && !this.#socket.connected) this.#socket.connect();
    }, delay);
  }

  #receive(name: ServerMessageName, body: unknown): void {
    const parsed = ServerMessages[name].safeParse(body);
    if (!parsed.success) {
      this.emit('protocol-error', { name, issue: parsed.error.issues[0]?.message ?? 'invalid' });
      return;
    }
    this.emit(name, parsed.data as never);
  }

  #setStatus(status: SignalingStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    this.emit('status', status);
  }
}
