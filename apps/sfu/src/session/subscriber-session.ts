import { AppError, type Logger } from '@fusionflow/kit';
import { ErrorCode, type LayerRequest, type SfuSessionInfo } from '@fusionflow/protocol';
import type { RTCPeerConnection, RtcpSrPacket } from 'werift';
import { DownTrack } from '../fanout/down-track.js';
import type { PublishedTrack } from '../fanout/published-track.js';
import type { RoomMetrics } from '../metrics.js';
import { releaseDtlsHandshakeState } from '../peer/dtls-handshake-state.js';
import { compactSessionKeys } from '../peer/session-keys.js';
import { MediaSession, type SessionListener, type SessionTimings } from './media-session.js';

/** How often sender reports go out and the automatic layer choice is revisited. */
const REPORT_INTERVAL_MS = 1000;

/**
 * A WHEP subscriber: one down-track per published track it asked for (audio and video). It sends
 * RTCP sender reports, follows the bandwidth estimate (or the client's pick) between simulcast
 * layers and tells its listeners which layer it gets.
 */
export class SubscriberSession extends MediaSession {
  readonly kind = 'subscriber' as const;
  readonly #downTracks: DownTrack[] = [];
  #timer: NodeJS.Timeout | undefined;

  constructor(
    room: string,
    userId: string | null,
    pc: RTCPeerConnection,
    timings: SessionTimings,
    logger: Logger,
    private readonly o: { sources: readonly PublishedTrack[]; metrics: RoomMetrics },
  ) {
    super(room, userId, pc, timings, logger);
  }

  get downTracks(): readonly DownTrack[] {
    return this.#downTracks;
  }

  get layer(): string | null {
    return this.#downTracks.find((d) => d.kind === 'video')?.layer ?? null;
  }

  override info(): SfuSessionInfo {
    return {
      ...super.info(),
      layer: this.layer,
      packetsSent: this.#downTracks.reduce((n, d) => n + d.packetsSent, 0),
      packetsDropped: this.#downTracks.reduce((n, d) => n + d.waitingDrops + d.sendFailures, 0),
    };
  }

  protected beforeAnswer(): void {
    const free = [...this.o.sources];
    for (const t of this.pc.getTransceivers()) {
      if (t.kind !== 'audio' && t.kind !== 'video') continue;
      const i = free.findIndex((s) => s.kind === t.kind && !s.closed);
      if (i < 0) {
        t.setDirection('inactive');
        continue;
      }
      const [source] = free.splice(i, 1);
      t.setDirection('sendonly');
      const dt = new DownTrack({ track: source!, transceiver: t, metrics: this.o.metrics, logger: this.logger });
      dt.on('layer', () => this.#emitLayers());
      this.#downTracks.push(dt);
    }
    if (this.#downTracks.length === 0) {
      throw new AppError(ErrorCode.InvalidSdp, 'the offer asks for no audio or video that the publisher sends');
    }
  }

  override async answer(offer: string): Promise<string> {
    const sdp = await super.answer(offer);
    for (const dt of this.#downTracks) {
      const negotiated = dt.transceiver.sender.codec?.mimeType.toLowerCase();
      if (negotiated !== dt.track.codec.mimeType.toLowerCase()) {
        throw new AppError(
          ErrorCode.InvalidSdp,
          `the offer cannot receive ${dt.track.codec.mimeType}, the codec being published`,
        );
      }
    }
    return sdp;
  }

  protected onConnected(): void {
    // The SFU is this viewer's DTLS client: once connected, werift's copy of the handshake is dead weight, and the
    // keys it keeps for the session need not hold pool slabs (issue 17: memory per viewer).
    for (const t of new Set(this.pc.getTransceivers().map((t) => t.sender.dtlsTransport))) {
      releaseDtlsHandshakeState(t);
      compactSessionKeys(t);
    }
    for (const dt of this.#downTracks) dt.start();
    this.#timer = setInterval(() => this.#tick(), REPORT_INTERVAL_MS);
    this.logger.info('subscriber connected');
    this.emit('joined', undefined);
  }

  /** The m-line index of the video this session receives (the WHEP draft's `mediaId`); undefined without video. */
  get videoMediaId(): string | undefined {
    const video = this.#downTracks.find((d) => d.kind === 'video');
    if (!video) return undefined;
    const index = this.pc.getTransceivers().indexOf(video.transceiver);
    return index < 0 ? undefined : String(index);
  }

  /**
   * A layer request (FusionFlow's `{ rid }` or the WHEP draft's body): a rid pins that layer; `maxHeight`/`maxWidth`
   * without one pins the tallest layer that fits (automatic when none fits or sizes are unknown); nothing is automatic.
   */
  chooseLayer(request: LayerRequest): void {
    const mediaId = this.videoMediaId;
    if (request.mediaId !== undefined && request.mediaId !== mediaId) {
      throw new AppError(
        ErrorCode.ValidationFailed,
        `mediaId ${request.mediaId} is not the video this session receives`,
      );
    }
    if (request.rid && request.encodingId && request.rid !== request.encodingId) {
      throw new AppError(ErrorCode.ValidationFailed, 'rid and encodingId name two layers; send one');
    }
    let rid = request.rid ?? request.encodingId ?? null;
    if (rid === null && (request.maxHeight !== undefined || request.maxWidth !== undefined)) {
      const video = this.#downTracks.find((d) => d.kind === 'video');
      const fitting = (video?.track.layers ?? [])
        .filter((l) => l.rid !== '' && l.height !== undefined)
        .filter((l) => request.maxHeight === undefined || l.height! <= request.maxHeight)
        .filter((l) => request.maxWidth === undefined || (l.width ?? 0) <= request.maxWidth)
        .sort((a, b) => b.height! - a.height!);
      rid = fitting[0]?.rid ?? null;
    }
    this.setLayer(rid);
  }

  /**
   * The WHEP draft's `layers` event data: the video m-line's index → its simulcast layers with the size their
   * keyframes announced and their bitrate now (a layer without bitrate is inactive).
   */
  draftLayers(): Record<string, { rid: string; bitrate?: number; width?: number; height?: number }[]> {
    const video = this.#downTracks.find((d) => d.kind === 'video');
    const mediaId = this.videoMediaId;
    if (!video || mediaId === undefined) return {};
    const layers = video.track.layers
      .filter((l) => l.rid !== '')
      .map((l) => ({
        rid: l.rid,
        ...(l.meter.bps > 0 ? { bitrate: Math.round(l.meter.bps) } : {}),
        ...(l.width !== undefined ? { width: l.width } : {}),
        ...(l.height !== undefined ? { height: l.height } : {}),
      }));
    return layers.length > 0 ? { [mediaId]: layers } : {};
  }

  /** The client's layer choice: a rid, or null for automatic. */
  setLayer(rid: string | null): void {
    for (const dt of this.#downTracks) if (dt.kind === 'video') dt.pin(rid);
    this.#emitLayers();
  }

  layersChanged(): void {
    for (const dt of this.#downTracks) dt.layersChanged();
    this.#emitLayers();
  }

  protected override greet(listener: SessionListener): void {
    super.greet(listener);
    const video = this.#downTracks.find((d) => d.kind === 'video');
    if (video && video.track.rids.length > 0) {
      listener({ type: 'layers', available: video.track.rids, current: video.layer, heights: video.track.heights });
    }
  }

  #emitLayers(): void {
    const video = this.#downTracks.find((d) => d.kind === 'video');
    if (video && video.track.rids.length > 0) {
      this.notify({ type: 'layers', available: video.track.rids, current: video.layer, heights: video.track.heights });
    }
  }

  #tick(): void {
    // start() is idempotent: a down-track whose sender was not ready at connect time starts now.
    for (const dt of this.#downTracks) dt.start();
    const reports = this.#downTracks.map((d) => d.senderReport()).filter((r): r is RtcpSrPacket => r !== undefined);
    const dtls = this.pc.getTransceivers().find((t) => t.sender.dtlsTransport)?.sender.dtlsTransport;
    if (reports.length > 0 && dtls?.state === 'connected') dtls.sendRtcp(reports).catch(() => {});
    for (const dt of this.#downTracks) {
      if (dt.kind === 'video' && dt.pinned === null) dt.pick();
      dt.keepAskingForKeyframe();
    }
  }

  protected override onMediaResumed(): void {
    for (const dt of this.#downTracks) if (dt.kind === 'video') dt.requestKeyframe();
  }

  protected release(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const dt of this.#downTracks) dt.close();
    this.#downTracks.length = 0;
  }
}
