import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from '@fusionflow/kit';
import type { RecordingClaim, RecordingReport, RoomId } from '@fusionflow/protocol';
import { vp8KeyframeHeaderSize } from '../codec/vp8-payload.js';
import type { MediaPacket } from '../fanout/packet-cache.js';
import { type AssembledFrame, FrameAssembler } from './frame-assembler.js';
import { IvfOggWriter, type RecordedFile } from './ivf-ogg-writer.js';
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
  /** The publisher's video codec (VP8 unless said). */
  videoCodec?: 'vp8' | 'vp9';
}

const CLOCK = { audio: 48_000, video: 90_000 } as const;

interface TrackTimeline {
  /** RTP timestamp of this stream's first frame (unwrapped base) and the recording time it maps to. */
  ts0: number;
  ms0: number;
  lastTs: number;
  wraps: number;
}

/**
 * Records one broadcast (a publisher's Opus audio and best VP8 or VP9 video) into ONE WebM file
 * `<dir>/<id>.webm` (format `ivf-ogg`: `<dir>/<id>.ivf` and `<dir>/<id>.ogg`). Owned by
 * BroadcastRecordings; a publisher that comes back within the grace period calls `resume()` and the
 * same file goes on. `close()` is idempotent.
 */
export class BroadcastRecorder {
  readonly id: string;
  /** The file (WebM) or files (IVF and Ogg) being written. */
  readonly paths: string[];
  readonly #writer: WebmWriter | IvfOggWriter;
  readonly #assemblers: { audio: FrameAssembler; video: FrameAssembler };
  readonly #timelines: { audio?: TrackTimeline; video?: TrackTimeline } = {};
  /** Recording time origin (performance.now() of the first video keyframe). */
  #origin: number | undefined;
  /** A resumed publisher: its media continues from the end of what was written. */
  #resumeAtMs = 0;
  #startedAt: string | undefined;
  #closing: Promise<RecordingReport> | undefined;

  constructor(private readonly o: BroadcastRecorderOptions) {
    this.id = o.claim.id;
    if (o.claim.format === 'ivf-ogg') {
      const writer = new IvfOggWriter(join(o.dir, o.claim.id));
      this.#writer = writer;
      this.paths = writer.paths;
    } else {
      this.#writer = new WebmWriter(join(o.dir, `${o.claim.id}.webm`));
      this.paths = [this.#writer.path];
    }
    this.#assemblers = {
      audio: new FrameAssembler('opus', (f) => this.#frame('audio', f)),
      video: new FrameAssembler(
        this.videoCodec,
        (f) => this.#frame('video', f),
        () => o.requestKeyframe(),
      ),
    };
    o.requestKeyframe();
  }

  get videoCodec(): 'vp8' | 'vp9' {
    return this.o.videoCodec ?? 'vp8';
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

  /**
   * The video comes from another RTP stream of the same publisher (another simulcast layer): its
   * timestamps start afresh, placed at its arrival time; the audio goes on untouched.
   */
  switchVideo(): void {
    if (this.#closing) return;
    this.#assemblers.video.reset();
    this.#timelines.video = undefined;
    this.o.requestKeyframe();
  }

  #frame(kind: 'audio' | 'video', f: AssembledFrame): void {
    if (!this.#writer.started) {
      if (kind !== 'video' || !f.keyframe) return;
      const size = this.videoCodec === 'vp8' ? vp8KeyframeHeaderSize(f.data) : undefined;
      this.#writer.start([
        { kind: 'video', codec: this.videoCodec === 'vp8' ? 'VP8' : 'VP9', width: size?.width, height: size?.height },
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

  #reportOf(status: RecordingReport['status'], endedAt: string | null, files: RecordedFile[] = []): RecordingReport {
    return {
      id: this.id,
      room: this.o.room,
      format: this.o.claim.format,
      status,
      startedAt: this.#startedAt ?? new Date().toISOString(),
      endedAt,
      durationMs: Math.round(this.#writer.durationMs),
      files: files.map((f) => ({ ...f, storage: 'local' as const, key: f.name })),
    };
  }

  /** Finalise the file (Cues, Duration) and report `ready`, or `failed` when nothing was written. Idempotent. */
  close(): Promise<RecordingReport> {
    this.#closing ??= this.#finish();
    return this.#closing;
  }

  async #finishFiles(): Promise<RecordedFile[]> {
    const w = this.#writer;
    if (w instanceof IvfOggWriter) return (await w.finish()).files;
    const { bytes } = await w.finish();
    return [{ name: `${this.id}.webm`, bytes, contentType: 'video/webm' }];
  }

  async #finish(): Promise<RecordingReport> {
    const endedAt = new Date().toISOString();
    let report: RecordingReport;
    if (!this.#writer.started || this.#writer.frames === 0) {
      await this.#writer.abort();
      await Promise.all(this.paths.map((p) => rm(p, { force: true })));
      report = this.#reportOf('failed', endedAt);
    } else {
      try {
        report = this.#reportOf('ready', endedAt, await this.#finishFiles());
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
