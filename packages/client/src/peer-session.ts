import type { CandidatePayload, PeerId, SdpPayload, SignalKind } from '@fusionflow/protocol';
import { readStatsSample, type StatsSample } from './connection-quality.js';

/** The RTCPeerConnection to use: the browser's by default; Node tests pass another (e.g. werift's). */
export type PeerConnectionFactory = (config: RTCConfiguration) => RTCPeerConnection;

export interface PeerSessionOptions {
  peerId: PeerId;
  /** This side makes the offers (named by the server). */
  initiator: boolean;
  /** The session id: a new one for an initiator, the offer's for a responder. */
  session: string;
  createPeerConnection: PeerConnectionFactory;
  config: RTCConfiguration;
  send(kind: SignalKind, payload: SdpPayload | CandidatePayload): void;
  onTrack(track: MediaStreamTrack): void;
  onConnectionState(state: RTCPeerConnectionState): void;
  log?: (message: string, data?: Record<string, unknown>) => void;
  /**
   * An unanswered offer younger than this is not taken back for the same request again (default 1000 ms): one
   * network change makes the peer ask on several triggers at once, and each rollback would restart ICE again.
   * Still unanswered at that age, it is taken back and made again.
   */
  freshOfferMs?: number;
}

/** A transceiver's media kind (browsers: its receiver's track; some Node stacks name it on the transceiver). */
function kindOf(t: RTCRtpTransceiver): string | undefined {
  return t.receiver.track?.kind ?? (t as { kind?: string }).kind ?? t.sender.track?.kind;
}

let seq = 0;
/** A session id: unique enough to tell a new connection from the current one. */
export function newSessionId(): string {
  seq = (seq + 1) % 1_000_000;
  return `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}${seq.toString(36)}`;
}

/**
 * One RTCPeerConnection to one remote peer. Exactly one side (the initiator the server named)
 * offers: it adds an audio and a video transceiver and offers; the responder answers. Tracks are
 * attached and detached with `replaceTrack` (no renegotiation), so a camera toggle never races an
 * offer. ICE candidates that come before the remote description wait for it.
 */
export class PeerSession {
  readonly pc: RTCPeerConnection;
  readonly peerId: PeerId;
  readonly initiator: boolean;
  readonly session: string;
  #tracks: { audio: MediaStreamTrack | null; video: MediaStreamTrack | null } = { audio: null, video: null };
  #pendingCandidates: (RTCIceCandidateInit | null)[] = [];
  #makingOffer = false;
  /** The connection went `disconnected` or `failed` since it was last `connected`. */
  #interrupted = false;
  /** When this side last sent (initiator) or answered (responder) an ICE restart offer. */
  #restartedAt = Number.NEGATIVE_INFINITY;
  /** Initiator: when the offer now out was sent, and whether it restarts ICE. */
  #offeredAt = 0;
  #offerRestartsIce = false;
  /** Initiator: asked again while the offer was fresh; looked at again once it is not. */
  #recheck: ReturnType<typeof setTimeout> | undefined;
  #recheckRestartIce = false;
  #pendingRestart: { restartIce: boolean } | undefined;
  /** Initiator: the number of the offer last sent (an answer names the offer it answers). */
  #revision = 0;
  #closed = false;

  constructor(private readonly o: PeerSessionOptions) {
    this.peerId = o.peerId;
    this.initiator = o.initiator;
    this.session = o.session;
    this.pc = o.createPeerConnection(o.config);
    this.pc.onicecandidate = (e) => {
      if (this.#closed) return;
      const c = e.candidate;
      this.o.send('candidate', {
        session: this.session,
        candidate: c
          ? {
              candidate: c.candidate,
              sdpMid: c.sdpMid ?? null,
              sdpMLineIndex: c.sdpMLineIndex ?? null,
              usernameFragment: c.usernameFragment ?? null,
            }
          : null,
      });
    };
    this.pc.ontrack = (e) => {
      if (!this.#closed) this.o.onTrack(e.track);
    };
    this.pc.onconnectionstatechange = () => {
      if (this.#closed) return;
      const state = this.pc.connectionState;
      if (state === 'disconnected' || state === 'failed') this.#interrupted = true;
      else if (state === 'connected' && this.#interrupted) {
        this.#interrupted = false;
        void this.#sendKeyframe();
      }
      this.o.onConnectionState(state);
    };
  }

  get connectionState(): RTCPeerConnectionState {
    return this.pc.connectionState;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Initiator: add the transceivers and make the first offer. */
  async start(): Promise<void> {
    if (!this.initiator) throw new Error('only the initiator starts a session');
    const audio = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
    const video = this.pc.addTransceiver('video', { direction: 'sendrecv' });
    await audio.sender.replaceTrack(this.#tracks.audio);
    await video.sender.replaceTrack(this.#tracks.video);
    await this.#offer(false);
  }

  /**
   * Initiator: offer again (after a replay request), restarting ICE when asked. An offer still
   * unanswered is taken back first: it may have gone to a connection that died with the network
   * (the answer never comes), and waiting for that answer would leave the call stuck.
   */
  async renegotiate(restartIce: boolean): Promise<void> {
    if (!this.initiator || this.#closed) return;
    const wanted = restartIce || (this.#pendingRestart?.restartIce ?? false);
    if (this.#makingOffer) {
      // An offer is being made right now: offer again once it is out (see #offer).
      this.#pendingRestart = { restartIce: wanted };
      return;
    }
    this.#pendingRestart = undefined;
    if (this.pc.signalingState === 'have-local-offer') {
      const fresh = this.o.freshOfferMs ?? 1000;
      const age = Date.now() - this.#offeredAt;
      if (age < fresh && (this.#offerRestartsIce || !wanted)) {
        this.#recheckLater(fresh - age, wanted);
        return;
      }
      this.o.log?.('unanswered offer rolled back', { peerId: this.peerId, restartIce: wanted });
      await this.pc.setLocalDescription({ type: 'rollback' });
      if (this.#closed) return;
    }
    await this.#offer(wanted);
  }

  /** The offer out is what was asked for; if it is still unanswered once no longer fresh, offer again then. */
  #recheckLater(ms: number, restartIce: boolean): void {
    this.#recheckRestartIce ||= restartIce;
    if (this.#recheck) return;
    const revision = this.#revision;
    this.#recheck = setTimeout(() => {
      this.#recheck = undefined;
      const wanted = this.#recheckRestartIce;
      this.#recheckRestartIce = false;
      if (this.#closed || this.#revision !== revision || this.pc.signalingState !== 'have-local-offer') return;
      this.renegotiate(wanted).catch((err: unknown) =>
        this.o.log?.('offer again failed', { peerId: this.peerId, error: String(err) }),
      );
    }, ms);
  }

  /**
   * An ICE restart was offered or answered within the last `ms`: its checks are still running, and the
   * `disconnected` the old route reports meanwhile is no reason to restart once more.
   */
  restartedWithin(ms: number): boolean {
    return Date.now() - this.#restartedAt < ms;
  }

  async handleOffer(payload: SdpPayload): Promise<void> {
    if (this.initiator || this.#closed) return;
    if (payload.restartIce) this.#restartedAt = Date.now();
    await this.pc.setRemoteDescription({ type: 'offer', sdp: payload.sdp });
    for (const t of this.pc.getTransceivers()) {
      const kind = kindOf(t);
      if (kind !== 'audio' && kind !== 'video') continue;
      t.direction = 'sendrecv';
      await t.sender.replaceTrack(this.#tracks[kind]);
    }
    const answer = await this.pc.createAnswer();
    await this.pc.setLocalDescription(answer);
    await this.#flushCandidates();
    this.o.send('answer', {
      sdp: this.pc.localDescription?.sdp ?? answer.sdp ?? '',
      session: this.session,
      ...(payload.revision !== undefined ? { revision: payload.revision } : {}),
    });
  }

  async handleAnswer(payload: SdpPayload): Promise<void> {
    if (!this.initiator || this.#closed || this.pc.signalingState !== 'have-local-offer') return;
    if (payload.revision !== undefined && payload.revision !== this.#revision) {
      // The answer to an offer rolled back since (it came late): the answer to the current one follows.
      this.o.log?.('answer to an earlier offer ignored', { peerId: this.peerId, revision: payload.revision });
      return;
    }
    await this.pc.setRemoteDescription({ type: 'answer', sdp: payload.sdp });
    await this.#flushCandidates();
    const pending = this.#pendingRestart;
    this.#pendingRestart = undefined;
    if (pending) await this.#offer(pending.restartIce);
  }

  async handleCandidate(payload: CandidatePayload): Promise<void> {
    if (this.#closed) return;
    if (!this.pc.remoteDescription) {
      this.#pendingCandidates.push(payload.candidate);
      return;
    }
    await this.#addCandidate(payload.candidate);
  }

  /** Send these tracks (null sends nothing on that kind). */
  async setTracks(tracks: { audio: MediaStreamTrack | null; video: MediaStreamTrack | null }): Promise<void> {
    this.#tracks = { ...tracks };
    if (this.#closed) return;
    for (const t of this.pc.getTransceivers()) {
      const kind = kindOf(t);
      if (kind !== 'audio' && kind !== 'video') continue;
      if (t.sender.track !== this.#tracks[kind]) await t.sender.replaceTrack(this.#tracks[kind]);
    }
  }

  /**
   * Media flows again after an interruption (an ICE restart, a network switch): the peer's decoder waits for
   * frames lost meanwhile, and a browser cannot ask its peer for a keyframe, so the sender makes one: switching
   * its video encoding off and on restarts the encoder, whose first frame is a keyframe. Without it the picture
   * stays frozen, with packets arriving, until the receiver's own keyframe request seconds later.
   */
  async #sendKeyframe(): Promise<void> {
    for (const t of this.pc.getTransceivers()) {
      if (kindOf(t) !== 'video' || !t.sender.track || typeof t.sender.getParameters !== 'function') continue;
      try {
        const off = t.sender.getParameters();
        if (!off.encodings?.length) continue;
        for (const e of off.encodings) e.active = false;
        await t.sender.setParameters(off);
        const on = t.sender.getParameters();
        for (const e of on.encodings) e.active = true;
        await t.sender.setParameters(on);
        this.o.log?.('keyframe sent after an interruption', { peerId: this.peerId });
      } catch (err) {
        this.o.log?.('could not send a keyframe', { peerId: this.peerId, error: String(err) });
      }
    }
  }

  /** What has arrived from the peer so far, and over which route (taken at `at`, ms); null once closed. */
  async stats(at: number): Promise<StatsSample | null> {
    if (this.#closed) return null;
    return readStatsSample(await this.pc.getStats(), at);
  }

  /** Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearTimeout(this.#recheck);
    this.pc.onicecandidate = null;
    this.pc.ontrack = null;
    this.pc.onconnectionstatechange = null;
    this.#pendingCandidates = [];
    this.pc.close();
  }

  async #offer(restartIce: boolean): Promise<void> {
    if (this.#closed) return;
    this.#makingOffer = true;
    try {
      const offer = await this.pc.createOffer(restartIce ? { iceRestart: true } : {});
      await this.pc.setLocalDescription(offer);
      this.#revision += 1;
      this.#offeredAt = Date.now();
      this.#offerRestartsIce = restartIce;
      if (restartIce) this.#restartedAt = this.#offeredAt;
      this.o.send('offer', {
        sdp: this.pc.localDescription?.sdp ?? offer.sdp ?? '',
        session: this.session,
        revision: this.#revision,
        ...(restartIce ? { restartIce: true } : {}),
      });
      this.o.log?.('offer sent', { peerId: this.peerId, restartIce });
    } finally {
      this.#makingOffer = false;
    }
    // A renegotiation asked for while this offer was being made: it waits for the answer
    // (handleAnswer), or a later renegotiate rolls this offer back if the answer never comes.
  }

  async #flushCandidates(): Promise<void> {
    const queued = this.#pendingCandidates;
    this.#pendingCandidates = [];
    for (const c of queued) await this.#addCandidate(c);
  }

  async #addCandidate(candidate: RTCIceCandidateInit | null): Promise<void> {
    try {
      // null (end of candidates) is not understood everywhere; nothing is lost by skipping it.
      if (candidate && candidate.candidate !== '') await this.pc.addIceCandidate(candidate);
    } catch (err) {
      this.o.log?.('candidate refused', { peerId: this.peerId, error: String(err) });
    }
  }
}
