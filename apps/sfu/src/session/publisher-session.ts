import { AppError, type Logger } from '@fusionflow/kit';
import { ErrorCode } from '@fusionflow/protocol';
import {
  ReceiverEstimatedMaxBitrate,
  type RTCPeerConnection,
  type RTCRtpTransceiver,
  RtcpPayloadSpecificFeedback,
} from 'werift';
import { PublishedTrack } from '../fanout/published-track.js';
import type { RoomMetrics } from '../metrics.js';
import { normalizeOffer, rejectedMids } from '../peer/sdp.js';
import { MediaSession, type SessionTimings } from './media-session.js';

/**
 * Receive buffer of the publisher's UDP socket: a few seconds of a 2.5 Mbit/s stream, so a busy or
 * briefly descheduled SFU does not lose the packets every subscriber needs (capped by the kernel's
 * net.core.rmem_max).
 */
const PUBLISHER_RECV_BUFFER = 4 * 1024 * 1024;

/** How often the publisher hears the bitrate it may send. */
const REMB_INTERVAL_MS = 1000;

/** REMB for `bps` about `ssrcs` (RFC draft-alvestrand-rmcat-remb: 6-bit exponent, 18-bit mantissa). */
function remb(bps: number, ssrcs: number[]): RtcpPayloadSpecificFeedback {
  let exp = 0;
  while (bps / 2 ** exp > 0x3ffff) exp++;
  return new RtcpPayloadSpecificFeedback({
    feedback: new ReceiverEstimatedMaxBitrate({
      senderSsrc: 1,
      mediaSsrc: 0,
      brExp: exp,
      brMantissa: Math.floor(bps / 2 ** exp),
      bitrate: BigInt(bps),
      ssrcNum: ssrcs.length,
      ssrcFeedbacks: ssrcs,
    }),
  });
}

const FORWARDABLE = /^(audio\/opus|video\/(vp8|vp9|h264|av1))$/i;

/**
 * A WHIP publisher: receives the encoder's audio and video (simulcast layers included) and owns the
 * published tracks that fan them out.
 */
export class PublisherSession extends MediaSession {
  readonly kind = 'publisher' as const;
  readonly #tracks = new Map<RTCRtpTransceiver, PublishedTrack>();
  readonly #unsubscribe: (() => void)[] = [];
  /** Mids of the m-lines the offer rejected (port 0). */
  #rejected = new Set<string>();
  #rembTimer: NodeJS.Timeout | undefined;
  readonly #openedAt = performance.now();

  constructor(
    room: string,
    userId: string | null,
    pc: RTCPeerConnection,
    timings: SessionTimings,
    logger: Logger,
    private readonly o: { metrics: RoomMetrics; nackCacheSize: number; pliThrottleMs: number; maxBitrate: number },
  ) {
    super(room, userId, pc, timings, logger);
  }

  get tracks(): PublishedTrack[] {
    return [...this.#tracks.values()];
  }

  /** How long no media has arrived (since the session opened, before the first packet). */
  mediaIdleMs(now = performance.now()): number {
    let last = this.#openedAt;
    for (const t of this.#tracks.values()) last = Math.max(last, t.lastPacketAt);
    return now - last;
  }

  /** Simulcast rids of the video track (empty without simulcast). */
  get layers(): string[] {
    return this.tracks.find((t) => t.kind === 'video')?.rids ?? [];
  }

  protected beforeAnswer(): void {
    for (const t of this.pc.getTransceivers()) {
      if (t.kind !== 'audio' && t.kind !== 'video') continue;
      t.setDirection('recvonly');
      // werift creates the receiving tracks (one per rid) while applying the offer…
      for (const track of t.receiver.tracks) this.#trackOf(t)?.addSource(track);
      // …and may add more later.
      this.#unsubscribe.push(
        t.onTrack.subscribe((track) => {
          this.#trackOf(t)?.addSource(track);
        }).unSubscribe,
      );
    }
  }

  override async answer(offer: string): Promise<string> {
    this.#rejected = rejectedMids(normalizeOffer(offer));
    const sdp = await super.answer(offer);
    for (const t of this.pc.getTransceivers()) this.#trackOf(t);
    if (this.#tracks.size === 0) {
      throw new AppError(
        ErrorCode.InvalidSdp,
        'the offer sends no audio or video the SFU can forward (Opus, VP8, VP9, H.264, AV1)',
      );
    }
    return sdp;
  }

  #trackOf(t: RTCRtpTransceiver): PublishedTrack | undefined {
    const existing = this.#tracks.get(t);
    if (existing || this.closed) return existing;
    if (t.kind !== 'audio' && t.kind !== 'video') return undefined;
    const codec = t.codecs.find((c) => FORWARDABLE.test(c.mimeType));
    if (!codec || t.stopped || (t.mid != null && this.#rejected.has(t.mid))) return undefined;
    const track = new PublishedTrack({
      upstream: {
        kind: t.kind,
        get mid() {
          return t.mid ?? '';
        },
        requestKeyframe: (layer) => void t.receiver.sendRtcpPLI(layer.ssrc).catch(() => {}),
      },
      codec,
      nackCacheSize: this.o.nackCacheSize,
      pliThrottleMs: this.o.pliThrottleMs,
      metrics: this.o.metrics,
      logger: this.logger,
    });
    track.on('layers', () => this.emit('layers', undefined));
    this.#tracks.set(t, track);
    return track;
  }

  /**
   * The SFU estimates no bandwidth of its own towards the publisher: it tells the publisher (REMB)
   * that it may send up to the configured bitrate; the publisher's own loss-based control still
   * backs off when the network cannot carry it. Without this a browser stays near its start
   * bitrate and sends only its lowest simulcast layer.
   */
  #sendRemb(): void {
    const ssrcs = this.tracks
      .filter((t) => t.kind === 'video')
      .flatMap((t) => t.layers.map((l) => l.ssrc))
      .filter((s) => s !== 0);
    const dtls = this.pc.dtlsTransports[0];
    if (ssrcs.length === 0 || dtls?.state !== 'connected') return;
    dtls.sendRtcp([remb(this.o.maxBitrate, ssrcs)]).catch(() => {});
  }

  /**
   * The publisher's media flows again (its ICE restart, a network switch): the viewers' decoders wait for frames
   * lost meanwhile, so ask it for a keyframe on every layer now instead of after the viewers' own requests.
   */
  protected override onMediaResumed(): void {
    for (const track of this.tracks) {
      if (track.kind === 'video') for (const layer of track.layers) track.requestKeyframe(layer.rid);
    }
  }

  protected onConnected(): void {
    this.#rembTimer = setInterval(() => this.#sendRemb(), REMB_INTERVAL_MS);
    try {
      const connection = this.pc.iceTransports[0]?.connection as unknown as {
        nominated?: { protocol: { transport?: { socket?: { setRecvBufferSize(n: number): void } } } };
      };
      connection.nominated?.protocol.transport?.socket?.setRecvBufferSize(PUBLISHER_RECV_BUFFER);
    } catch (err) {
      this.logger.debug({ err }, 'could not enlarge the receive buffer');
    }
    this.logger.info({ tracks: this.tracks.map((t) => `${t.kind}:${t.codec.mimeType}`) }, 'publisher connected');
    this.emit('started', undefined);
  }

  protected release(): void {
    clearInterval(this.#rembTimer);
    this.#rembTimer = undefined;
    for (const un of this.#unsubscribe) un();
    this.#unsubscribe.length = 0;
    for (const track of this.#tracks.values()) track.close();
    this.#tracks.clear();
  }
}
