import { vp8BeginsFrame, vp8DescriptorLength } from '../codec/vp8-payload.js';
import { readVp9Descriptor, Vp9Descriptor, vp9BeginsFrame } from '../codec/vp9-payload.js';
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

/** Whether a packet starts a frame (VP8: S bit of partition 0; VP9: B bit; Opus: always). */
function startsFrame(codec: FrameCodec, p: Buffer): boolean {
  if (codec === 'opus') return true;
  return codec === 'vp8' ? vp8BeginsFrame(p) : vp9BeginsFrame(p);
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
  /** Read into for each VP9 packet (no allocation per packet). */
  readonly #vp9 = new Vp9Descriptor();
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
      const len = this.codec === 'vp8' ? vp8DescriptorLength(p.payload) : readVp9Descriptor(p.payload, this.#vp9);
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
