import { Emitter, type Logger, logListenerErrors } from '@fusionflow/kit';
import type { MediaStreamTrack, RTCRtpCodecParameters, RtpPacket } from 'werift';
import type { RoomMetrics } from '../metrics.js';
import { frameSizeReader } from './frame-size.js';
import { codecNameOf, keyframeDetector } from './keyframe.js';
import { Layer, type LayerSink } from './layer.js';
import type { MediaPacket } from './packet-cache.js';

/** A down-track as its published track sees it: fed by a layer, told when layers appear and when the track ends. */
export interface TrackSubscriber extends LayerSink {
  layersChanged(): void;
  sourceClosed(): void;
}

/** What a published track tells its session. */
export interface PublishedTrackEvents extends Record<string, unknown> {
  /** A simulcast layer appeared or announced its picture size: subscribers can re-pick, menus rename. */
  layers: undefined;
}

/**
 * Where a published track's packets come from: the publisher's peer connection (one m-line), or, on an edge, the
 * relay from the room's origin. The track asks it for keyframes (after its own throttle) and for packets a
 * down-track misses that the layer's cache does not hold.
 */
export interface Upstream {
  readonly kind: 'audio' | 'video';
  /** The m-line's mid (the publisher's; an edge keeps the origin's). */
  readonly mid: string;
  requestKeyframe(layer: Layer): void;
  /**
   * Packets a subscriber asked for that the cache does not hold: a relay asks the origin and hands each to `by` when
   * it comes; a publisher's peer connection has nothing more.
   */
  missing?(layer: Layer, sequenceNumbers: number[], by: Retransmitter): void;
}

/** A down-track as a late retransmission reaches it. */
export interface Retransmitter {
  retransmit(layer: Layer, packet: MediaPacket): void;
}

export interface PublishedTrackOptions {
  upstream: Upstream;
  codec: RTCRtpCodecParameters;
  nackCacheSize: number;
  pliThrottleMs: number;
  metrics: RoomMetrics;
  logger: Logger;
}

/**
 * A publisher's audio or video track (one m-line), fanned out to subscribers. Each incoming packet
 * is parsed once (by werift, on arrival), cached for NACKs, and handed to every down-track of its
 * layer, which rewrites only the header. Keyframe requests to the publisher are throttled.
 */
export class PublishedTrack extends Emitter<PublishedTrackEvents> {
  readonly kind: 'audio' | 'video';
  readonly codec: RTCRtpCodecParameters;
  readonly #layers = new Map<string, Layer>();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #isKeyframe: (payload: Buffer) => boolean;
  readonly #sizeOf: ReturnType<typeof frameSizeReader>;
  readonly #subscribers = new Set<TrackSubscriber>();
  /** Simulcast: which layer an SSRC belongs to (browsers send the rid only in the first packets). */
  readonly #bySsrc = new Map<number, Layer>();
  #lastPli = new Map<string, number>();
  #pliTimers = new Map<string, NodeJS.Timeout>();
  #closed = false;

  constructor(private readonly o: PublishedTrackOptions) {
    super(logListenerErrors(o.logger));
    this.kind = o.upstream.kind;
    this.codec = o.codec;
    this.#isKeyframe = this.kind === 'audio' ? () => true : keyframeDetector(codecNameOf(o.codec.mimeType));
    this.#sizeOf = frameSizeReader(codecNameOf(o.codec.mimeType));
  }

  get mid(): string {
    return this.o.upstream.mid;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Layers by descending bitrate (best first); the single layer without simulcast. With simulcast
   * werift also announces a track without a rid, which never carries packets: it is left out.
   */
  get layers(): Layer[] {
    const all = [...this.#layers.values()];
    const simulcast = all.some((l) => l.rid !== '');
    return all.filter((l) => !simulcast || l.rid !== '').sort((a, b) => b.meter.bps - a.meter.bps);
  }

  layer(rid: string): Layer | undefined {
    return this.layers.find((l) => l.rid === rid);
  }

  /** When its last packet arrived (`performance.now()`; 0 before the first). */
  get lastPacketAt(): number {
    let last = 0;
    for (const l of this.#layers.values()) last = Math.max(last, l.lastPacketAt);
    return last;
  }

  get rids(): string[] {
    return [...this.#layers.keys()].filter((r) => r !== '');
  }

  /** Each simulcast layer's picture height, where its keyframes say (VP8, VP9, H.264). */
  get heights(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const [rid, l] of this.#layers) if (rid !== '' && l.height !== undefined) out[rid] = l.height;
    return out;
  }

  /** werift fired `onTrack` for this transceiver: one per rid with simulcast. */
  addSource(track: MediaStreamTrack): void {
    if (this.#closed) return;
    const rid = track.rid ?? '';
    if (this.#layers.has(rid)) return;
    const own = this.openLayer(rid);
    if (!own) return;
    const bySsrc = this.#bySsrc;
    const { unSubscribe } = track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      const { header } = rtp;
      let layer = own;
      if (rid !== '') bySsrc.set(header.ssrc, own);
      else {
        // werift hands packets whose rid it no longer sees to the rid-less track: route by SSRC.
        const known = bySsrc.get(header.ssrc);
        if (known) layer = known;
        else if (bySsrc.size > 0) return;
      }
      layer.ssrc = header.ssrc;
      this.ingest(layer, header.sequenceNumber, header.timestamp, header.marker, rtp.payload);
    });
    this.#unsubscribe.push(unSubscribe);
    this.o.logger.debug({ kind: this.kind, rid, codec: this.codec.mimeType }, 'publisher stream started');
  }

  /** A new incoming stream (a simulcast rid, or '' for the whole track); the one that exists if it does. */
  openLayer(rid: string): Layer | undefined {
    const existing = this.#layers.get(rid);
    if (existing || this.#closed) return existing;
    const own = new Layer(rid, this.kind === 'video' ? this.o.nackCacheSize : 64);
    this.#layers.set(rid, own);
    if (rid !== '') this.emit('layers', undefined);
    // Anyone already waiting for this layer needs a picture to start on.
    if (this.kind === 'video' && own.sinkCount > 0) this.requestKeyframe(rid);
    for (const sub of this.#subscribers) sub.layersChanged();
    return own;
  }

  /**
   * One packet of a layer (hot path): parsed once, cached for NACKs and, unless it is a retransmission (an edge's
   * relay asked the origin for it again, for the down-tracks that missed it), handed to every sink.
   */
  ingest(
    layer: Layer,
    sequenceNumber: number,
    timestamp: number,
    marker: boolean,
    payload: Buffer,
    retransmission = false,
  ): MediaPacket {
    const now = performance.now();
    layer.lastPacketAt = now;
    const packet: MediaPacket = {
      sequenceNumber,
      timestamp,
      marker,
      payload,
      keyframe: payload.length > 0 && this.#isKeyframe(payload),
      receivedAt: now,
    };
    if (packet.keyframe && this.#sizeOf && layer.rid !== '') {
      // A keyframe says the layer's real size: the viewers' quality menu names it ("720p").
      const size = this.#sizeOf(payload);
      if (size !== undefined && (size.height !== layer.height || size.width !== layer.width)) {
        layer.height = size.height;
        layer.width = size.width;
        this.emit('layers', undefined);
      }
    }
    layer.cache.put(packet);
    if (retransmission) return packet;
    layer.meter.add(payload.length, now);
    this.o.metrics.received(payload.length + 12);
    layer.forward(packet);
    return packet;
  }

  /** Packets of `layer` a down-track asked for that its cache does not hold: the upstream may have them. */
  missing(layer: Layer, sequenceNumbers: number[], by: Retransmitter): void {
    if (!this.#closed && sequenceNumbers.length > 0) this.o.upstream.missing?.(layer, sequenceNumbers, by);
  }

  attach(sub: TrackSubscriber): void {
    this.#subscribers.add(sub);
  }

  /** A subscriber leaves: it is told nothing more and no layer feeds it. */
  detach(sub: TrackSubscriber): void {
    this.#subscribers.delete(sub);
    for (const layer of this.#layers.values()) layer.remove(sub);
  }

  get downTrackCount(): number {
    return this.#subscribers.size;
  }

  /**
   * Ask the publisher for a keyframe on a layer: at once, unless one was asked for within the
   * throttle window, in which case one request is sent when the window ends.
   */
  requestKeyframe(rid: string): void {
    if (this.#closed || this.kind !== 'video') return;
    const last = this.#lastPli.get(rid) ?? -Infinity;
    const wait = last + this.o.pliThrottleMs - performance.now();
    if (wait <= 0) {
      this.#sendPli(rid);
      return;
    }
    if (this.#pliTimers.has(rid)) return;
    const timer = setTimeout(() => {
      this.#pliTimers.delete(rid);
      this.#sendPli(rid);
    }, wait);
    this.#pliTimers.set(rid, timer);
  }

  #sendPli(rid: string): void {
    const layer = this.#layers.get(rid);
    if (!layer || layer.ssrc === 0 || this.#closed) return;
    this.#lastPli.set(rid, performance.now());
    this.o.metrics.pli();
    this.o.upstream.requestKeyframe(layer);
  }

  /** The publisher is gone: stop listening, clear timers, tell every down-track. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const un of this.#unsubscribe) un();
    this.#unsubscribe.length = 0;
    for (const t of this.#pliTimers.values()) clearTimeout(t);
    this.#pliTimers.clear();
    for (const sub of [...this.#subscribers]) sub.sourceClosed();
    this.#subscribers.clear();
    for (const layer of this.#layers.values()) layer.clear();
    this.#layers.clear();
    this.#bySsrc.clear();
    this.removeAllListeners();
  }
}
