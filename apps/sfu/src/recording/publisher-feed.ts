import type { Logger } from '@fusionflow/kit';
import type { Layer, LayerSink } from '../fanout/layer.js';
import type { MediaPacket } from '../fanout/packet-cache.js';
import type { PublishedTrack } from '../fanout/published-track.js';
import type { PublisherSession } from '../session/publisher-session.js';
import type { BroadcastRecorder } from './broadcast-recorder.js';

/** A recorded video layer this long without a packet (the publisher dropped it for bandwidth) gives way to another. */
const SILENT_LAYER_MS = 1500;
/** How often the feed looks for streams that appeared, went silent or got better. */
const CHECK_MS = 500;

/** The codec the recorder can write for a published video track (WebM: VP8, VP9), or undefined. */
export function recordableVideoCodec(track: PublishedTrack): 'vp8' | 'vp9' | undefined {
  const name = track.codec.mimeType.toLowerCase();
  return name === 'video/vp8' ? 'vp8' : name === 'video/vp9' ? 'vp9' : undefined;
}

/** A layer's picture area (0 until a keyframe says it) for picking the best one. */
const area = (l: Layer) => (l.width ?? 0) * (l.height ?? 0);

/**
 * Feeds one publisher session's audio and best video layer to a recorder: a sink on the audio
 * track's stream and on one video layer, the one with the largest picture (then the highest
 * bitrate) among those still sending. It re-picks when layers appear or announce their size, and
 * when the recorded one goes silent; each switch tells the recorder (`switchVideo`). `close()`
 * removes the sinks and stops the checks; the recorder is not the feed's (it outlives a publisher
 * that reconnects).
 */
export class PublisherFeed implements LayerSink {
  #audio: Layer | undefined;
  #video: { track: PublishedTrack; layer: Layer } | undefined;
  readonly #timer: NodeJS.Timeout;
  readonly #offLayers: () => void;
  #warned = false;
  #closed = false;

  constructor(
    readonly session: PublisherSession,
    private readonly recorder: BroadcastRecorder,
    private readonly logger: Logger,
  ) {
    this.#offLayers = session.on('layers', () => this.#pick());
    this.#timer = setInterval(() => this.#pick(), CHECK_MS);
    this.#timer.unref();
    this.#pick();
  }

  /** A packet of a layer this feed listens to (hot path). */
  write(layer: Layer, packet: MediaPacket): void {
    if (layer === this.#audio) this.recorder.push('audio', packet);
    else if (layer === this.#video?.layer) this.recorder.push('video', packet);
  }

  /** Ask the publisher for a keyframe on the recorded video layer. */
  requestKeyframe(): void {
    const v = this.#video;
    if (v) v.track.requestKeyframe(v.layer.rid);
  }

  #pick(): void {
    if (this.#closed || this.session.closed) return;
    const audio = this.session.tracks.find((t) => t.kind === 'audio');
    const audioLayer = audio?.layers[0];
    if (audioLayer && audioLayer !== this.#audio) {
      this.#audio?.remove(this);
      this.#audio = audioLayer;
      audioLayer.add(this);
    }
    const video = this.session.tracks.find((t) => t.kind === 'video');
    if (!video) return;
    if (recordableVideoCodec(video) !== this.recorder.videoCodec) {
      if (!this.#warned) {
        this.#warned = true;
        this.logger.warn(
          { recording: this.recorder.id, codec: video.codec.mimeType },
          'this video cannot be recorded into WebM (VP8 or VP9 only): the recording keeps no picture',
        );
      }
      return;
    }
    const now = performance.now();
    const isSending = (l: Layer) => l.ssrc !== 0 && now - l.lastPacketAt < SILENT_LAYER_MS;
    const sending = video.layers.filter(isSending);
    const current = this.#video?.layer;
    // Before any packet (the first pick, right after the answer) every layer is a candidate: the feed listens
    // from the first packet on, whose keyframe starts the recording.
    const pool = sending.length > 0 ? sending : current ? [] : video.layers;
    const best = pool.sort((a, b) => area(b) - area(a) || b.meter.bps - a.meter.bps)[0];
    if (!best || best === current) return;
    // Keep the current layer while it sends and nothing bigger came: no switch for a bitrate wobble.
    if (current && isSending(current) && area(best) <= area(current)) return;
    current?.remove(this);
    const first = current === undefined;
    this.#video = { track: video, layer: best };
    best.add(this);
    if (first) this.requestKeyframe();
    else this.recorder.switchVideo();
    this.logger.debug({ recording: this.recorder.id, rid: best.rid, height: best.height }, 'recording video layer');
  }

  /** Stop feeding the recorder (the publisher left, or the recording ended). Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#offLayers();
    this.#audio?.remove(this);
    this.#video?.layer.remove(this);
    this.#audio = undefined;
    this.#video = undefined;
  }
}
