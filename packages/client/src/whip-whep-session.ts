import { ClientErrorCode, SessionEvent } from '@fusionflow/protocol';
import type { FetchLike } from './api-client.js';
import { Emitter } from './emitter.js';
import { errorOfResponse, FusionFlowError, networkError } from './fusionflow-error.js';
import { answerWithNewIce, iceCredentialsOf, iceRestartFragment } from './ice-restart.js';
import { firstCandidates, IceTrickle } from './ice-trickle.js';
import { isOffline, watchNetworkChanges } from './network-watcher.js';

/** The RTCPeerConnection constructor to use (the browser's, or werift's in Node tests). */
export type PeerConnectionClass = new (config?: RTCConfiguration) => RTCPeerConnection;

export interface MediaSessionOptions {
  /** WHIP or WHEP endpoint URL (`whipUrl` / `whepUrl` of a grant). */
  url: string;
  /** Grant, room token or stream key. */
  token?: string;
  /** ICE servers for the peer connection (a grant carries them). */
  iceServers?: RTCIceServer[];
  fetch?: FetchLike;
  RTCPeerConnection?: PeerConnectionClass;
  /**
   * The longest wait for the first ICE candidates before sending the offer anyway (default 3 s); the offer goes as
   * soon as the first candidates are there, and later ones trickle by PATCH.
   */
  gatherTimeoutMs?: number;
  /** W3C trace context sent with every request of the session (the grant's, see `newTraceparent`). */
  traceparent?: string;
  /**
   * Restart ICE on its own (`restartIce`) when ICE goes `disconnected` and when the device's network changes
   * (default true).
   */
  autoRestartIce?: boolean;
  /** An ICE restart not connected again by then has failed (default 5 s). */
  iceRestartTimeoutMs?: number;
  /**
   * An ICE `disconnected` this soon after a restart began is the old route's, while the new one's checks run
   * (default 2.5 s): restart again only if it is still `disconnected` then.
   */
  iceRestartSettleMs?: number;
  /** Calls `onChange` on every network change, returns the stop function (default `watchNetworkChanges`). */
  watchNetwork?: (onChange: () => void) => () => void;
}

/** How an ICE restart the session started on its own went (`restartIce` called by hand reports through its promise). */
export type IceRestartEvent =
  | { state: 'restarting'; cause: 'disconnected' | 'network' }
  | { state: 'restarted' }
  /** Neither restarted nor connected again: the session is as good as lost (start a new one). */
  | { state: 'failed'; error: FusionFlowError };

export interface MediaSessionEvents {
  [event: string]: unknown;
  /** The server's session events (`viewers`, `layers`, `ended`). */
  session: SessionEvent;
  /** WHEP: a track arrived (also added to the player's `stream` where MediaStream exists). */
  track: MediaStreamTrack;
  /** An automatic ICE restart (on ICE `disconnected` or a network change) started, succeeded or failed. */
  iceRestart: IceRestartEvent;
}

function resolveUrl(base: string, location: string): string {
  try {
    return new URL(location, base).toString();
  } catch {
    return location;
  }
}

/**
 * One WHIP or WHEP session (RFC 9725): POST the offer, apply the answer, DELETE the session URL to
 * stop. Listens to the session's server-sent events (viewer count, layers, `ended`) when the server
 * offers them and the environment has EventSource.
 */
export abstract class WhipWhepSession extends Emitter<MediaSessionEvents> {
  readonly pc: RTCPeerConnection;
  /** The session resource (absolute URL); null until started. */
  location: string | null = null;
  #events: EventSource | undefined;
  #trickle: IceTrickle | undefined;
  /** The answer now applied (the server's first answer, then its ICE credentials replaced at each restart). */
  #answer = '';
  #etag: string | null = null;
  #restart: Promise<void> | undefined;
  /** A network change came during the restart in flight: if that one fails, start another at once. */
  #restartAgain = false;
  /** Ends the restart in flight's wait for ICE (it was made for the network the device just left). */
  #cutShort: (() => void) | undefined;
  /** When the last automatic restart began, and the look again at a `disconnected` that came right after it. */
  #restartedAt = Number.NEGATIVE_INFINITY;
  #settle: ReturnType<typeof setTimeout> | undefined;
  #stopWatching: (() => void) | undefined;
  #closed = false;
  readonly #fetch: FetchLike;

  constructor(protected readonly o: MediaSessionOptions) {
    super();
    const PC = o.RTCPeerConnection ?? globalThis.RTCPeerConnection;
    this.pc = new PC({ iceServers: o.iceServers ?? [] });
    const base = o.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const traceparent = o.traceparent;
    this.#fetch = traceparent
      ? (input, init) => {
          const headers = new Headers(init?.headers);
          headers.set('traceparent', traceparent);
          return base(input, { ...init, headers });
        }
      : base;
  }

  /** Requests of this session (the trace context added). */
  protected request(input: string, init?: RequestInit): Promise<Response> {
    return this.#fetch(input, init);
  }

  protected async negotiate(): Promise<void> {
    // Listening before setLocalDescription starts gathering: no candidate slips by.
    this.#trickle = new IceTrickle(this.pc, this.#fetch);
    const first = firstCandidates(this.pc, this.o.gatherTimeoutMs ?? 3000);
    await this.pc.setLocalDescription(await this.pc.createOffer());
    await first;
    const offer = this.pc.localDescription!.sdp;
    const headers: Record<string, string> = { 'content-type': 'application/sdp' };
    if (this.o.token) headers.authorization = `Bearer ${this.o.token}`;
    let response: Response;
    try {
      response = await this.#fetch(this.o.url, { method: 'POST', headers, body: offer });
    } catch (err) {
      throw networkError('the media server', err);
    }
    if (response.status !== 201) throw await errorOfResponse(response);
    const location = response.headers.get('location');
    this.location = location ? resolveUrl(this.o.url, location) : null;
    if (this.#closed) {
      // Stopped while the offer was out: the session the server just made would hold its place until ICE gives up.
      if (this.location) await this.#fetch(this.location, { method: 'DELETE' }).catch(() => undefined);
      await response.body?.cancel().catch(() => undefined);
      return;
    }
    const answer = await response.text();
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer });
    this.#answer = answer;
    this.#etag = response.headers.get('etag');
    if (this.location) this.#trickle.ready(this.location, this.#etag, offer);
    this.#listen(response.headers.get('link') ?? '');
    if (this.o.autoRestartIce !== false && this.location) this.#watch();
  }

  /** The session's current ICE session as the server names it (`ETag`; a new one after each ICE restart). */
  get etag(): string | null {
    return this.#etag;
  }

  /**
   * ICE restart (RFC 9725 §4.4): a new offer with new ICE credentials, its first candidates sent as
   * `PATCH application/trickle-ice-sdpfrag` with `If-Match: "*"`, and the server's new credentials and candidates
   * (its `200` fragment) applied to the answer; later candidates trickle with the new credentials. Resolves once
   * ICE is connected again, fails (FusionFlowError) if the server refuses the PATCH (a session it no longer has:
   * `404`) or ICE is not connected within `iceRestartTimeoutMs`. One restart at a time: a call while one is under
   * way joins it.
   */
  restartIce(): Promise<void> {
    if (this.#closed) return Promise.reject(new FusionFlowError(ClientErrorCode.Closed, 'the session is stopped'));
    if (!this.location || !this.#trickle) {
      return Promise.reject(new FusionFlowError(ClientErrorCode.NotConnected, 'the session has not started'));
    }
    this.#restart ??= this.#restartIce(this.location, this.#trickle).finally(() => {
      this.#restart = undefined;
    });
    return this.#restart;
  }

  async #restartIce(location: string, trickle: IceTrickle): Promise<void> {
    await trickle.restarting();
    const offer = await this.pc.createOffer({ iceRestart: true });
    const first = firstCandidates(this.pc, this.o.gatherTimeoutMs ?? 3000, { fresh: true });
    await this.pc.setLocalDescription(offer);
    await first;
    const local = this.pc.localDescription!.sdp;
    const body = iceRestartFragment(local);
    if (!body) throw new FusionFlowError(ClientErrorCode.InvalidResponse, 'the new offer has no ICE credentials');
    let response: Response;
    try {
      response = await this.#fetch(location, {
        method: 'PATCH',
        headers: { 'content-type': 'application/trickle-ice-sdpfrag', 'if-match': '*' },
        body,
      });
    } catch (err) {
      await this.#rollback();
      throw networkError('the media server', err);
    }
    if (response.status !== 200) {
      await this.#rollback();
      throw await errorOfResponse(response);
    }
    const fragment = iceCredentialsOf(await response.text());
    if (!fragment) {
      await this.#rollback();
      throw new FusionFlowError(ClientErrorCode.InvalidResponse, 'the ICE restart answer has no ICE credentials');
    }
    if (this.#closed) return;
    const answer = answerWithNewIce(this.#answer, fragment);
    await this.pc.setRemoteDescription({ type: 'answer', sdp: answer });
    this.#answer = answer;
    this.#etag = response.headers.get('etag');
    trickle.ready(location, this.#etag, local);
    await this.#connectedAgain();
  }

  /** Back to the last answered state after a restart the server did not take (best effort). */
  async #rollback(): Promise<void> {
    if (this.#closed || this.pc.signalingState !== 'have-local-offer') return;
    await this.pc.setLocalDescription({ type: 'rollback' }).catch(() => undefined);
  }

  #connectedAgain(): Promise<void> {
    const pc = this.pc;
    const up = () => pc.iceConnectionState === 'connected' || pc.iceConnectionState === 'completed';
    if (up()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const done = (error?: FusionFlowError) => {
        clearTimeout(timer);
        this.#cutShort = undefined;
        pc.removeEventListener('iceconnectionstatechange', onState);
        if (error) reject(error);
        else resolve();
      };
      const onState = () => {
        if (up()) done();
        else if (this.#closed) done(new FusionFlowError(ClientErrorCode.Closed, 'the session is stopped'));
        else if (pc.iceConnectionState === 'failed') {
          done(new FusionFlowError(ClientErrorCode.Disconnected, 'ICE failed after the restart'));
        }
      };
      const timer = setTimeout(
        () => done(new FusionFlowError(ClientErrorCode.Timeout, 'ICE did not connect again after the restart')),
        this.o.iceRestartTimeoutMs ?? 5000,
      );
      this.#cutShort = () => done(new FusionFlowError(ClientErrorCode.Disconnected, 'the network changed again'));
      pc.addEventListener('iceconnectionstatechange', onState);
    });
  }

  /** Restart ICE on its own: at once when ICE goes `disconnected`, and on every network change. */
  #watch(): void {
    const onIce = () => {
      if (this.pc.iceConnectionState === 'disconnected') this.#autoRestart('disconnected');
    };
    this.pc.addEventListener('iceconnectionstatechange', onIce);
    const stopNetwork = (this.o.watchNetwork ?? watchNetworkChanges)(() => this.#autoRestart('network'));
    this.#stopWatching = () => {
      this.pc.removeEventListener('iceconnectionstatechange', onIce);
      stopNetwork();
    };
  }

  #autoRestart(cause: 'disconnected' | 'network'): void {
    if (this.#closed) return;
    if (this.#restart) {
      // The restart in flight was made on the network the device just left: do not wait out its timeout.
      if (cause === 'network') {
        this.#restartAgain = true;
        this.#cutShort?.();
      }
      return;
    }
    // Offline, a PATCH cannot go out and no candidate can be gathered: the `online` that follows restarts.
    if (cause === 'disconnected' && isOffline()) return;
    if (cause === 'disconnected') {
      const wait = this.#restartedAt + (this.o.iceRestartSettleMs ?? 2500) - Date.now();
      if (wait > 0) {
        this.#settle ??= setTimeout(() => {
          this.#settle = undefined;
          if (this.pc.iceConnectionState === 'disconnected') this.#autoRestart('disconnected');
        }, wait);
        return;
      }
    }
    this.#restartedAt = Date.now();
    this.#restartAgain = false;
    this.emit('iceRestart', { state: 'restarting', cause });
    this.restartIce().then(
      () => {
        if (!this.#closed) this.emit('iceRestart', { state: 'restarted' });
      },
      (err: unknown) => {
        if (this.#closed) return;
        if (this.#restartAgain) this.#autoRestart('network');
        else this.emit('iceRestart', { state: 'failed', error: FusionFlowError.from(err) });
      },
    );
  }

  #listen(links: string): void {
    const match = /<([^>]+)>;\s*rel="urn:ietf:params:whep:ext:core:server-sent-events"/.exec(links);
    if (!match || typeof EventSource === 'undefined' || !this.location) return;
    const es = new EventSource(resolveUrl(this.location, match[1]!));
    for (const type of ['viewers', 'layers', 'ended'] as const) {
      es.addEventListener(type, (e) => {
        const parsed = SessionEvent.safeParse(JSON.parse((e as MessageEvent).data));
        if (parsed.success) this.emit('session', parsed.data);
        if (type === 'ended') es.close();
      });
    }
    this.#events = es;
  }

  /**
   * End the session (DELETE) and close the peer connection. Idempotent; never throws. The DELETE
   * outlives the page (`keepalive`), so a page that stops its session when it is hidden or reloaded
   * leaves no session (and no ghost viewer) behind on the media server.
   */
  async stop(): Promise<void> {
    await this.#close(true);
  }

  /**
   * Leave without ending the session: close the peer connection (the browser tells the media server with a DTLS
   * close_notify) and send no DELETE. The server sees a dropped connection, not a deliberate stop, and keeps what a
   * drop keeps for its grace period: a studio that reloads this way continues the same broadcast and recording, and
   * its viewers resume by themselves. Idempotent; never throws.
   */
  async drop(): Promise<void> {
    await this.#close(false);
  }

  async #close(end: boolean): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#settle);
    this.#stopWatching?.();
    this.#trickle?.close();
    this.#events?.close();
    this.removeAllListeners();
    if (end && this.location) {
      await this.#fetch(this.location, { method: 'DELETE', keepalive: true }).catch(() => undefined);
    }
    this.pc.close();
  }
}
