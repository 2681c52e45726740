import { ClientErrorCode, ErrorCode, type IceFailureReason, type SessionEvent } from '@fusionflow/protocol';
import { Emitter } from './emitter.js';
import { FusionFlowError } from './fusionflow-error.js';
import { type BackoffOptions, backoffDelay } from './reconnect-backoff.js';
import { WhepPlayer } from './whep-client.js';
import type { MediaSessionOptions } from './whip-whep-session.js';

/** Why an attempt to play ended. */
export interface WhepFailure {
  /**
   * `full`: the media server refused the viewer (`503 sfu_full`); `waiting`: nobody publishes yet (`409 no_publisher`,
   * with `Retry-After`); `unavailable`: another 5xx; `network`: no answer;
   * `ice_failed`: the peer connection failed or never connected; `closed`: it closed without being asked;
   * `ended`: the server ended the session (`endedReason`); `refused`: any other error (a 4xx, the grant refused).
   */
  reason: 'full' | 'waiting' | 'unavailable' | 'network' | 'ice_failed' | 'closed' | 'ended' | 'refused';
  /** `ice_failed`: how (not connected in time, ICE `failed`, or the session's own ICE restart did not connect again). */
  ice?: IceFailureReason;
  error?: unknown;
  /** The `ended` event's reason (`publisher_left`, `shutdown`, …). */
  endedReason?: string;
  /** What the server asked the client to wait (`Retry-After`), in seconds. */
  retryAfterSeconds?: number;
}

export type RetryingWhepState =
  | { state: 'connecting' }
  | { state: 'playing' }
  | { state: 'retrying'; failure: WhepFailure; retryInMs: number; attempt: number }
  | { state: 'stopped'; failure?: WhepFailure };

export interface RetryingWhepEvents extends Record<string, unknown> {
  /** A new session: attach its `stream` (one per attempt). */
  player: WhepPlayer;
  state: RetryingWhepState;
  /** The current session's events (`viewers`, `layers`, `ended`). */
  event: SessionEvent;
}

export interface RetryingWhepPlayerOptions {
  /** The options of each attempt, asked for before every one (a fresh grant: one grant opens one session). */
  session: () => Promise<MediaSessionOptions>;
  backoff?: BackoffOptions;
  /**
   * Whether to try again after `failure`; `byDefault` is the player's own answer: yes for `full`, `waiting`, `unavailable`,
   * `network`, `ice_failed`, `closed`, and `ended` by `shutdown`, `ice_failed`, `ice_disconnected`,
   * `ice_timeout`; no otherwise (a refusal, the publisher gone, the room closed, the session replaced or kicked).
   */
  retry?: (failure: WhepFailure, byDefault: boolean) => boolean | Promise<boolean>;
  /** An attempt whose peer connection is not connected by then has failed (default 10 s). */
  connectTimeoutMs?: number;
  /** Stands in for Math.random (tests). */
  random?: () => number;
}

const RETRIED_ENDINGS = new Set(['shutdown', 'ice_failed', 'ice_disconnected', 'ice_timeout']);

/** The player's own answer to "try again?". */
export function retriesByDefault(failure: WhepFailure): boolean {
  if (failure.reason === 'refused') return false;
  if (failure.reason === 'ended') return RETRIED_ENDINGS.has(failure.endedReason ?? '');
  return true;
}

/** What a failed request or session means for retrying. */
export function classifyWhepError(error: unknown): WhepFailure {
  if (!(error instanceof FusionFlowError)) return { reason: 'refused', error };
  const details = error.details as { retryAfterSeconds?: unknown } | undefined;
  const retryAfterSeconds =
    error.retryAfterSeconds ?? (typeof details?.retryAfterSeconds === 'number' ? details.retryAfterSeconds : undefined);
  const withRetryAfter = retryAfterSeconds !== undefined ? { retryAfterSeconds } : {};
  if (error.code === ErrorCode.SfuFull) return { reason: 'full', error, ...withRetryAfter };
  if (error.code === ErrorCode.NoPublisher) return { reason: 'waiting', error, ...withRetryAfter };
  if (error.code === ClientErrorCode.NetworkError || error.status === 0) return { reason: 'network', error };
  if (error.status >= 500) return { reason: 'unavailable', error, ...withRetryAfter };
  return { reason: 'refused', error };
}

/**
 * Plays a room over WHEP and keeps playing it: when the media server is full (`503`, honouring `Retry-After`), when
 * ICE fails (also when the session's own ICE restart, on ICE `disconnected` or a network change, fails: the server
 * no longer has the session, or ICE did not come back) or the peer connection closes, or when the server ends the session for a reason worth another try, it
 * stops that session and starts a new one with fresh options, waiting longer after each failure in a row
 * (`backoffDelay`; reset once a session connects). Each session is a `WhepPlayer`, told with `player`.
 */
export class RetryingWhepPlayer extends Emitter<RetryingWhepEvents> {
  #current: WhepPlayer | undefined;
  /** Removes a player's listeners and connect timer, so a replaced player cannot act on its successor. */
  readonly #forget = new WeakMap<WhepPlayer, () => void>();
  #failures = 0;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped = false;
  #started = false;
  #state: RetryingWhepState = { state: 'connecting' };

  constructor(private readonly o: RetryingWhepPlayerOptions) {
    super();
  }

  /** The current session, if one is up or being set up. */
  get player(): WhepPlayer | undefined {
    return this.#current;
  }

  get state(): RetryingWhepState {
    return this.#state;
  }

  /** Start playing (once). */
  start(): this {
    if (this.#started || this.#stopped) return this;
    this.#started = true;
    void this.#attempt();
    return this;
  }

  /** Stop the current session and every retry. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearTimeout(this.#timer);
    const p = this.#current;
    this.#current = undefined;
    this.#setState({ state: 'stopped' });
    await p?.stop();
    this.removeAllListeners();
  }

  #setState(state: RetryingWhepState): void {
    this.#state = state;
    this.emit('state', state);
  }

  async #attempt(): Promise<void> {
    if (this.#stopped) return;
    this.#setState({ state: 'connecting' });
    let player: WhepPlayer | undefined;
    try {
      const options = await this.o.session();
      if (this.#stopped) return;
      player = new WhepPlayer(options);
      this.#current = player;
      this.#watch(player);
      await player.start();
      if (this.#stopped || this.#current !== player) return;
      this.emit('player', player);
      if (player.pc.connectionState === 'connected') this.#connected(player);
    } catch (error) {
      if (this.#current === player || player === undefined) await this.#fail(player, classifyWhepError(error));
    }
  }

  #watch(player: WhepPlayer): void {
    const pc = player.pc;
    const timer = setTimeout(() => {
      if (pc.connectionState !== 'connected') void this.#fail(player, { reason: 'ice_failed', ice: 'connect_timeout' });
    }, this.o.connectTimeoutMs ?? 10_000);
    const onState = () => {
      const s = pc.connectionState;
      if (s === 'connected') {
        clearTimeout(timer);
        this.#connected(player);
      } else if (s === 'failed') void this.#fail(player, { reason: 'ice_failed', ice: 'failed' });
      else if (s === 'closed') void this.#fail(player, { reason: 'closed' });
    };
    pc.addEventListener('connectionstatechange', onState);
    const offSession = player.on('session', (event) => {
      if (this.#current !== player) return;
      this.emit('event', event);
      if (event.type === 'ended') void this.#fail(player, { reason: 'ended', endedReason: event.reason });
    });
    // The session restarts ICE on its own (ICE disconnected, a network change); when that fails, start over.
    const offRestart = player.on('iceRestart', (event) => {
      if (event.state === 'failed') {
        void this.#fail(player, { reason: 'ice_failed', ice: 'restart_failed', error: event.error });
      }
    });
    const forget = () => {
      clearTimeout(timer);
      offSession();
      offRestart();
      pc.removeEventListener('connectionstatechange', onState);
    };
    this.#forget.set(player, forget);
  }

  #connected(player: WhepPlayer): void {
    if (this.#current !== player || this.#stopped || this.#state.state === 'playing') return;
    this.#failures = 0;
    this.#setState({ state: 'playing' });
  }

  async #fail(player: WhepPlayer | undefined, failure: WhepFailure): Promise<void> {
    if (this.#stopped || (player !== undefined && this.#current !== player)) return;
    this.#current = undefined;
    if (player) {
      this.#forget.get(player)?.();
      // Give the place back at once (DELETE), so the next attempt is not refused by this very session.
      await player.stop();
    }
    const byDefault = retriesByDefault(failure);
    const again = this.o.retry ? await this.o.retry(failure, byDefault) : byDefault;
    if (this.#stopped) return;
    if (!again) {
      this.#stopped = true;
      this.#setState({ state: 'stopped', failure });
      return;
    }
    const attempt = this.#failures++;
    const retryInMs = backoffDelay(
      attempt,
      this.o.backoff,
      this.o.random,
      failure.retryAfterSeconds !== undefined ? failure.retryAfterSeconds * 1000 : undefined,
    );
    this.#setState({ state: 'retrying', failure, retryInMs, attempt: attempt + 1 });
    this.#timer = setTimeout(() => void this.#attempt(), retryInMs);
  }
}
