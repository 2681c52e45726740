import { randomInt } from 'node:crypto';
import { Emitter, type Logger, logListenerErrors } from '@fusionflow/kit';
import {
  type GenericNack,
  type RTCDtlsTransport,
  type RTCRtpTransceiver,
  RtcpPayloadSpecificFeedback,
  RtcpSenderInfo,
  RtcpSrPacket,
} from 'werift';
import type { RoomMetrics } from '../metrics.js';
import type { Layer } from './layer.js';
import type { MediaPacket } from './packet-cache.js';
import type { PublishedTrack, TrackSubscriber } from './published-track.js';
import { RtpHeaderWriter } from './rtp-header-writer.js';
import { sendRtp } from './transport-send.js';

const MID_URI = 'urn:ietf:params:rtp-hdrext:sdes:mid';
const ABS_SEND_TIME_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time';
/** Upgrade to a better layer only when the estimate clears its bitrate by this much. */
const UPGRADE_HEADROOM = 1.2;
/** FIR is payload-specific feedback type 4. */
const FIR_COUNT = 4;

/** Now as a 64-bit NTP timestamp (seconds since 1900 in the high word). */
function ntpNow(): bigint {
  const ms = Date.now();
  const seconds = BigInt(Math.floor(ms / 1000) + 2_208_988_800);
  const fraction = BigInt(Math.floor(((ms % 1000) / 1000) * 2 ** 32));
  return (seconds << 32n) | fraction;
}

const seqNewer = (a: number, b: number) => a !== b && ((a - b) & 0xffff) < 0x8000;

/** What a down-track tells its session. */
export interface DownTrackEvents extends Record<string, unknown> {
  /** The forwarded simulcast layer changed (null without simulcast). */
  layer: string | null;
}

/**
 * One published track as one subscriber receives it (the fast path): a prebuilt header with the
 * subscriber's payload type, SSRC and extension ids; sequence numbers and timestamps shifted by
 * offsets so they stay continuous across simulcast layer switches; SRTP and a UDP send.
 * NACKs are answered from the publisher stream's cache (as RTX when the subscriber negotiated it),
 * PLI/FIR go to the publisher (throttled there), and the session sends sender reports with the
 * counters kept here.
 */
export class DownTrack extends Emitter<DownTrackEvents> implements TrackSubscriber {
  readonly #track: PublishedTrack;
  readonly #transceiver: RTCRtpTransceiver;
  readonly #metrics: RoomMetrics;
  readonly #logger: Logger;
  #writer: RtpHeaderWriter | undefined;
  #rtxWriter: RtpHeaderWriter | undefined;
  #dtls: RTCDtlsTransport | undefined;
  #current: Layer | undefined;
  #target: Layer | undefined;
  #pinned: string | null = null;
  #seqOffset = 0;
  #tsOffset = 0;
  #lastOutSeq = -1;
  #lastOutTs = 0;
  #lastSentAt = 0;
  #rtxSeq = randomInt(0, 0x10000);
  #started = false;
  #closed = false;
  readonly #unsubscribe: (() => void)[] = [];
  readonly #clockRate: number;
  packetsSent = 0;
  octetsSent = 0;
  /** Packets not sent: waiting for a keyframe to start on. */
  waitingDrops = 0;
  /** Packets not sent: the transport could not send (not connected, no consent). */
  sendFailures = 0;

  constructor(o: { track: PublishedTrack; transceiver: RTCRtpTransceiver; metrics: RoomMetrics; logger: Logger }) {
    super(logListenerErrors(o.logger));
    this.#track = o.track;
    this.#transceiver = o.transceiver;
    this.#metrics = o.metrics;
    this.#logger = o.logger;
    this.#clockRate = o.track.codec.clockRate;
    o.track.attach(this);
  }

  get kind(): 'audio' | 'video' {
    return this.#track.kind;
  }

  get transceiver(): RTCRtpTransceiver {
    return this.#transceiver;
  }

  get track(): PublishedTrack {
    return this.#track;
  }

  /** The simulcast layer forwarded now (null without simulcast or before the first packet). */
  get layer(): string | null {
    return this.#current && this.#current.rid !== '' ? this.#current.rid : null;
  }

  get pinned(): string | null {
    return this.#pinned;
  }

  /** The subscriber's transport is up: build the header and start forwarding from a keyframe. */
  start(): void {
    if (this.#started || this.#closed) return;
    const sender = this.#transceiver.sender;
    // Negotiated values werift keeps private (pinned version).
    const negotiated = sender as unknown as {
      headerExtensions: { id: number; uri: string }[];
      mid?: string;
      rtxPayloadType?: number;
    };
    const codec = sender.codec;
    if (!codec || !sender.dtlsTransport) return;
    this.#started = true;
    this.#dtls = sender.dtlsTransport;
    const ext = (uri: string) => negotiated.headerExtensions.find((e) => e.uri === uri)?.id;
    const midId = ext(MID_URI);
    const absId = ext(ABS_SEND_TIME_URI);
    const extensions = {
      ...(midId !== undefined && negotiated.mid ? { mid: { id: midId, value: negotiated.mid } } : {}),
      ...(absId !== undefined ? { absSendTime: absId } : {}),
    };
    this.#writer = new RtpHeaderWriter(codec.payloadType!, sender.ssrc, extensions);
    if (negotiated.rtxPayloadType !== undefined) {
      this.#rtxWriter = new RtpHeaderWriter(negotiated.rtxPayloadType, sender.rtxSsrc, extensions);
    }
    this.#unsubscribe.push(
      sender.onGenericNack.subscribe((nack: GenericNack) => this.#onNack(nack.lost)).unSubscribe,
      sender.onPictureLossIndication.subscribe(() => this.requestKeyframe()).unSubscribe,
      sender.onRtcp.subscribe((rtcp) => {
        if (rtcp instanceof RtcpPayloadSpecificFeedback && rtcp.feedback.count === FIR_COUNT) this.requestKeyframe();
      }).unSubscribe,
    );
    this.pick();
  }

  /** Follow the subscriber's request (a rid) or, with null, its bandwidth estimate. */
  pin(rid: string | null): void {
    this.#logger.debug({ rid, kind: this.kind, layers: this.#track.layers.map((l) => l.rid) }, 'layer requested');
    this.#pinned = rid;
    this.pick();
  }

  /** Layers appeared or changed: choose again. */
  layersChanged(): void {
    if (this.#started) this.pick();
  }

  /** Choose the layer to forward: the pinned one, or the best one the estimate (REMB) allows. */
  pick(): void {
    if (!this.#started || this.#closed) return;
    const layers = this.#track.layers;
    if (layers.length === 0) return;
    let next: Layer | undefined;
    if (this.#pinned !== null) next = this.#track.layer(this.#pinned);
    if (!next) {
      const estimate = Number(this.#transceiver.sender.receiverEstimatedMaxBitrate ?? 0n);
      if (estimate <= 0 || layers.length === 1) next = layers[0];
      else {
        const fits = (l: Layer) =>
          l === this.#current ? l.meter.bps <= estimate : l.meter.bps * UPGRADE_HEADROOM <= estimate;
        next = layers.find(fits) ?? layers.at(-1);
      }
    }
    if (!next || next === this.#target) return;
    // A layer that was waited for and is no longer wanted stops feeding this down-track.
    if (this.#target && this.#target !== this.#current) this.#target.remove(this);
    this.#target = next;
    next.add(this);
    if (next !== this.#current) {
      this.#logger.debug({ kind: this.kind, rid: next.rid, from: this.#current?.rid }, 'switching layer');
      this.#track.requestKeyframe(next.rid);
    }
  }

  /** A packet of a layer this down-track listens to (hot path). */
  write(layer: Layer, packet: MediaPacket): void {
    if (this.#closed) return;
    if (layer !== this.#current) {
      if (layer !== this.#target) return;
      if (!packet.keyframe) {
        // Waiting for a picture to start (or switch) on.
        if (!this.#current) {
          this.waitingDrops++;
          this.#metrics.dropped(1);
        }
        return;
      }
      this.#switchTo(layer, packet);
    }
    this.#forward(packet);
  }

  #switchTo(layer: Layer, packet: MediaPacket): void {
    const previous = this.#current;
    this.#logger.debug(
      { rid: layer.rid, from: previous?.rid, sequenceNumber: packet.sequenceNumber },
      'layer switched',
    );
    if (previous && previous !== layer) previous.remove(this);
    this.#current = layer;
    if (this.#lastOutSeq >= 0) {
      this.#seqOffset = (this.#lastOutSeq + 1 - packet.sequenceNumber) & 0xffff;
      const elapsed = Math.max(1, Math.round(((packet.receivedAt - this.#lastSentAt) * this.#clockRate) / 1000));
      this.#tsOffset = (this.#lastOutTs + elapsed - packet.timestamp) >>> 0;
    }
    this.emit('layer', layer.rid === '' ? null : layer.rid);
  }

  #forward(packet: MediaPacket): void {
    const writer = this.#writer!;
    const seq = (packet.sequenceNumber + this.#seqOffset) & 0xffff;
    const ts = (packet.timestamp + this.#tsOffset) >>> 0;
    const now = Date.now();
    const sent = sendRtp(this.#dtls!, packet.payload, writer.write(seq, ts, packet.marker, now));
    if (sent === 0) {
      this.sendFailures++;
      this.#metrics.dropped(1);
      return;
    }
    if (this.#lastOutSeq < 0 || seqNewer(seq, this.#lastOutSeq)) {
      this.#lastOutSeq = seq;
      this.#lastOutTs = ts;
      this.#lastSentAt = packet.receivedAt;
    }
    this.packetsSent++;
    this.octetsSent += packet.payload.length;
    this.#metrics.sent(sent);
  }

  #onNack(lost: number[]): void {
    const layer = this.#current;
    if (!layer || this.#closed) return;
    this.#metrics.nack();
    const missing: number[] = [];
    for (const outSeq of lost) {
      const seq = (outSeq - this.#seqOffset) & 0xffff;
      const packet = layer.cache.get(seq);
      if (packet) this.#resend(packet, outSeq);
      else missing.push(seq);
    }
    if (missing.length > 0) this.#track.missing(layer, missing, this);
  }

  /** A packet this viewer asked for arrived late from upstream (an edge's relay asked the origin): resend it. */
  retransmit(layer: Layer, packet: MediaPacket): void {
    if (layer === this.#current && !this.#closed)
      this.#resend(packet, (packet.sequenceNumber + this.#seqOffset) & 0xffff);
  }

  #resend(packet: MediaPacket, outSeq: number): void {
    const ts = (packet.timestamp + this.#tsOffset) >>> 0;
    const now = Date.now();
    let sent: number;
    if (this.#rtxWriter) {
      const payload = Buffer.allocUnsafe(2 + packet.payload.length);
      payload.writeUInt16BE(outSeq, 0);
      packet.payload.copy(payload, 2);
      sent = sendRtp(this.#dtls!, payload, this.#rtxWriter.write(this.#rtxSeq, ts, packet.marker, now));
      this.#rtxSeq = (this.#rtxSeq + 1) & 0xffff;
    } else {
      sent = sendRtp(this.#dtls!, packet.payload, this.#writer!.write(outSeq, ts, packet.marker, now));
    }
    if (sent > 0) this.#metrics.retransmitted(sent);
  }

  /** Ask the publisher for a keyframe of the layer this viewer gets (throttled by the published track). */
  requestKeyframe(): void {
    const rid = (this.#current ?? this.#target)?.rid;
    if (rid !== undefined) this.#track.requestKeyframe(rid);
  }

  /**
   * Still waiting for a keyframe to start on (or to switch layers): ask again. A lost keyframe or a
   * lost PLI must not leave a viewer with no picture until the encoder's next periodic keyframe.
   */
  keepAskingForKeyframe(): void {
    if (!this.#started || this.#closed || this.kind !== 'video') return;
    const target = this.#target;
    if (target && target !== this.#current) this.#track.requestKeyframe(target.rid);
  }

  /** An RTCP sender report for this stream, or undefined before anything was sent. */
  senderReport(): RtcpSrPacket | undefined {
    if (!this.#writer || this.packetsSent === 0) return undefined;
    const elapsed = performance.now() - this.#lastSentAt;
    const rtpTimestamp = (this.#lastOutTs + Math.round((elapsed * this.#clockRate) / 1000)) >>> 0;
    return new RtcpSrPacket({
      ssrc: this.#writer.ssrc,
      senderInfo: new RtcpSenderInfo({
        ntpTimestamp: ntpNow(),
        rtpTimestamp,
        packetCount: this.packetsSent >>> 0,
        octetCount: this.octetsSent >>> 0,
      }),
    });
  }

  /** The publisher's track ended. */
  sourceClosed(): void {
    this.close();
  }

  /** Stop forwarding and let go of every subscription. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const un of this.#unsubscribe) un();
    this.#unsubscribe.length = 0;
    this.#track.detach(this);
    this.#current = undefined;
    this.#target = undefined;
    this.removeAllListeners();
  }
}
