import type { Socket } from 'node:dgram';
import { AppError, Emitter, type Logger, logListenerErrors, signInternalRequest } from '@fusionflow/kit';
import { asRoomId, ErrorCode, RELAY_PATH, RelayAnswer, type RelayClaim, type RelayRequest } from '@fusionflow/protocol';
import { RTCRtpCodecParameters } from 'werift';
import type { Layer } from '../fanout/layer.js';
import { PublishedTrack, type Retransmitter } from '../fanout/published-track.js';
import type { RoomMetrics } from '../metrics.js';
import { RelayCipher, RelayKeyPair } from './relay-cipher.js';
import { bindRelaySocket, RELAY_HEARTBEAT_MS, RelayLink } from './relay-link.js';
import { decodeState, encodeAlive, encodeNack, encodePli, MEDIA_HEADER, RelayMessage } from './relay-wire.js';

export interface EdgeRelayEvents extends Record<string, unknown> {
  /** A layer appeared or announced its size (as a publisher's `layers`). */
  layers: undefined;
  /** The audience outside this edge changed. */
  audience: undefined;
  close: { relay: EdgeRelay; reason: string };
}

export interface EdgeRelaySettings {
  /** This node's id (the origin logs it and the directory shows the relay). */
  nodeId: string;
  /** SFU_RELAY_HOST: the address the relay socket binds to and the origin sends to. */
  host: string;
  /** INTERNAL_SECRET, which signs the relay request. */
  secret: string;
  nackCacheSize: number;
  pliThrottleMs: number;
}

/** Retransmissions asked for and not come yet; past this many, the oldest requests are forgotten. */
const MAX_WAITING = 1024;
/** How long the origin has to answer the relay request. */
const REQUEST_TIMEOUT_MS = 5000;

/**
 * An edge's end of a relay: "just another publisher" of the room. It asks the origin (a signed request naming its
 * socket and key), builds one PublishedTrack per track the origin describes, and feeds them what arrives: the edge's
 * viewers are then fed from its own layers and caches as they would be from a publisher. A NACK the edge's cache
 * cannot answer goes upstream, and the late packet goes to the viewers that asked; keyframe requests go upstream
 * through the edge's own throttle.
 */
export class EdgeRelay extends Emitter<EdgeRelayEvents> {
  readonly tracks: PublishedTrack[] = [];
  readonly link: RelayLink;
  /** Viewers of the room on the origin and every other edge (the origin's last `state`). */
  othersViewers = 0;
  readonly #layers: Layer[][] = [];
  readonly #index = new Map<Layer, number>();
  readonly #waiting = new Map<number, Set<Retransmitter>>();
  readonly #heartbeat: NodeJS.Timeout;
  #viewers = 0;
  #closed = false;

  /** Ask the origin the grant names for a relay of `room`; rejects with 409 `no_publisher` when it has none. */
  static async open(
    room: string,
    claim: RelayClaim,
    s: EdgeRelaySettings,
    o: { metrics: RoomMetrics; logger: Logger },
  ): Promise<EdgeRelay> {
    const socket = await bindRelaySocket(s.host);
    try {
      const keys = new RelayKeyPair();
      const request: RelayRequest = {
        room: asRoomId(room),
        edge: s.nodeId,
        host: s.host,
        port: socket.address().port,
        key: keys.publicKey,
      };
      const body = JSON.stringify(request);
      const res = await fetch(new URL(RELAY_PATH, claim.url), {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...signInternalRequest(s.secret, 'POST', RELAY_PATH, body) },
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      if (res.status === 409) {
        throw new AppError(
          ErrorCode.NoPublisher,
          `the origin has no publisher for room ${room}`,
          { retryAfterSeconds: 2 },
          { 'retry-after': '2' },
        );
      }
      if (res.status !== 201) throw new Error(`the origin answered ${res.status}`);
      const answer = RelayAnswer.parse(await res.json());
      return new EdgeRelay(room, socket, keys, answer, s, o);
    } catch (err) {
      socket.close();
      if (err instanceof AppError) throw err;
      o.logger.warn({ err, origin: claim.node }, 'relay from the origin could not be opened');
      throw new AppError(
        ErrorCode.Unavailable,
        `the room's origin cannot be reached right now`,
        { retryAfterSeconds: 2 },
        { 'retry-after': '2' },
      );
    }
  }

  private constructor(
    readonly room: string,
    socket: Socket,
    keys: RelayKeyPair,
    readonly answer: RelayAnswer,
    s: EdgeRelaySettings,
    private readonly o: { metrics: RoomMetrics; logger: Logger },
  ) {
    super(logListenerErrors(o.logger));
    const cipher = new RelayCipher(keys.agree(answer.key), answer.relayId, 'edge');
    this.link = new RelayLink({
      socket,
      cipher,
      receive: (m, fresh) => this.#receive(m, fresh),
      closed: (reason) => this.#release(reason),
    });
    this.link.connect(answer.host, answer.port);
    for (const t of answer.tracks) {
      const codec = new RTCRtpCodecParameters({
        mimeType: t.codec.mimeType,
        clockRate: t.codec.clockRate,
        payloadType: t.codec.payloadType,
        rtcpFeedback: t.codec.rtcpFeedback,
        ...(t.codec.channels ? { channels: t.codec.channels } : {}),
        ...(t.codec.sdpFmtpLine ? { parameters: t.codec.sdpFmtpLine } : {}),
      });
      const index = t.index;
      const track = new PublishedTrack({
        upstream: {
          kind: t.kind,
          mid: t.mid,
          requestKeyframe: (layer) => this.#upstream(layer, (l) => encodePli(index, l)),
          missing: (layer, seqs, by) => this.#missing(index, layer, seqs, by),
        },
        codec,
        nackCacheSize: s.nackCacheSize,
        pliThrottleMs: s.pliThrottleMs,
        metrics: o.metrics,
        logger: o.logger,
      });
      track.on('layers', () => this.emit('layers', undefined));
      this.tracks[index] = track;
      this.#layers[index] = [];
    }
    this.#heartbeat = setInterval(() => this.link.send(encodeAlive(this.#viewers)), RELAY_HEARTBEAT_MS);
    this.link.send(encodeAlive(0));
    o.logger.info({ relayId: answer.relayId, tracks: answer.tracks.length }, 'relay from the origin opened');
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Simulcast rids of the video track (as a publisher's `layers`). */
  get layers(): string[] {
    return this.tracks.find((t) => t.kind === 'video')?.rids ?? [];
  }

  /** The edge's own viewers changed: the origin sums them into the room's audience. */
  setViewers(n: number): void {
    if (n === this.#viewers) return;
    this.#viewers = n;
    this.link.send(encodeAlive(n));
  }

  #upstream(layer: Layer, message: (layerIndex: number) => Buffer): void {
    const l = this.#index.get(layer);
    if (l !== undefined) this.link.send(message(l));
  }

  #missing(track: number, layer: Layer, seqs: number[], by: Retransmitter): void {
    const l = this.#index.get(layer);
    if (l === undefined) return;
    if (this.#waiting.size > MAX_WAITING) this.#waiting.clear();
    for (const seq of seqs) {
      const key = waitKey(track, l, seq);
      const set = this.#waiting.get(key) ?? new Set<Retransmitter>();
      this.#waiting.set(key, set);
      set.add(by);
    }
    this.link.send(encodeNack(track, l, seqs));
  }

  #receive(m: Buffer, fresh: boolean): void {
    if (m[0] === RelayMessage.media) {
      if (m.length < MEDIA_HEADER) return;
      const t = m[1]!;
      const l = m[2]!;
      const layer = this.#layers[t]?.[l];
      if (!layer) return;
      const flags = m[3]!;
      const seq = m.readUInt16BE(4);
      const retransmission = (flags & 2) !== 0;
      const packet = this.tracks[t]!.ingest(
        layer,
        seq,
        m.readUInt32BE(6),
        (flags & 1) !== 0,
        m.subarray(MEDIA_HEADER),
        retransmission,
      );
      if (retransmission) {
        const key = waitKey(t, l, seq);
        const waiting = this.#waiting.get(key);
        this.#waiting.delete(key);
        for (const by of waiting ?? []) by.retransmit(layer, packet);
      }
      return;
    }
    if (m[0] !== RelayMessage.state || !fresh) return;
    const state = decodeState(m);
    if (!state) return;
    for (const [t, l, rid] of state.layers) {
      const track = this.tracks[t];
      const list = this.#layers[t];
      if (!track || !list || list[l] || l !== list.length) continue;
      const layer = track.openLayer(rid);
      if (!layer) continue;
      // No SSRC of its own: the track asks for keyframes through the relay, which names layers by index.
      layer.ssrc = ((t + 1) << 8) | (l + 1);
      list.push(layer);
      this.#index.set(layer, l);
    }
    if (state.viewers !== this.othersViewers) {
      this.othersViewers = state.viewers;
      this.emit('audience', undefined);
    }
  }

  close(reason: string): void {
    this.link.close(reason);
  }

  #release(reason: string): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#heartbeat);
    for (const t of this.tracks) t.close();
    this.#waiting.clear();
    this.o.logger.info({ relayId: this.answer.relayId, reason }, 'relay from the origin closed');
    this.emit('close', { relay: this, reason });
    this.removeAllListeners();
  }
}

const waitKey = (track: number, layer: number, seq: number) => (track << 24) | (layer << 16) | seq;
