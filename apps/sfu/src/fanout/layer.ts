import { BitrateMeter } from './bitrate-meter.js';
import { type MediaPacket, PacketCache } from './packet-cache.js';

/** What a layer feeds: a down-track (and, later, a relay towards another worker). */
export interface LayerSink {
  /** A packet of `layer` (hot path). */
  write(layer: Layer, packet: MediaPacket): void;
}

/**
 * One incoming RTP stream of a published track: the whole track, or one simulcast layer (rid).
 * The layer is the one owner of who it feeds: sinks join and leave through it, and it hands each
 * packet to them once the track has parsed and cached it.
 */
export class Layer {
  readonly cache: PacketCache;
  readonly meter = new BitrateMeter();
  readonly #sinks = new Set<LayerSink>();
  ssrc = 0;
  lastPacketAt = 0;
  /** Picture size its last keyframe announced (unknown until then, and for codecs whose size is not read). */
  height: number | undefined;
  width: number | undefined;

  constructor(
    /** '' without simulcast. */
    readonly rid: string,
    cacheSize: number,
  ) {
    this.cache = new PacketCache(cacheSize);
  }

  get sinkCount(): number {
    return this.#sinks.size;
  }

  feeds(sink: LayerSink): boolean {
    return this.#sinks.has(sink);
  }

  add(sink: LayerSink): void {
    this.#sinks.add(sink);
  }

  remove(sink: LayerSink): void {
    this.#sinks.delete(sink);
  }

  /** Hand a packet to every sink (hot path). */
  forward(packet: MediaPacket): void {
    for (const sink of this.#sinks) sink.write(this, packet);
  }

  /** The stream ended: feed nobody, forget the cache. */
  clear(): void {
    this.#sinks.clear();
    this.cache.clear();
  }
}
