import {
  type CallBillingMessage,
  type JoinedMessage,
  type MediaState,
  type MediaStateUpdateMessage,
  NO_MEDIA,
  type PeerId,
  type PeerJoinedMessage,
  type PeerLeftMessage,
  type PeerLeftReason,
  type PeerState,
  type RemovedMessage,
  type RenegotiateMessage,
  type ReplayReason,
  type RoomState,
  type ServerSignalMessage,
} from '@fusionflow/protocol';
import type { io } from 'socket.io-client';
import { type ConnectionQuality, connectionQuality, type StatsSample } from './connection-quality.js';
import { Emitter } from './emitter.js';
import { FusionFlowError } from './fusionflow-error.js';
import { MediaReconciler, type ReconcileOptions, type ReconcileState } from './media-reconciler.js';
import type { MediaReporter } from './media-reporter.js';
import { watchNetworkChanges } from './network-watcher.js';
import { newSessionId, type PeerConnectionFactory, PeerSession } from './peer-session.js';
import { SignalingConnection } from './signaling-connection.js';

/** Where a tab keeps its resume token, so a reload takes its slot back (the browser's sessionStorage). */
export interface ResumeStore {
  get(roomId: string): string | null;
  set(roomId: string, token: string | null): void;
}

/** A resume store on `sessionStorage` (per tab, survives reloads); a no-op where there is none. */
export function sessionResumeStore(): ResumeStore {
  const storage = (globalThis as { sessionStorage?: Storage }).sessionStorage;
  const key = (roomId: string) => `ff-call-resume:${roomId}`;
  return {
    get: (roomId) => {
      try {
        return storage?.getItem(key(roomId)) ?? null;
      } catch {
        return null;
      }
    },
    set: (roomId, token) => {
      try {
        if (token) storage?.setItem(key(roomId), token);
        else storage?.removeItem(key(roomId));
      } catch {
        // Storage may be unavailable (private mode); resuming then relies on the same-user rule.
      }
    },
  };
}

export interface CallClientOptions {
  /** Origin of the control plane ('' or undefined: the page's own). */
  url?: string;
  /** The current access token; asked on every (re)connect, so it may be refreshed in between. */
  token: () => string | Promise<string>;
  /** ICE servers (STUN/TURN with fresh credentials), e.g. `() => api.getIceServers().then(r => r.iceServers)`. */
  iceServers?: () => RTCIceServer[] | Promise<RTCIceServer[]>;
  /** `relay` sends everything through TURN (hides this side's addresses). */
  iceTransportPolicy?: RTCIceTransportPolicy;
  /** The RTCPeerConnection to use (Node tests pass werift's); the global one by default. */
  createPeerConnection?: PeerConnectionFactory;
  resumeStore?: ResumeStore;
  /** The language this user reads chat in (sent in `join`); the profile's preferred language when absent. */
  language?: string;
  /**
   * The call's media report (see `MediaReporter`): fed every connection's stats and ICE failures. Whoever makes it
   * starts it (the click on Join) and ends it (leaving, the page going away).
   */
  reporter?: MediaReporter;
  reconcile?: ReconcileOptions & {
    /** How often getStats() is read, ms (the quality shown is computed over about a second of them). */
    sampleMs?: number;
    /** A peer connection not connected this long (while both sides are signaling) is started again. */
    connectTimeoutMs?: number;
    /**
     * A peer connection that goes `disconnected` restarts ICE at once; still `disconnected` this
     * long after that, it asks once more (the connect timeout starts over after that).
     */
    disconnectedMs?: number;
  };
  /**
   * Watches the device's network and calls back on a change (default: the browser's `online` and
   * `navigator.connection` `change` events); every peer connection then restarts ICE at once.
   */
  watchNetwork?: (onChange: () => void) => () => void;
  /** socket.io-client's `io` and extra options (tests). */
  io?: typeof io;
  socketOptions?: Record<string, unknown>;
  log?: (message: string, data?: Record<string, unknown>) => void;
}

export type CallStatus = 'idle' | 'joining' | 'joined' | 'reconnecting' | 'left' | 'ended' | 'failed';

/** How the connection to one peer is doing (see `connectionQuality`), about once a second. */
export interface PeerQuality extends ConnectionQuality {
  peerId: PeerId;
  /** Video frames decoded so far (video packets where the stack decodes none, e.g. werift). */
  videoFrames: number;
}

/** A remote peer as this client sees it: the server's canonical state plus what arrives. */
export interface RemotePeer {
  readonly state: PeerState;
  /** Who makes the offer for this pair. */
  readonly initiatorId: PeerId;
  readonly reconcile: ReconcileState;
  readonly connection: RTCPeerConnectionState;
  readonly quality: PeerQuality | null;
}

export interface CallEvents {
  [key: string]: unknown;
  status: CallStatus;
  joined: JoinedMessage;
  'peer-joined': RemotePeer;
  'peer-left': { peerId: PeerId; reason: PeerLeftReason };
  /** Anything about a peer changed (media expectation, presence, connection, reconciliation). */
  'peer-updated': RemotePeer;
  track: { peerId: PeerId; track: MediaStreamTrack };
  'media-state': MediaStateUpdateMessage;
  /** What the server holds for this peer, i.e. what it sends now. */
  'self-media': MediaState;
  reconciliation: { peerId: PeerId; state: ReconcileState; replay?: ReplayReason };
  quality: PeerQuality;
  /** A private call's meter: minutes charged, time left, low balance, the end. */
  billing: CallBillingMessage;
  /** The server took this peer out of the call (a private call's balance ran out); the call is over. */
  removed: RemovedMessage;
  error: FusionFlowError;
  /**
   * The signaling connection, once made and before it connects: others that share it (the chat)
   * attach here, so they see the `joined` and everything after it.
   */
  connection: SignalingConnection;
}

interface PeerEntry {
  state: PeerState;
  initiatorId: PeerId;
  session: PeerSession | undefined;
  reconciler: MediaReconciler;
  quality: PeerQuality | null;
  /** The sample the shown quality was last computed from, and the session it came from. */
  qualityBase: { session: PeerSession; sample: StatsSample } | undefined;
  /** Serialises signaling work for this peer (offer, answer, candidates in order). */
  queue: Promise<void>;
  /** Since when the connection to this peer has not been up (ms), for the connect timeout. */
  notConnectedSince: number | undefined;
  disconnectedTimer: ReturnType<typeof setTimeout> | undefined;
}

/** The shown quality is computed over about this long (a sample a little early still counts). */
const QUALITY_INTERVAL_MS = 900;
const now = () => (globalThis.performance?.now?.() ?? Date.now()) as number;
/** How long an ICE restart's checks get before a `disconnected` asks for another one (the 3 s last resort stays). */
const RESTART_UNDER_WAY_MS = 2500;
const sameMedia = (a: MediaState, b: MediaState) => a.camera === b.camera && a.mic === b.mic && a.screen === b.screen;

/**
 * A call: join a `call` room, send camera and microphone to every other peer (a mesh of up to
 * four, peer to peer, through TURN when needed), and keep it working. The server is the source of
 * truth: the peers, who offers to whom, and what each peer is expected to send. This client sends
 * exactly what the server holds for it (`setMedia` asks; the server's `media-state` decides), and
 * checks what it receives against what the server expects with `getStats()` (frames arriving),
 * asking for a replay when they differ. A dropped connection reconnects and resumes its slot.
 *
 * Works in browsers and, with `createPeerConnection`, in Node.
 */
export class CallClient extends Emitter<CallEvents> {
  readonly #o: CallClientOptions;
  #signaling: SignalingConnection | undefined;
  #status: CallStatus = 'idle';
  #roomId: string | undefined;
  #roomState: RoomState | undefined;
  #self: PeerState | undefined;
  #resumeToken: string | undefined;
  readonly #peers = new Map<PeerId, PeerEntry>();
  #desired: MediaState = { ...NO_MEDIA };
  #held: MediaState = { ...NO_MEDIA };
  #local: { audio: MediaStreamTrack | null; video: MediaStreamTrack | null } = { audio: null, video: null };
  #iceServers: RTCIceServer[] = [];
  #sampler: ReturnType<typeof setInterval> | undefined;
  #sampling = false;
  #stopWatchingNetwork: (() => void) | undefined;
  /** The network changed while signaling was down: restart ICE once joined again. */
  #restartOnRejoin = false;
  #closed = false;

  constructor(options: CallClientOptions) {
    super();
    this.#o = options;
  }

  get status(): CallStatus {
    return this.#status;
  }
  get self(): PeerState | undefined {
    return this.#self;
  }
  get roomState(): RoomState | undefined {
    return this.#roomState;
  }
  /** What the user asked to send. */
  get desiredMedia(): MediaState {
    return { ...this.#desired };
  }
  /** What the server holds for this peer (what is sent). */
  get media(): MediaState {
    return { ...this.#held };
  }
  /** The signaling connection (after `join`), for others that share it, e.g. a ChatClient. */
  get signaling(): SignalingConnection | undefined {
    return this.#signaling;
  }
  get peers(): RemotePeer[] {
    return [...this.#peers.values()].map((e) => this.#view(e));
  }
  peer(peerId: PeerId): RemotePeer | undefined {
    const e = this.#peers.get(peerId);
    return e && this.#view(e);
  }

  /** Join a call room; resolves with the server's `joined`, rejects with its error. */
  async join(roomId: string): Promise<JoinedMessage> {
    if (this.#closed || this.#signaling) throw new Error('a CallClient joins one room once');
    this.#roomId = roomId;
    this.#resumeToken = this.#o.resumeStore?.get(roomId) ?? undefined;
    this.#setStatus('joining');
    try {
      this.#iceServers = (await this.#o.iceServers?.()) ?? [];
    } catch (err) {
      this.#log('could not fetch ICE servers; going on without', { error: String(err) });
    }
    const signaling = new SignalingConnection({
      url: this.#o.url,
      token: this.#o.token,
      ...(this.#o.io ? { io: this.#o.io } : {}),
      ...(this.#o.socketOptions ? { socketOptions: this.#o.socketOptions } : {}),
    });
    this.#signaling = signaling;
    const joined = new Promise<JoinedMessage>((resolve, reject) => {
      const offs = [
        signaling.on('joined', (msg) => {
          for (const off of offs) off();
          resolve(msg);
        }),
        signaling.on('error', (err) => {
          if (err.event !== 'join' || this.#self) return;
          for (const off of offs) off();
          reject(FusionFlowError.fromWire(err));
        }),
        signaling.on('fatal', (err) => {
          for (const off of offs) off();
          reject(err);
        }),
      ];
    });
    signaling.on('status', (s) => {
      if (s === 'connected') this.#sendJoin();
      else if (s === 'reconnecting' && this.#status === 'joined') this.#setStatus('reconnecting');
    });
    signaling.on('fatal', (err) => {
      this.emit('error', err);
      this.#shutdown('failed');
    });
    signaling.on('joined', (msg) => this.#onJoined(msg));
    signaling.on('room-state', (msg) => this.#onRoomState(msg));
    signaling.on('peer-joined', (msg) => this.#onPeerJoined(msg));
    signaling.on('peer-left', (msg) => this.#onPeerLeft(msg));
    signaling.on('signal', (msg) => this.#onSignal(msg));
    signaling.on('media-state', (msg) => this.#onMediaState(msg));
    signaling.on('renegotiate', (msg) => this.#onRenegotiate(msg));
    signaling.on('billing', (msg) => this.emit('billing', msg));
    signaling.on('removed', (msg) => {
      this.emit('removed', msg);
      this.#o.resumeStore?.set(msg.roomId, null);
      for (const id of [...this.#peers.keys()]) this.#removePeer(id, 'removed');
      this.#shutdown('ended');
    });
    signaling.on('error', (err) => this.emit('error', FusionFlowError.fromWire(err)));
    signaling.on('protocol-error', (e) => this.#log('invalid message from the server dropped', e));
    this.emit('connection', signaling);
    signaling.connect();
    try {
      return await joined;
    } catch (err) {
      this.#shutdown('failed');
      throw err;
    }
  }

  /** The tracks to send when the server's state says so (null: none of that kind). */
  setLocalTracks(tracks: { audio?: MediaStreamTrack | null; video?: MediaStreamTrack | null }): void {
    this.#local = { ...this.#local, ...tracks };
    this.#applySelfMedia();
  }

  /** Ask to send (or stop) camera, microphone or screen; takes effect when the server confirms. */
  setMedia(patch: Partial<MediaState>): void {
    this.#desired = { ...this.#desired, ...patch };
    if (this.#status === 'joined' && this.#signaling?.connected) this.#signaling.send('media-state', this.#desired);
  }

  /** Drop the signaling connection as a network failure would (it reconnects by itself). */
  dropSignaling(): void {
    this.#signaling?.dropConnection();
  }

  /** Leave the call now (the others see `peer-left` at once). Idempotent. */
  leave(): void {
    if (this.#closed) return;
    if (this.#signaling?.connected && this.#self) this.#signaling.send('leave', {});
    if (this.#roomId) this.#o.resumeStore?.set(this.#roomId, null);
    this.#shutdown('left');
  }

  /** Stop without leaving: the slot waits the grace period (a reload resumes it). Idempotent. */
  close(): void {
    this.#shutdown('left');
  }

  // --- server messages ------------------------------------------------------------------------

  #sendJoin(): void {
    if (!this.#roomId || this.#closed) return;
    this.#signaling!.send('join', {
      roomId: this.#roomId,
      ...(this.#resumeToken ? { resume: this.#resumeToken } : {}),
      ...(this.#o.language ? { language: this.#o.language } : {}),
    });
  }

  #onJoined(msg: JoinedMessage): void {
    this.#self = msg.self;
    this.#resumeToken = msg.resumeToken;
    this.#o.resumeStore?.set(msg.roomState.roomId, msg.resumeToken);
    this.#roomState = msg.roomState;
    const initiators = new Map(msg.links.map((l) => [l.peerId, l.initiatorId]));
    for (const id of [...this.#peers.keys()]) {
      if (!initiators.has(id)) this.#removePeer(id, 'left');
    }
    for (const p of msg.roomState.peers) {
      if (p.peerId === msg.self.peerId) continue;
      this.#upsertPeer(p, initiators.get(p.peerId) ?? msg.self.peerId);
    }
    this.#held = { ...msg.self.media };
    this.#applySelfMedia();
    this.emit('self-media', { ...this.#held });
    this.#setStatus('joined');
    this.emit('joined', msg);
    if (!sameMedia(this.#desired, this.#held)) this.#signaling?.send('media-state', this.#desired);
    for (const entry of this.#peers.values()) this.#ensureConnection(entry, msg.resumed);
    if (this.#restartOnRejoin) this.#restartIceAll();
    this.#startSampler();
    this.#stopWatchingNetwork ??= (this.#o.watchNetwork ?? watchNetworkChanges)(() => this.#onNetworkChange());
  }

  #onRoomState(state: RoomState): void {
    if (!this.#self) return;
    this.#roomState = state;
    if (state.status === 'ended') {
      this.#o.resumeStore?.set(state.roomId, null);
      for (const id of [...this.#peers.keys()]) this.#removePeer(id, 'ended');
      this.#shutdown('ended');
      return;
    }
    for (const p of state.peers) {
      const entry = this.#peers.get(p.peerId);
      if (!entry) continue;
      const cameBack = !entry.state.connected && p.connected;
      entry.state = p;
      this.emit('peer-updated', this.#view(entry));
      // The peer is back on signaling: whatever broke while it was away gets repaired now.
      if (cameBack) this.#ensureConnection(entry, true);
    }
  }

  #onPeerJoined(msg: PeerJoinedMessage): void {
    if (!this.#self || msg.peerId === this.#self.peerId) return;
    const entry = this.#upsertPeer(msg.peer, msg.initiatorId);
    this.emit('peer-joined', this.#view(entry));
    if (msg.initiatorId === this.#self.peerId) this.#ensureConnection(entry, false);
  }

  #onPeerLeft(msg: PeerLeftMessage): void {
    this.#removePeer(msg.peerId, msg.reason);
  }

  #onSignal(msg: ServerSignalMessage): void {
    const entry = this.#peers.get(msg.from);
    if (!entry || !this.#self) {
      this.#log('signal from an unknown peer ignored', { from: msg.from });
      return;
    }
    this.#enqueue(entry, async () => {
      if (msg.kind === 'offer') {
        if (entry.initiatorId === this.#self!.peerId) return; // only the initiator offers
        if (!entry.session || entry.session.closed || entry.session.session !== msg.payload.session) {
          this.#replaceSession(entry, false, msg.payload.session);
        }
        await entry.session!.handleOffer(msg.payload);
      } else if (entry.session && entry.session.session === msg.payload.session) {
        if (msg.kind === 'answer') await entry.session.handleAnswer(msg.payload);
        else await entry.session.handleCandidate(msg.payload);
      }
    });
  }

  #onMediaState(msg: MediaStateUpdateMessage): void {
    if (!this.#self) return;
    if (msg.peerId === this.#self.peerId) {
      this.#held = { ...msg.state };
      this.#applySelfMedia();
      this.emit('self-media', { ...this.#held });
      return;
    }
    const entry = this.#peers.get(msg.peerId);
    if (!entry) return;
    entry.state = { ...entry.state, media: { ...msg.state } };
    this.emit('media-state', msg);
    this.emit('peer-updated', this.#view(entry));
  }

  #onRenegotiate(msg: RenegotiateMessage): void {
    const entry = this.#peers.get(msg.peerId);
    if (!entry || !this.#self || entry.initiatorId !== this.#self.peerId) return;
    this.#log('renegotiating on request', { peerId: msg.peerId, reason: msg.reason, restartIce: msg.restartIce });
    this.#enqueue(entry, async () => {
      if (msg.fresh || !entry.session || entry.session.closed) {
        this.#replaceSession(entry, true, newSessionId());
        await entry.session!.start();
      } else {
        await entry.session.renegotiate(msg.restartIce || entry.session.connectionState === 'failed');
      }
    });
  }

  // --- connections ----------------------------------------------------------------------------

  /** Make sure a connection to this peer exists or is being made; repair it when its transport failed. */
  #ensureConnection(entry: PeerEntry, afterReconnect: boolean): void {
    if (!this.#self || !entry.state.connected) return;
    const s = entry.session;
    const healthy = s && !s.closed && s.connectionState !== 'failed' && s.connectionState !== 'closed';
    if (healthy && s.connectionState !== 'disconnected') return;
    if (entry.initiatorId === this.#self.peerId) {
      this.#enqueue(entry, async () => {
        if (!entry.session || entry.session.closed || entry.session.connectionState === 'closed') {
          this.#replaceSession(entry, true, newSessionId());
          await entry.session!.start();
        } else {
          await entry.session.renegotiate(true);
        }
      });
    } else if (afterReconnect || s) {
      this.#requestReplay(entry, s && !s.closed ? 'transport-failed' : 'no-connection');
    }
    // Otherwise: a newcomer that is not the initiator waits for the initiator's offer.
  }

  #replaceSession(entry: PeerEntry, initiator: boolean, session: string): void {
    entry.session?.close();
    clearTimeout(entry.disconnectedTimer);
    if (entry.reconciler.reset()) {
      this.emit('reconciliation', { peerId: entry.state.peerId, state: 'connected' });
    }
    entry.notConnectedSince = now();
    const peerId = entry.state.peerId;
    const created = new PeerSession({
      peerId,
      initiator,
      session,
      createPeerConnection: this.#o.createPeerConnection ?? ((config) => new RTCPeerConnection(config)),
      config: {
        iceServers: this.#iceServers,
        ...(this.#o.iceTransportPolicy ? { iceTransportPolicy: this.#o.iceTransportPolicy } : {}),
      },
      send: (kind, payload) => {
        if (this.#signaling?.connected && this.#self) {
          this.#signaling.send('signal', { to: peerId, kind, payload } as never);
        }
      },
      onTrack: (track) => this.emit('track', { peerId, track }),
      onConnectionState: (state) => this.#onConnectionState(entry, created, state),
      log: this.#o.log,
    });
    entry.session = created;
    void created.setTracks(this.#sendingTracks());
  }

  #onConnectionState(entry: PeerEntry, session: PeerSession, state: RTCPeerConnectionState): void {
    if (entry.session !== session) return;
    this.emit('peer-updated', this.#view(entry));
    clearTimeout(entry.disconnectedTimer);
    if (state === 'connected') {
      entry.notConnectedSince = undefined;
      return;
    }
    entry.notConnectedSince ??= now();
    if (state === 'failed') {
      this.#o.reporter?.iceFailure('failed');
      this.#ensureConnection(entry, false);
    }
    if (state === 'disconnected') {
      // Most often the network changed under this side or the peer: restart ICE now rather than
      // wait to see whether it heals (an ICE restart on a blip costs one offer and answer).
      // Unless a restart is under way: asking again would start its checks over.
      if (session.restartedWithin(RESTART_UNDER_WAY_MS)) {
        this.#log('peer connection disconnected during an ICE restart; waiting for it', { peerId: entry.state.peerId });
      } else {
        this.#log('peer connection disconnected; restarting ICE', { peerId: entry.state.peerId });
        this.#ensureConnection(entry, false);
      }
      // Last resort, should that offer or replay request be lost: ask again.
      entry.disconnectedTimer = setTimeout(() => {
        if (entry.session === session && session.connectionState === 'disconnected')
          this.#ensureConnection(entry, false);
      }, this.#o.reconcile?.disconnectedMs ?? 3000);
    }
  }

  /**
   * The device's network changed: every route made on the old network is suspect, the signaling connection's
   * too (its socket lost its address and may not know it yet, so what is sent on it is lost). Reconnect
   * signaling now (the slot resumes) and restart ICE on every peer connection once rejoined.
   */
  #onNetworkChange(): void {
    if (this.#closed || !this.#self) return;
    this.#restartOnRejoin = true;
    this.#log('network changed; reconnecting signaling, then restarting ICE');
    this.#signaling?.reconnectNow();
  }

  /** Restart ICE on every peer connection (after a network change, once signaling is back). */
  #restartIceAll(): void {
    this.#restartOnRejoin = false;
    if (!this.#self) return;
    this.#log('network changed; restarting ICE');
    for (const entry of this.#peers.values()) {
      const s = entry.session;
      if (!entry.state.connected || !s || s.closed) {
        this.#ensureConnection(entry, false);
      } else if (entry.initiatorId === this.#self.peerId) {
        this.#enqueue(entry, () => s.renegotiate(true));
      } else {
        this.#requestReplay(entry, 'transport-failed');
      }
    }
  }

  #requestReplay(entry: PeerEntry, reason: ReplayReason): void {
    if (!this.#signaling?.connected || !this.#self) return;
    this.#log('replay requested', { peerId: entry.state.peerId, reason });
    this.#signaling.send('replay-request', { peerId: entry.state.peerId, reason });
  }

  // --- reconciliation -------------------------------------------------------------------------

  #startSampler(): void {
    if (this.#sampler || this.#closed) return;
    this.#sampler = setInterval(() => void this.#sample(), this.#o.reconcile?.sampleMs ?? 500);
  }

  async #sample(): Promise<void> {
    if (this.#sampling || this.#closed) return;
    this.#sampling = true;
    try {
      const signalingUp = this.#status === 'joined' && Boolean(this.#signaling?.connected);
      for (const entry of this.#peers.values()) {
        const s = entry.session;
        const at = now();
        // Not connected for too long while both sides are on signaling: start over.
        const timeout = this.#o.reconcile?.connectTimeoutMs ?? 10_000;
        if (signalingUp && entry.state.connected && entry.notConnectedSince !== undefined) {
          if (at - entry.notConnectedSince >= timeout && (s || entry.initiatorId === this.#self?.peerId)) {
            entry.notConnectedSince = at;
            this.#log('peer connection did not come up; starting over', { peerId: entry.state.peerId });
            this.#o.reporter?.iceFailure('connect_timeout');
            if (entry.initiatorId === this.#self?.peerId) {
              this.#enqueue(entry, async () => {
                this.#replaceSession(entry, true, newSessionId());
                await entry.session!.start();
              });
            } else this.#requestReplay(entry, 'no-connection');
          }
        }
        if (!s || s.closed) continue;
        const stats = await s.stats(at);
        if (!stats || entry.session !== s) continue;
        const media = entry.state.media;
        const expectVideo = media.camera || media.screen;
        const videoFrames = stats.decodesFrames ? stats.framesDecoded : stats.videoPackets;
        const outcome = entry.reconciler.sample({
          now: at,
          expected: { audio: media.mic, video: expectVideo },
          counters: { video: videoFrames, audio: stats.audioPackets },
          transportConnected: s.connectionState === 'connected' && entry.state.connected && signalingUp,
        });
        this.#o.reporter?.observe(s, stats, expectVideo);
        // Loss, frame rate and level compare samples about a second apart (the reconciler samples more often); the
        // counters and the route are the latest.
        const base = entry.qualityBase?.session === s ? entry.qualityBase.sample : undefined;
        const fresh = connectionQuality(stats, base, { expectVideo });
        if (!base || at - base.at >= QUALITY_INTERVAL_MS) {
          entry.qualityBase = { session: s, sample: stats };
          entry.quality = { peerId: entry.state.peerId, ...fresh, videoFrames };
        } else {
          const { level, lossPercent, framesPerSecond } = entry.quality ?? fresh;
          entry.quality = { peerId: entry.state.peerId, ...fresh, level, lossPercent, framesPerSecond, videoFrames };
        }
        this.emit('quality', entry.quality);
        for (const state of outcome.transitions) {
          this.emit('reconciliation', {
            peerId: entry.state.peerId,
            state,
            ...(outcome.replay && state === 'replay-requested' ? { replay: outcome.replay } : {}),
          });
        }
        if (outcome.replay) this.#requestReplay(entry, outcome.replay);
        if (outcome.transitions.length > 0 || outcome.replay) this.emit('peer-updated', this.#view(entry));
      }
    } catch (err) {
      this.#log('stats sampling failed', { error: String(err) });
    } finally {
      this.#sampling = false;
    }
  }

  // --- helpers --------------------------------------------------------------------------------

  #upsertPeer(state: PeerState, initiatorId: PeerId): PeerEntry {
    let entry = this.#peers.get(state.peerId);
    if (entry) {
      entry.state = state;
      entry.initiatorId = initiatorId;
      return entry;
    }
    entry = {
      state,
      initiatorId,
      session: undefined,
      reconciler: new MediaReconciler(this.#o.reconcile),
      quality: null,
      qualityBase: undefined,
      queue: Promise.resolve(),
      notConnectedSince: now(),
      disconnectedTimer: undefined,
    };
    this.#peers.set(state.peerId, entry);
    return entry;
  }

  #removePeer(peerId: PeerId, reason: PeerLeftReason): void {
    const entry = this.#peers.get(peerId);
    if (!entry) return;
    this.#peers.delete(peerId);
    clearTimeout(entry.disconnectedTimer);
    entry.session?.close();
    this.emit('peer-left', { peerId, reason });
  }

  #enqueue(entry: PeerEntry, work: () => Promise<void>): void {
    entry.queue = entry.queue.then(work).catch((err: unknown) => {
      this.#log('peer connection step failed', { peerId: entry.state.peerId, error: String(err) });
    });
  }

  #sendingTracks() {
    return {
      audio: this.#held.mic ? this.#local.audio : null,
      video: this.#held.camera || this.#held.screen ? this.#local.video : null,
    };
  }

  #applySelfMedia(): void {
    const tracks = this.#sendingTracks();
    for (const entry of this.#peers.values()) {
      const s = entry.session;
      if (s && !s.closed) this.#enqueue(entry, () => s.setTracks(tracks));
    }
  }

  #view(e: PeerEntry): RemotePeer {
    return {
      state: e.state,
      initiatorId: e.initiatorId,
      reconcile: e.reconciler.state,
      connection: e.session?.connectionState ?? 'new',
      quality: e.quality,
    };
  }

  #setStatus(status: CallStatus): void {
    if (this.#status === status) return;
    this.#status = status;
    this.emit('status', status);
  }

  #shutdown(status: CallStatus): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#sampler);
    this.#stopWatchingNetwork?.();
    for (const entry of this.#peers.values()) {
      clearTimeout(entry.disconnectedTimer);
      entry.session?.close();
    }
    this.#peers.clear();
    this.#signaling?.close();
    this.#setStatus(status);
    this.removeAllListeners();
  }

  #log(message: string, data?: Record<string, unknown>): void {
    this.#o.log?.(message, data);
  }
}
