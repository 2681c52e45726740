/** One incoming RTP packet as the fan-out keeps it: parsed once, shared by every subscriber. */
export interface MediaPacket {
  sequenceNumber: number;
  timestamp: number;
  marker: boolean;
  payload: Buffer;
  /** This packet starts a keyframe (always true for audio). */
  keyframe: boolean;
  /** Arrival time (performance.now()), for timestamp continuity on layer switches. */
  receivedAt: number;
}

/**
 * The last `size` packets of one incoming stream by sequence number, to answer NACKs. One cache per
 * publisher stream (not per subscriber): a retransmission maps the subscriber's sequence number back
 * to the publisher's and rewrites the header as for any packet.
 */
export class PacketCache {
  readonly #slots: (MediaPacket | undefined)[];

  constructor(readonly size: number) {
    this.#slots = new Array(size);
  }

  put(packet: MediaPacket): void {
    this.#slots[packet.sequenceNumber % this.size] = packet;
  }

  get(sequenceNumber: number): MediaPacket | undefined {
    const p = this.#slots[sequenceNumber % this.size];
    return p && p.sequenceNumber === sequenceNumber ? p : undefined;
  }

  clear(): void {
    this.#slots.fill(undefined);
  }
}
