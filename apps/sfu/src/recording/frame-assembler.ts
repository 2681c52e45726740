import type { MediaPacket } from '../fanout/packet-cache.js';

/** One encoded frame rebuilt from its RTP packets (payload descriptors removed). */
export interface AssembledFrame {
  timestamp: number;
  data: Buffer;
  keyframe: boolean;
  /** Arrival of its first packet (performance.now()). */
  receivedAt: number;
}

export type FrameCodec = 'vp8' | 'vp9' | 'opus';

/** RFC 7741 §4.2: length of the VP8 payload descriptor. */
export function vp8DescriptorLength(p: Buffer): number {
  if (p.length < 1) return -1;
  let i = 1;
  if (p[0]! & 0x80) {
    if (p.length < 2) return -1;
    const x = p[1]!;
    i = 2;
    if (x & 0x80) {
      if (p.length <= i) return -1;
      i += p[i]! & 0x80 ? 2 : 1;
    }
    if (x & 0x40) i += 1;
    if (x & 0x30) i += 1;
  }
  return i <= p.length ? i : -1;
}

/** RFC 9628 §4.2: length of the VP9 payload descriptor (scalability structure included). */
export function vp9DescriptorLength(p: Buffer): number {
  if (p.length < 1) return -1;
  const b0 = p[0]!;
  const I = b0 & 0x80;
  const P = b0 & 0x40;
  const L = b0 & 0x20;
  const F = b0 & 0x10;
  const V = b0 & 0x02;
  let i = 1;
  if (I) i += (p[i] ?? 0) & 0x80 ? 2 : 1;
  if (L) i += F ? 1 : 2;
  if (F && P) {
    for (let n = 0; n < 3 && i < p.length; n++) {
      const more = p[i]! & 0x01;
      i++;
      if (!more) break;
    }
  }
  if (V && i < p.length) {
    const ss = p[i]!;
    i++;
    const spatial = (ss >> 5) + 1;
    if (ss & 0x10) i += 4 * spatial;
    if (ss & 0x08) {
      const groups = p[i] ?? 0;
      i++;
      for (let g = 0; g < groups && i < p.length; g++) {
        const refs = (p[i]! >> 2) & 0x03;
        i += 1 + refs;
      }
    }
  }
  return i <= p.length ? i : -1;
}

/** Whether a packet starts a frame (VP8: S bit of partition 0; VP9: B bit; Opus: always). */
function startsFrame(codec: FrameCodec, p: Buffer): boolean {
  if (codec === 'opus') return true;
  if (p.length < 1) return false;
  return codec === 'vp8' ? (p[0]! & 0x10) !== 0 && (p[0]! & 0x07) === 0 : (p[0]! & 0x08) !== 0;
}

const seqDiff = (a: number, b: number) => ((a - b + 0x18000) & 0xffff) - 0x8000;

/** Packets waited for before a missing one counts as lost. */
const REORDER_PACKETS = { opus: 8, vp8: 96, vp9: 96 } as const;

/**
 * Rebuilds frames from one RTP stream, in sequence order, tolerating reordering: packets wait in a
 * small window; a packet still missing when the window fills is lost, and the frames it belonged to
 * are skipped (video then waits for a keyframe, and `lost` tells the owner to ask for one).
 */
export class FrameAssembler {
  readonly #pending = new Map<number, MediaPacket>();
  #next: number | undefined;
  #needKeyframe: boolean;
  readonly #window: number;
  lostFrames = 0;

  constructor(
    readonly codec: FrameCodec,
    private readonly out: (frame: AssembledFrame) => void,
    private readonly lost: () => void = () => {},
  ) {
    this.#needKeyframe = codec !== 'opus';
    this.#window = REORDER_PACKETS[codec];
  }

  /** A new stream (another SSRC, a reconnected publisher): forget the old one's sequence; wait for a keyframe. */
  reset(): void {
    this.#pending.clear();
    this.#next = undefined;
    this.#needKeyframe = this.codec !== 'opus';
  }

  push(packet: MediaPacket): void {
    if (this.#next === undefined) {
      if (!startsFrame(this.codec, packet.payload)) return;
      this.#next = packet.sequenceNumber;
    }
    if (seqDiff(packet.sequenceNumber, this.#next) < 0) return; // late or duplicate
    this.#pending.set(packet.sequenceNumber, packet);
    this.#drain();
    if (this.#pending.size > this.#window) this.#skipLoss();
  }

  #drain(): void {
    for (;;) {
      const first = this.#pending.get(this.#next!);
      if (!first) return;
      if (this.codec === 'opus') {
        this.#pending.delete(this.#next!);
        this.#next = (this.#next! + 1) & 0xffff;
        if (first.payload.length > 0) {
          this.out({ timestamp: first.timestamp, data: first.payload, keyframe: true, receivedAt: first.receivedAt });
        }
        continue;
      }
      // Video: the frame is complete when every packet up to its marker is here.
      const parts: MediaPacket[] = [];
      let seq = this.#next!;
      let complete = false;
      for (;;) {
        const p = this.#pending.get(seq);
        if (!p || p.timestamp !== first.timestamp) break;
        parts.push(p);
        seq = (seq + 1) & 0xffff;
        if (p.marker) {
          complete = true;
          break;
        }
      }
      if (!complete) {
        // The next packet has another timestamp: this frame's marker was lost; drop it.
        const after = this.#pending.get(seq);
        if (!after) return;
        for (const p of parts) this.#pending.delete(p.sequenceNumber);
        this.#next = seq;
        this.#frameLost();
        continue;
      }
      for (const p of parts) this.#pending.delete(p.sequenceNumber);
      this.#next = seq;
      this.#emitVideo(parts);
    }
  }

  #emitVideo(parts: MediaPacket[]): void {
    const first = parts[0]!;
    const keyframe = first.keyframe;
    if (this.#needKeyframe && !keyframe) return;
    const chunks: Buffer[] = [];
    for (const p of parts) {
      const len = this.codec === 'vp8' ? vp8DescriptorLength(p.payload) : vp9DescriptorLength(p.payload);
      if (len < 0) {
        this.#frameLost();
        return;
      }
      chunks.push(p.payload.subarray(len));
    }
    this.#needKeyframe = false;
    this.out({ timestamp: first.timestamp, data: Buffer.concat(chunks), keyframe, receivedAt: first.receivedAt });
  }

  #frameLost(): void {
    this.lostFrames++;
    if (this.codec !== 'opus') {
      this.#needKeyframe = true;
      this.lost();
    }
  }

  /** The window is full and the next packet never came: go on from the next frame start there is. */
  #skipLoss(): void {
    const seqs = [...this.#pending.keys()].sort((a, b) => seqDiff(a, this.#next!) - seqDiff(b, this.#next!));
    const start = seqs.find((s) => startsFrame(this.codec, this.#pending.get(s)!.payload));
    for (const s of seqs) {
      if (start !== undefined && s === start) break;
      this.#pending.delete(s);
    }
    this.#next = start;
    this.#frameLost();
    if (start !== undefined) this.#drain();
  }
}
