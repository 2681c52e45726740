import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@fusionflow/kit';
import type { RecordingClaim, RecordingReport, RoomId } from '@fusionflow/protocol';
import type { MediaPacket } from '../fanout/packet-cache.js';
import { type AssembledFrame, FrameAssembler } from './frame-assembler.js';
import { WebmWriter } from './webm-writer.js';

export interface BroadcastRecorderOptions {
  claim: RecordingClaim;
  room: RoomId;
  dir: string;
  log: Logger;
  /** Ask the publisher for a keyframe (a PLI on its best video layer). */
  requestKeyframe: () => void;
  /** Each report (`recording` on the first media, then `ready` or `failed`). */
  report: (report: RecordingReport) => void;
  now?: () => number;
}

const CLOCK = { audio: 48_000, video: 90_000 } as const;

interface TrackTimeline {
  /** RTP timestamp of this stream's first frame (unwrapped base) and the recording time it maps to. */
  ts0: number;
  ms0: number;
  lastTs: number;
  wraps: number;
}

/** VP8 keyframe header (RFC 6386 §9.1): width and height after the start code. */
function vp8Size(frame: Buffer): { width: number; height: number } | undefined {
  if (frame.length < 10 || frame[3] !== 0x9d || frame[4] !== 0x01 || frame[5] !== 0x2a) return undefined;
  return { width: frame.readUInt16LE(6) & 0x3fff, height: frame.readUInt16LE(8) & 0x3fff };
}

/**
 * Records one broadcast (a publisher's Opus audio and best VP8 video) into ONE WebM file
 * `<dir>/<id>.webm`. Owned by the room's publisher session; a publisher that comes back within the
 * grace period calls `resume()` and the same file goes on. `close()` is idempotent.
 */
export class BroadcastRecorder {
  readonly id: string;
  readonly path: string;
  readonly #writer: WebmWriter;
  readonly #assemblers: { audio: FrameAssembler; video: FrameAssembler };
  readonly #timelines: { audio?: TrackTimeline; video?: TrackTimeline } = {};
  readonly #now: () => number;
  /** Recording time origin (performance.now() of the first video keyframe). */
  #origin: number | undefined;
  /** A resumed publisher: its media continues from the end of what was written. */
  #resumeAtMs = 0;
  #startedAt: string | undefined;
  #closing: Promise<RecordingReport> | undefined;

  constructor(private readonly o: BroadcastRecorderOptions) {
    this.id = o.claim.id;
    this.path = join(o.dir, `${o.claim.id}.webm`);
    this.#writer = new WebmWriter(this.path);
    this.#now = o.now ?? (() => performance.now());
    this.#assemblers = {
      audio: new FrameAssembler('opus', (f) => this.#frame('audio', f)),
      video: new FrameAssembler(
        'vp8',
        (f) => this.#frame('video', f),
        () => o.requestKeyframe(),
      ),
    };
    o.requestKeyframe();
  }

  get bytesWritten(): number {
    return this.#writer.bytesWritten;
  }

  get durationMs(): number {
    return this.#writer.durationMs;
  }

  /** One RTP packet of the publisher's audio or best video layer. */
  push(kind: 'audio' | 'video', packet: MediaPacket): void {
    if (this.#closing) return;
    this.#assemblers[kind].push(packet);
  }

  /** The publisher came back (or switched layer/SSRC): new RTP streams, continuing the same file. */
  resume(): void {
    if (this.#closing) return;
    this.#assemblers.audio.reset();
    this.#assemblers.video.reset();
    this.#timelines.audio = undefined;
    this.#timelines.video = undefined;
    this.#resumeAtMs = this.#writer.durationMs;
    this.#origin = undefined;
    this.o.requestKeyframe();
  }

  #frame(kind: 'audio' | 'video', f: AssembledFrame): void {
    if (!this.#writer.started) {
      if (kind !== 'video' || !f.keyframe) return;
      const size = vp8Size(f.data);
      this.#writer.start([
        { kind: 'video', codec: 'VP8', width: size?.width, height: size?.height },
        { kind: 'audio', codec: 'OPUS', channels: 2 },
      ]);
    }
    if (this.#origin === undefined) {
      if (kind !== 'video' || !f.keyframe) return;
      this.#origin = f.receivedAt;
    }
    let tl = this.#timelines[kind];
    if (!tl) {
      tl = {
        ts0: f.timestamp,
        ms0: this.#resumeAtMs + Math.max(0, f.receivedAt - this.#origin),
        lastTs: f.timestamp,
        wraps: 0,
      };
      this.#timelines[kind] = tl;
    }
    if (f.timestamp < tl.lastTs && tl.lastTs - f.timestamp > 0x80000000) tl.wraps++;
    tl.lastTs = f.timestamp;
    const ticks = f.timestamp + tl.wraps * 0x100000000 - tl.ts0;
    const timeMs = tl.ms0 + (ticks * 1000) / CLOCK[kind];
    this.#writer.write(kind, timeMs, f.data, f.keyframe);
    if (!this.#startedAt) {
      this.#startedAt = new Date().toISOString();
      this.o.log.info({ recording: this.id, room: this.o.room }, 'recording started');
      this.o.report(this.#reportOf('recording', null));
    }
  }

  #reportOf(status: RecordingReport['status'], endedAt: string | null, bytes = 0): RecordingReport {
    const name = `${this.id}.webm`;
    return {
      id: this.id,
      room: this.o.room,
      format: this.o.claim.format,
      status,
      startedAt: this.#startedAt ?? new Date().toISOString(),
      endedAt,
      durationMs: Math.round(this.#writer.durationMs),
      files: status === 'ready' ? [{ name, storage: 'local', key: name, bytes, contentType: 'video/webm' }] : [],
    };
  }

  /** Finalise the file (Cues, Duration) and report `ready`, or `failed` when nothing was written. Idempotent. */
  close(): Promise<RecordingReport> {
    this.#closing ??= this.#finish();
    return this.#closing;
  }

  async #finish(): Promise<RecordingReport> {
    const endedAt = new Date().toISOString();
    let report: RecordingReport;
    if (!this.#writer.started || this.#writer.frames === 0) {
      await this.#writer.abort();
      await rm(this.path, { force: true });
      report = this.#reportOf('failed', endedAt);
    } else {
      try {
        const { bytes } = await this.#writer.finish();
        report = this.#reportOf('ready', endedAt, bytes);
      } catch (err) {
        this.o.log.warn({ recording: this.id, err }, 'recording could not be finalised');
        report = this.#reportOf('failed', endedAt);
      }
    }
    this.o.log.info({ recording: this.id, status: report.status, durationMs: report.durationMs }, 'recording ended');
    this.o.report(report);
    return report;
  }
}
