import type { Logger } from '@fusionflow/kit';
import type { MediaStreamTrack, RTCRtpCodecParameters, RTCRtpTransceiver, RtpPacket } from 'werift';
import type { RoomMetrics } from '../metrics.js';
import type { DownTrack } from './down-track.js';
import { codecNameOf, keyframeDetector, vp8KeyframeSize } from './keyframe.js';
import { type MediaPacket, PacketCache } from './packet-cache.js';

/** Bitrate of a layer over the last couple of seconds, for choosing layers by bandwidth. */
class BitrateMeter {
  #bytes = 0;
  #windowStart = performance.now();
  #bps = 0;

  add(bytes: number, now: number): void {
    this.#bytes += bytes;
    const elapsed = now - this.#windowStart;
    if (elapsed >= 1000) {
      const current = (this.#bytes * 8000) / elapsed;
      this.#bps = this.#bps === 0 ? current : this.#bps * 0.5 + current * 0.5;
      this.#bytes = 0;
      this.#windowStart = now;
    }
  }

  get bps(): number {
    return this.#bps;
  }
}

/**
 * One incoming RTP stream of a published track: the whole track, or one simulcast layer (rid).
 * Subscribed down-tracks get each packet once it is parsed.
 */
export class Layer {
  readonly cache: PacketCache;
  readonly downTracks = new Set<DownTrack>();
  readonly meter = new BitrateMeter();
  ssrc = 0;
  lastPacketAt = 0;
  /** Picture height its last keyframe announced (VP8; unknown for other codecs). */
  height: number | undefined;

  constructor(
    readonly track: PublishedTrack,
    /** '' without simulcast. */
    readonly rid: string,
    cacheSize: number,
  ) {
    this.cache = new PacketCache(cacheSize);
  }
}

export interface PublishedTrackOptions {
  transceiver: RTCRtpTransceiver;
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
export class PublishedTrack {
  readonly kind: 'audio' | 'video';
  readonly codec: RTCRtpCodecParameters;
  readonly #layers = new Map<string, Layer>();
  readonly #unsubscribe: (() => void)[] = [];
  readonly #isKeyframe: (payload: Buffer) => boolean;
  readonly #downTracks = new Set<DownTrack>();
  /** Simulcast: which layer an SSRC belongs to (browsers send the rid only in the first packets). */
  readonly #bySsrc = new Map<number, Layer>();
  #lastPli = new Map<string, number>();
  #pliTimers = new Map<string, NodeJS.Timeout>();
  #closed = false;
  /** Called when a layer appears (simulcast), so subscribers can re-pick. */
  onLayersChanged: (() => void) | undefined;

  constructor(private readonly o: PublishedTrackOptions) {
    this.kind = o.transceiver.kind as 'audio' | 'video';
    this.codec = o.codec;
    this.#isKeyframe = this.kind === 'audio' ? () => true : keyframeDetector(codecNameOf(o.codec.mimeType));
  }

  get mid(): string {
    return this.o.transceiver.mid ?? '';
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

  get rids(): string[] {
    return [...this.#layers.keys()].filter((r) => r !== '');
  }

  /** Each simulcast layer's picture height, where its keyframes say (VP8). */
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
    const own = new Layer(this, rid, this.kind === 'video' ? this.o.nackCacheSize : 64);
    this.#layers.set(rid, own);
    const { metrics } = this.o;
    const isKeyframe = this.#isKeyframe;
    const bySsrc = this.#bySsrc;
    const sizeOf = codecNameOf(this.codec.mimeType) === 'vp8' ? vp8KeyframeSize : undefined;
    const { unSubscribe } = track.onReceiveRtp.subscribe((rtp: RtpPacket) => {
      const now = performance.now();
      const { header, payload } = rtp;
      let layer = own;
      if (rid !== '') bySsrc.set(header.ssrc, own);
      else {
        // werift hands packets whose rid it no longer sees to the rid-less track: route by SSRC.
        const known = bySsrc.get(header.ssrc);
        if (known) layer = known;
        else if (bySsrc.size > 0) return;
      }
      layer.ssrc = header.ssrc;
      layer.lastPacketAt = now;
      const packet: MediaPacket = {
        sequenceNumber: header.sequenceNumber,
        timestamp: header.timestamp,
        marker: header.marker,
        payload,
        keyframe: payload.length > 0 && isKeyframe(payload),
        receivedAt: now,
      };
      if (packet.keyframe && sizeOf && layer.rid !== '') {
        // A keyframe says the layer's real size: the viewers' quality menu names it ("720p").
        const height = sizeOf(payload)?.height;
        if (height !== undefined && height !== layer.height) {
          layer.height = height;
          this.onLayersChanged?.();
        }
      }
      layer.cache.put(packet);
      layer.meter.add(payload.length, now);
      metrics.received(payload.length + 12);
      for (const dt of layer.downTracks) dt.write(layer, packet);
    });
    this.#unsubscribe.push(unSubscribe);
    this.o.logger.debug({ kind: this.kind, rid, codec: this.codec.mimeType }, 'publisher stream started');
    if (rid !== '') this.onLayersChanged?.();
    // Anyone already waiting for this layer needs a picture to start on.
    if (this.kind === 'video' && own.downTracks.size > 0) this.requestKeyframe(rid);
    for (const dt of this.#downTracks) dt.layersChanged();
  }

  attach(dt: DownTrack): void {
    this.#downTracks.add(dt);
  }

  detach(dt: DownTrack): void {
    this.#downTracks.delete(dt);
    for (const layer of this.#layers.values()) layer.downTracks.delete(dt);
  }

  get downTrackCount(): number {
    return this.#downTracks.size;
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
    this.o.transceiver.receiver.sendRtcpPLI(layer.ssrc).catch(() => {});
  }

  /** The publisher is gone: stop listening, clear timers, tell every down-track. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const un of this.#unsubscribe) un();
    this.#unsubscribe.length = 0;
    for (const t of this.#pliTimers.values()) clearTimeout(t);
    this.#pliTimers.clear();
    for (const dt of [...this.#downTracks]) dt.sourceClosed();
    this.#downTracks.clear();
    for (const layer of this.#layers.values()) {
      layer.downTracks.clear();
      layer.cache.clear();
    }
    this.#layers.clear();
    this.#bySsrc.clear();
    this.onLayersChanged = undefined;
  }
}
