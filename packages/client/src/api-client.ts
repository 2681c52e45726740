import {
  AdminPasswordResetResponse,
  AuthOptionsResponse,
  AuthResponse,
  BroadcastSummary,
  type ChangePasswordRequest,
  Channel,
  ClientErrorCode,
  type CreateRoomRequest,
  DiagnosticsReport,
  ErrorCode,
  GrantResponse,
  type GrantRole,
  IceServersResponse,
  ListRoomsResponse,
  type LoginRequest,
  type MediaReport,
  type PasswordResetConfirm,
  PROTOCOL_VERSION,
  type RegisterRequest,
  Replay,
  Room,
  type RoomKind,
  type RoomStatus,
  StreamKeyInfo,
  StreamKeyResponse,
  type UpdateMeRequest,
  type UpdateReplayRequest,
  type UpdateRoomRequest,
  User,
} from '@fusionflow/protocol';
import { Emitter } from './emitter.js';
import { errorOfResponse, FusionFlowError, networkError } from './fusionflow-error.js';

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

export interface ApiClientOptions {
  /** Origin (and optional path prefix) of the control plane; '' means the page's own origin. */
  baseUrl?: string;
  /** The fetch to use; the global one by default. */
  fetch?: FetchLike;
}

/** What the client needs of a response schema: zod's `safeParse` (kept structural so zod is not a dependency). */
export interface ResponseSchema<T> {
  safeParse(
    value: unknown,
  ):
    | { success: true; data: T }
    | { success: false; error: { issues: ReadonlyArray<{ path: ReadonlyArray<PropertyKey>; message: string }> } };
}

/** The signed-in session the client holds: what sign-in, sign-up and refresh return. */
export type Session = AuthResponse;

export type SessionListener = (session: Session | null) => void;

export interface ApiClientEvents {
  [event: string]: unknown;
  /** The session changed (sign-in, refresh, profile change, sign-out). */
  session: Session | null;
}

export interface ListRoomsParams {
  status?: RoomStatus;
  kind?: RoomKind;
  owner?: string;
  limit?: number;
  cursor?: string;
}

export interface RequestOptions<T> {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  path: string;
  body?: unknown;
  /** Schema of a successful response body; absent for bodiless responses (204). */
  schema?: ResponseSchema<T>;
  /** Send the access token (and refresh it once when it expired). */
  auth: boolean;
  /** Extra request headers (e.g. Idempotency-Key). */
  headers?: Record<string, string>;
  /** Let the request outlive the page (fetch `keepalive`: a report sent as the page goes away). */
  keepalive?: boolean;
}

/**
 * Typed client of the control plane's HTTP API, for the browser and for Node.
 *
 * It holds the access token in memory only; the refresh token is the httpOnly `ff_refresh` cookie
 * the server sets, so `refresh()` restores a session after a page load. A request whose access
 * token has expired (`token_expired`) refreshes once and is retried once. Every response body is
 * parsed with the protocol's schema; every failure is a `FusionFlowError`.
 */
export class ApiClient extends Emitter<ApiClientEvents> {
  readonly #baseUrl: string;
  readonly #fetch: FetchLike;
  #session: Session | null = null;
  #refreshing: Promise<Session> | null = null;

  constructor(options: ApiClientOptions = {}) {
    super();
    this.#baseUrl = (options.baseUrl ?? '').replace(/\/+$/, '');
    const given = options.fetch;
    // Bound lazily: browsers throw "Illegal invocation" when fetch is called detached from window.
    this.#fetch = given ?? ((input, init) => globalThis.fetch(input, init));
  }

  /** The current session, or null when signed out. */
  get session(): Session | null {
    return this.#session;
  }

  /** The current access token, e.g. for the signaling handshake. */
  get accessToken(): string | null {
    return this.#session?.accessToken ?? null;
  }

  // --- identity -------------------------------------------------------------------------------

  async register(input: RegisterRequest): Promise<Session> {
    const s = await this.#request({
      method: 'POST',
      path: '/api/auth/register',
      body: input,
      schema: AuthResponse,
      auth: false,
    });
    return this.#setSession(s);
  }

  async login(input: LoginRequest): Promise<Session> {
    const s = await this.#request({
      method: 'POST',
      path: '/api/auth/login',
      body: input,
      schema: AuthResponse,
      auth: false,
    });
    return this.#setSession(s);
  }

  /** Exchange the refresh cookie for a new access token. Concurrent calls share one request. */
  refresh(): Promise<Session> {
    if (!this.#refreshing) {
      this.#refreshing = (async () => {
        try {
          const s = await this.#request({
            method: 'POST',
            path: '/api/auth/refresh',
            schema: AuthResponse,
            auth: false,
          });
          return this.#setSession(s);
        } catch (err) {
          if (err instanceof FusionFlowError && err.status === 401) this.#setSession(null);
          throw err;
        } finally {
          this.#refreshing = null;
        }
      })();
    }
    return this.#refreshing;
  }

  /** Start an anonymous guest session (no cookie: it ends with the page). */
  async guest(): Promise<Session> {
    const s = await this.#request({ method: 'POST', path: '/api/auth/guest', schema: AuthResponse, auth: false });
    return this.#setSession(s);
  }

  /**
   * End the session on the server and forget it here (forgotten even if the server call fails). The
   * access token goes along, so a guest's session (which has no refresh cookie) ends too.
   */
  async logout(): Promise<void> {
    const token = this.accessToken;
    try {
      await this.#request({
        method: 'POST',
        path: '/api/auth/logout',
        auth: false,
        ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
      });
    } finally {
      this.#setSession(null);
    }
  }

  async getMe(): Promise<User> {
    const user = await this.#request({ method: 'GET', path: '/api/me', schema: User, auth: true });
    this.#updateUser(user);
    return user;
  }

  /**
   * Change the profile. The access token carries the display name and language, so a fresh one is
   * fetched afterwards (best effort: without a refresh cookie the old token stays until it expires).
   */
  async updateMe(patch: UpdateMeRequest): Promise<User> {
    const user = await this.#request({ method: 'PATCH', path: '/api/me', body: patch, schema: User, auth: true });
    this.#updateUser(user);
    await this.refresh().catch(() => undefined);
    return user;
  }

  /** Change the password (the current one is required); the account's other sessions end. */
  async changePassword(input: ChangePasswordRequest): Promise<void> {
    await this.#request({ method: 'POST', path: '/api/me/password', body: input, auth: true });
  }

  /** Whether this server can email reset links ("Forgot your password?"). */
  authOptions(): Promise<AuthOptionsResponse> {
    return this.#request({ method: 'GET', path: '/api/auth/options', schema: AuthOptionsResponse, auth: false });
  }

  /** Ask for a reset link by email; answers the same whether or not the account exists. */
  async requestPasswordReset(email: string): Promise<void> {
    await this.#request({ method: 'POST', path: '/api/auth/password-reset', body: { email }, auth: false });
  }

  /** Set a new password with the token from a reset link (then sign in with it). */
  async confirmPasswordReset(input: PasswordResetConfirm): Promise<void> {
    await this.#request({ method: 'POST', path: '/api/auth/password-reset/confirm', body: input, auth: false });
  }

  /** Admin: a single-use reset link for an account, to hand over. */
  adminPasswordReset(userId: string): Promise<AdminPasswordResetResponse> {
    return this.#request({
      method: 'POST',
      path: `/api/admin/users/${encodeURIComponent(userId)}/password-reset`,
      schema: AdminPasswordResetResponse,
      auth: true,
    });
  }

  // --- rooms ----------------------------------------------------------------------------------

  createRoom(input: CreateRoomRequest): Promise<Room> {
    return this.#request({ method: 'POST', path: '/api/rooms', body: input, schema: Room, auth: true });
  }

  listRooms(params: ListRoomsParams = {}): Promise<ListRoomsResponse> {
    const query = new URLSearchParams();
    for (const [key, value] of Object.entries(params)) {
      if (value !== undefined) query.set(key, String(value));
    }
    const qs = query.toString();
    return this.#request({
      method: 'GET',
      path: `/api/rooms${qs ? `?${qs}` : ''}`,
      schema: ListRoomsResponse,
      auth: false,
    });
  }

  getRoom(id: string): Promise<Room> {
    return this.#request({ method: 'GET', path: roomPath(id), schema: Room, auth: false });
  }

  updateRoom(id: string, patch: UpdateRoomRequest): Promise<Room> {
    return this.#request({ method: 'PATCH', path: roomPath(id), body: patch, schema: Room, auth: true });
  }

  /** Go live by hand (created → live). */
  goLive(id: string): Promise<Room> {
    return this.updateRoom(id, { status: 'live' });
  }

  endRoom(id: string): Promise<Room> {
    return this.#request({ method: 'POST', path: `${roomPath(id)}/end`, schema: Room, auth: true });
  }

  /** A live room's broadcast in numbers (duration, viewers, earnings, chat): its owner or an admin. */
  getRoomSummary(id: string): Promise<BroadcastSummary> {
    return this.#request({ method: 'GET', path: `${roomPath(id)}/summary`, schema: BroadcastSummary, auth: true });
  }

  // --- channels -------------------------------------------------------------------------------

  /** A streamer's channel by handle (case-insensitive): the broadcast live now, if any, and the latest one. */
  getChannel(handle: string): Promise<Channel> {
    return this.#request({
      method: 'GET',
      path: `/api/channels/${encodeURIComponent(handle)}`,
      schema: Channel,
      auth: false,
    });
  }

  // --- replays -------------------------------------------------------------------------------

  /** Rename or hide (or show again) a replay: its owner or an admin. */
  updateReplay(id: string, patch: UpdateReplayRequest): Promise<Replay> {
    return this.#request({ method: 'PATCH', path: replayPath(id), body: patch, schema: Replay, auth: true });
  }

  /** Delete a replay and its files for good: its owner or an admin. */
  deleteReplay(id: string): Promise<void> {
    return this.#request({ method: 'DELETE', path: replayPath(id), auth: true });
  }

  // --- media ----------------------------------------------------------------------------------

  /**
   * A signed grant to publish to (owner) or watch a room through the SFU. `traceparent` puts the
   * grant in the trace of the media session it is for (see `newTraceparent`).
   */
  requestGrant(roomId: string, role: GrantRole, options: { traceparent?: string } = {}): Promise<GrantResponse> {
    return this.#request({
      method: 'POST',
      path: `${roomPath(roomId)}/grants`,
      body: { role },
      schema: GrantResponse,
      auth: true,
      ...(options.traceparent ? { headers: { traceparent: options.traceparent } } : {}),
    });
  }

  /** Whether the owner's live room has a stream key for encoders, and its WHIP URL. */
  getStreamKeyInfo(roomId: string): Promise<StreamKeyInfo> {
    return this.#request({ method: 'GET', path: `${roomPath(roomId)}/stream-key`, schema: StreamKeyInfo, auth: true });
  }

  /** A new stream key for OBS or any WHIP encoder (the old one stops working); shown this once. */
  createStreamKey(roomId: string): Promise<StreamKeyResponse> {
    return this.#request({
      method: 'POST',
      path: `${roomPath(roomId)}/stream-key`,
      schema: StreamKeyResponse,
      auth: true,
    });
  }

  /**
   * Report how a call or watch session's media went (see `MediaReporter`); `keepalive` when the page may be going
   * away (leaving, `pagehide`).
   */
  reportMedia(roomId: string, report: MediaReport, options: { keepalive?: boolean } = {}): Promise<void> {
    return this.#request({
      method: 'POST',
      path: `${roomPath(roomId)}/media-reports`,
      body: report,
      auth: true,
      ...(options.keepalive ? { keepalive: true } : {}),
    });
  }

  getIceServers(): Promise<IceServersResponse> {
    return this.#request({ method: 'GET', path: '/api/ice-servers', schema: IceServersResponse, auth: true });
  }

  // --- admin ----------------------------------------------------------------------------------

  /** The doctor's report (admins): every dependency checked; `fresh` runs the checks again now. */
  getDiagnostics(options: { fresh?: boolean } = {}): Promise<DiagnosticsReport> {
    return this.#request({
      method: 'GET',
      path: `/api/admin/diagnostics${options.fresh ? '?fresh=true' : ''}`,
      schema: DiagnosticsReport,
      auth: true,
    });
  }

  // --- plumbing -------------------------------------------------------------------------------

  /** Any endpoint, with the same session handling, error mapping and response parsing (for feature clients). */
  request<T>(options: RequestOptions<T>): Promise<T> {
    return this.#request(options);
  }

  #setSession<S extends Session | null>(session: S): S {
    if (session === this.#session) return session;
    this.#session = session;
    this.emit('session', session);
    return session;
  }

  #updateUser(user: User): void {
    if (this.#session && this.#session.user.id === user.id) this.#setSession({ ...this.#session, user });
  }

  async #request<T>(o: RequestOptions<T>): Promise<T> {
    const token = o.auth ? this.accessToken : null;
    try {
      return await this.#send(o, token);
    } catch (err) {
      // Signed out elsewhere (another tab, or the session was ended): this session is over here too.
      if (token && err instanceof FusionFlowError && err.code === ErrorCode.SessionEnded) this.#setSession(null);
      // One refresh and one retry, and only for a token that was sent and has expired.
      if (!(token && err instanceof FusionFlowError && err.code === ErrorCode.TokenExpired)) throw err;
      const refreshed = await this.refresh();
      return this.#send(o, refreshed.accessToken);
    }
  }

  async #send<T>(o: RequestOptions<T>, token: string | null): Promise<T> {
    const headers: Record<string, string> = {
      ...o.headers,
      accept: 'application/json',
      'x-ff-protocol': String(PROTOCOL_VERSION),
    };
    // Fastify refuses an empty body declared as JSON, so bodiless requests send no content type.
    if (o.body !== undefined) headers['content-type'] = 'application/json';
    if (token) headers.authorization = `Bearer ${token}`;

    let response: Response;
    try {
      response = await this.#fetch(`${this.#baseUrl}${o.path}`, {
        method: o.method,
        headers,
        body: o.body === undefined ? undefined : JSON.stringify(o.body),
        credentials: 'include',
        ...(o.keepalive ? { keepalive: true } : {}),
      });
    } catch (err) {
      throw networkError('the server', err);
    }
    if (!response.ok) throw await errorOfResponse(response);
    const requestId = response.headers.get('x-request-id');
    const ids = requestId === null ? {} : { requestId };
    const body = await readJson(response);
    if (!o.schema) return undefined as T;
    if (!body.ok) {
      throw new FusionFlowError(ClientErrorCode.InvalidResponse, 'the server sent a body that is not JSON', {
        status: response.status,
        ...ids,
      });
    }
    const parsed = o.schema.safeParse(body.value);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      const where = issue && issue.path.length > 0 ? ` at ${issue.path.map(String).join('.')}` : '';
      throw new FusionFlowError(
        ClientErrorCode.InvalidResponse,
        `unexpected response from ${o.method} ${o.path}${where}: ${issue?.message ?? 'invalid'}`,
        { status: response.status, details: parsed.error.issues, ...ids },
      );
    }
    return parsed.data;
  }
}

function roomPath(id: string): string {
  return `/api/rooms/${encodeURIComponent(id)}`;
}

function replayPath(id: string): string {
  return `/api/replays/${encodeURIComponent(id)}`;
}

/** The response body as JSON; `ok: false` when it is empty or not JSON. */
async function readJson(response: Response): Promise<{ ok: boolean; value: unknown }> {
  let text: string;
  try {
    text = await response.text();
  } catch {
    return { ok: false, value: undefined };
  }
  if (text === '') return { ok: false, value: undefined };
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    return { ok: false, value: undefined };
  }
}
