/** Header extensions the SFU writes on packets to a subscriber (ids from that subscriber's SDP). */
export interface OutgoingExtensions {
  /** urn:ietf:params:rtp-hdrext:sdes:mid, with the m-line's mid. */
  mid?: { id: number; value: string };
  /** http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time (receiver-side bandwidth estimation). */
  absSendTime?: number;
}

const ONE_BYTE_PROFILE = 0xbede;

/**
 * The fast path's per-subscriber RTP header: built once from the subscriber's payload type, SSRC
 * and extension ids, then only sequence number, timestamp, marker and send time are rewritten per
 * packet. It also serves as the "header" werift's SRTP ciphers take (`ssrc`, `sequenceNumber`,
 * `serializeSize`, `serialize()`), so no RtpHeader object is built or serialized per packet.
 *
 * The buffer is reused: encrypt it (which copies) before writing the next packet.
 */
export class RtpHeaderWriter {
  readonly #buf: Buffer;
  readonly #absSendTimeAt: number;
  sequenceNumber = 0;
  readonly ssrc: number;

  constructor(payloadType: number, ssrc: number, extensions: OutgoingExtensions = {}) {
    this.ssrc = ssrc;
    const elements: Buffer[] = [];
    let absAt = -1;
    let offset = 0;
    if (extensions.mid) {
      const value = Buffer.from(extensions.mid.value, 'utf8').subarray(0, 16);
      elements.push(Buffer.concat([Buffer.from([(extensions.mid.id << 4) | (value.length - 1)]), value]));
      offset += 1 + value.length;
    }
    if (extensions.absSendTime !== undefined) {
      absAt = offset + 1;
      elements.push(Buffer.from([(extensions.absSendTime << 4) | 2, 0, 0, 0]));
      offset += 4;
    }
    const extBody = Buffer.concat(elements);
    const words = Math.ceil(extBody.length / 4);
    const extLength = elements.length > 0 ? 4 + words * 4 : 0;
    const buf = Buffer.alloc(12 + extLength);
    buf[0] = 0x80 | (extLength > 0 ? 0x10 : 0);
    buf[1] = payloadType & 0x7f;
    buf.writeUInt32BE(ssrc >>> 0, 8);
    if (extLength > 0) {
      buf.writeUInt16BE(ONE_BYTE_PROFILE, 12);
      buf.writeUInt16BE(words, 14);
      extBody.copy(buf, 16);
    }
    this.#buf = buf;
    this.#absSendTimeAt = absAt >= 0 ? 16 + absAt : -1;
  }

  get serializeSize(): number {
    return this.#buf.length;
  }

  /** Rewrite the per-packet fields; returns this (the SRTP "header"). */
  write(sequenceNumber: number, timestamp: number, marker: boolean, nowMs: number): this {
    const b = this.#buf;
    b[1] = (b[1]! & 0x7f) | (marker ? 0x80 : 0);
    b.writeUInt16BE(sequenceNumber, 2);
    b.writeUInt32BE(timestamp >>> 0, 4);
    if (this.#absSendTimeAt >= 0) {
      // 6.18 fixed-point seconds, 24 bits.
      const v = Math.floor((nowMs / 1000) * 262144) & 0xffffff;
      b[this.#absSendTimeAt] = (v >>> 16) & 0xff;
      b[this.#absSendTimeAt + 1] = (v >>> 8) & 0xff;
      b[this.#absSendTimeAt + 2] = v & 0xff;
    }
    this.sequenceNumber = sequenceNumber;
    return this;
  }

  serialize(): Buffer {
    return this.#buf;
  }
}
