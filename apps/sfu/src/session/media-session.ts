import { randomBytes } from 'node:crypto';
import { Emitter, type Logger, logListenerErrors } from '@fusionflow/kit';
import type { SessionEvent, SfuSessionInfo, SfuSessionKind } from '@fusionflow/protocol';
import type { RTCPeerConnection } from 'werift';
import { sendCloseNotify } from '../peer/dtls-close-notify.js';
import { gathered } from '../peer/peer-factory.js';
import { type IceFragment, iceFragmentOf, iceUfragOf, normalizeOffer, withNewIce } from '../peer/sdp.js';

export interface SessionTimings {
  /** A peer ICE-disconnected this long is closed. */
  disconnectGraceMs: number;
  /** A peer that never connects is closed after this long. */
  connectTimeoutMs: number;
}

export type SessionListener = (event: SessionEvent) => void;

/**
 * What a session tells its owners (the room and the room manager listen; nobody overwrites anybody's listener).
 * `started` is a publisher's, `joined` a subscriber's: both mean the media path is up (ICE and DTLS).
 */
export interface MediaSessionEvents extends Record<string, unknown> {
  /** What the client hears over server-sent events (`viewers`, `layers`, `ended`). */
  event: SessionEvent;
  /** Told once, after the session has closed (children, timers and peer connection released). */
  close: { session: MediaSession; reason: string };
  started: undefined;
  joined: undefined;
  /** A publisher's simulcast layers changed (a layer appeared, or announced its picture size). */
  layers: undefined;
}

/**
 * werift reports a vanished peer only when ICE consent expires (30 s). A connected peer always
 * sends something (RTP, or RTCP receiver reports about once a second); this long without a packet
 * counts as `disconnected`, which starts the grace period.
 */
const SILENCE_MS = 5000;

/**
 * What publishers and subscribers share: an id that is also the capability to change or end the
 * session (the WHIP/WHEP resource URL), one werift peer connection, ICE state handling with a grace
 * period for `disconnected`, trickle/restart, server-sent-event listeners and an idempotent close
 * that clears every timer and subscription and tells its owners (`close`).
 */
export abstract class MediaSession extends Emitter<MediaSessionEvents> {
  /** 128 random bits: the session URL is the credential to PATCH or DELETE it. */
  readonly id = randomBytes(16).toString('base64url');
  readonly createdAt = new Date();
  abstract readonly kind: SfuSessionKind;
  protected readonly logger: Logger;
  #offer = '';
  #etag = '';
  #connected = false;
  #closed = false;
  #closing: Promise<void> | undefined;
  #graceTimer: NodeJS.Timeout | undefined;
  #connectTimer: NodeJS.Timeout | undefined;
  #watchdog: NodeJS.Timeout | undefined;
  #heard = -1;
  #heardAt = 0;
  #silent = false;
  /** ICE restarted or disconnected since media last flowed: the next `connected` resumes media. */
  #interrupted = false;
  /** The client has heard `ended`: nothing more goes to it. */
  #ended = false;
  readonly #subscriptions: (() => void)[] = [];

  constructor(
    readonly room: string,
    readonly userId: string | null,
    readonly pc: RTCPeerConnection,
    protected readonly timings: SessionTimings,
    logger: Logger,
  ) {
    super(logListenerErrors(logger));
    this.logger = logger.child({ sessionId: this.id });
    this.#subscriptions.push(
      pc.iceConnectionStateChange.subscribe((state) => this.#onIceState(state)).unSubscribe,
      // Media flows once DTLS is up too: that is when the session counts as connected.
      pc.connectionStateChange.subscribe((state) => {
        if (state === 'connected' && !this.#connected && !this.#closed) {
          this.#connected = true;
          clearTimeout(this.#connectTimer);
          this.#connectTimer = undefined;
          this.#heardAt = performance.now();
          this.#watchdog = setInterval(() => this.#checkSilence(), 1000);
          this.onConnected();
        }
      }).unSubscribe,
    );
    this.#connectTimer = setTimeout(() => void this.close('ice_timeout'), timings.connectTimeoutMs);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Connected (ICE and DTLS) at least once. */
  get connected(): boolean {
    return this.#connected;
  }

  /** Identifies the current ICE session (RFC 9725 `ETag`). */
  get etag(): string {
    return this.#etag;
  }

  get state(): string {
    return this.#closed ? 'closed' : this.pc.iceConnectionState;
  }

  info(): SfuSessionInfo {
    return {
      id: this.id,
      kind: this.kind,
      room: this.room,
      userId: this.userId,
      state: this.state,
      createdAt: this.createdAt.toISOString(),
    };
  }

  /** Answer the client's offer (the subclass prepares transceivers first). */
  async answer(given: string): Promise<string> {
    const offer = normalizeOffer(given);
    this.#offer = offer;
    await this.pc.setRemoteDescription({ type: 'offer', sdp: offer });
    await this.beforeAnswer();
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    await gathered(this.pc);
    const sdp = this.pc.localDescription?.sdp ?? answer.sdp;
    this.#etag = `"${iceUfragOf(sdp)}"`;
    return sdp;
  }

  /** Hook between the remote offer and the answer: set directions, attach tracks. */
  protected abstract beforeAnswer(): Promise<void> | void;

  /** Called once when the peer first connects (ICE and DTLS). */
  protected abstract onConnected(): void;

  /**
   * Media flows again after an ICE restart, a disconnection or a silence: what the peer missed meanwhile
   * cannot be repaired by NACKs, so subscribers ask for a keyframe at once instead of waiting for the
   * viewer's own picture-loss request.
   */
  protected onMediaResumed(): void {}

  /**
   * A trickle-ICE PATCH: new candidates for the current ICE session, or (with new credentials) an
   * ICE restart, which answers with the SFU's new credentials and candidates.
   */
  async patch(fragment: IceFragment): Promise<string | undefined> {
    if (this.#closed) return undefined;
    const restart =
      fragment.ufrag !== undefined && `a=ice-ufrag:${fragment.ufrag}` !== /^a=ice-ufrag:.*$/m.exec(this.#offer)?.[0];
    if (!restart) {
      for (const c of fragment.candidates) await this.pc.addIceCandidate(c).catch(() => {});
      return undefined;
    }
    this.#interrupted = true;
    this.#offer = withNewIce(this.#offer, fragment);
    await this.pc.setRemoteDescription({ type: 'offer', sdp: this.#offer });
    for (const c of fragment.candidates) await this.pc.addIceCandidate(c).catch(() => {});
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    await gathered(this.pc);
    const sdp = this.pc.localDescription?.sdp ?? answer.sdp;
    this.#etag = `"${iceUfragOf(sdp)}"`;
    this.logger.info('ICE restarted');
    return iceFragmentOf(sdp);
  }

  /** Listen to this session's events (server-sent events). Returns the unsubscribe. */
  listen(listener: SessionListener): () => void {
    if (this.#closed) {
      listener({ type: 'ended', reason: 'closed' });
      return () => {};
    }
    const off = this.on('event', listener);
    this.greet(listener);
    return off;
  }

  /** Set by the room: the viewer count a new listener hears first. */
  viewers: (() => number) | undefined;

  /** What a new listener hears first. */
  protected greet(listener: SessionListener): void {
    if (this.viewers) listener({ type: 'viewers', count: this.viewers() });
  }

  /** Tell the client (its server-sent events), until it has heard `ended`. */
  notify(event: SessionEvent): void {
    if (this.#ended) return;
    if (event.type === 'ended') this.#ended = true;
    this.emit('event', event);
  }

  #checkSilence(): void {
    const heard = this.pc.dtlsTransports.reduce((n, d) => n + d.packetsReceived, 0);
    const now = performance.now();
    if (heard !== this.#heard) {
      this.#heard = heard;
      this.#heardAt = now;
      if (this.#silent) {
        this.#silent = false;
        clearTimeout(this.#graceTimer);
        this.#graceTimer = undefined;
        this.#resumed('silence ended');
      }
    } else if (!this.#silent && now - this.#heardAt > SILENCE_MS) {
      this.#silent = true;
      this.logger.info('peer went silent');
      this.#graceTimer ??= setTimeout(() => void this.close('ice_disconnected'), this.timings.disconnectGraceMs);
    }
  }

  #resumed(why: string): void {
    this.#interrupted = false;
    if (!this.#connected || this.#closed) return;
    this.logger.info({ why }, 'media resumed');
    this.onMediaResumed();
  }

  #onIceState(state: string): void {
    if (this.#closed) return;
    this.logger.debug({ state }, 'ICE state');
    if (state === 'connected' || state === 'completed') {
      clearTimeout(this.#graceTimer);
      this.#graceTimer = undefined;
      if (this.#interrupted) this.#resumed('ICE connected again');
    } else if (state === 'disconnected') {
      this.#interrupted = true;
      this.#graceTimer ??= setTimeout(() => void this.close('ice_disconnected'), this.timings.disconnectGraceMs);
    } else if (state === 'failed') {
      void this.close('ice_failed');
    } else if (state === 'closed') {
      void this.close('closed');
    }
  }

  /** Subclass clean-up before the peer closes (down-tracks, published tracks, report timers). */
  protected abstract release(): void;

  /**
   * Close the session: children first (tracks), timers, subscriptions, listeners (told why unless
   * the client itself asked), then the peer connection; finally the room is told. Idempotent.
   */
  close(reason: string): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      clearTimeout(this.#graceTimer);
      clearTimeout(this.#connectTimer);
      clearInterval(this.#watchdog);
      this.#graceTimer = undefined;
      this.#connectTimer = undefined;
      this.#watchdog = undefined;
      for (const un of this.#subscriptions) un();
      this.#subscriptions.length = 0;
      try {
        this.release();
      } catch (err) {
        this.logger.error({ err }, 'error releasing session');
      }
      if (reason !== 'deleted') this.notify({ type: 'ended', reason });
      this.#ended = true;
      try {
        // tell the peer at once (RFC 7675 §5.2) instead of leaving it to notice unanswered consent checks
        await sendCloseNotify(this.pc);
        await this.pc.close();
      } catch (err) {
        this.logger.warn({ err }, 'error closing peer connection');
      }
      this.logger.info({ reason, kind: this.kind }, 'session closed');
      this.emit('close', { session: this, reason });
      this.removeAllListeners();
    })();
    return this.#closing;
  }
}
