import { SessionEvent } from '@fusionflow/protocol';
import type { FetchLike } from './api-client.js';
import { Emitter } from './emitter.js';
import { errorOfResponse, networkError } from './fusionflow-error.js';
import { firstCandidates, IceTrickle } from './ice-trickle.js';

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
}

export interface MediaSessionEvents {
  [event: string]: unknown;
  /** The server's session events (`viewers`, `layers`, `ended`). */
  session: SessionEvent;
  /** WHEP: a track arrived (also added to the player's `stream` where MediaStream exists). */
  track: MediaStreamTrack;
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
    if (this.location) this.#trickle.ready(this.location, response.headers.get('etag'), offer);
    this.#listen(response.headers.get('link') ?? '');
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
    if (this.#closed) return;
    this.#closed = true;
    this.#trickle?.close();
    this.#events?.close();
    this.removeAllListeners();
    if (this.location) {
      await this.#fetch(this.location, { method: 'DELETE', keepalive: true }).catch(() => undefined);
    }
    this.pc.close();
  }
}
