import { type FileHandle, open } from 'node:fs/promises';

/**
 * A WebM (Matroska) muxer that writes while it records and, when finished, makes the file seekable:
 * Cues, a Duration and a SeekHead that points to them (patched into space reserved at the start).
 * werift's WebmFactory (werift/nonstandard) was not used: its output has no SeekHead, so a player
 * finds its Cues (written at the end) only by reading the whole file, and it cannot continue one file
 * across two peer connections (a publisher that reconnects), which the recorder needs.
 */

export interface WebmTrackSpec {
  kind: 'audio' | 'video';
  codec: 'VP8' | 'VP9' | 'OPUS';
  width?: number;
  height?: number;
  channels?: number;
}

const ID = {
  EBML: 0x1a45dfa3,
  Segment: 0x18538067,
  SeekHead: 0x114d9b74,
  Seek: 0x4dbb,
  SeekID: 0x53ab,
  SeekPosition: 0x53ac,
  Info: 0x1549a966,
  TimecodeScale: 0x2ad7b1,
  MuxingApp: 0x4d80,
  WritingApp: 0x5741,
  Duration: 0x4489,
  Tracks: 0x1654ae6b,
  TrackEntry: 0xae,
  TrackNumber: 0xd7,
  TrackUID: 0x73c5,
  TrackType: 0x83,
  FlagLacing: 0x9c,
  CodecID: 0x86,
  CodecPrivate: 0x63a2,
  CodecDelay: 0x56aa,
  SeekPreRoll: 0x56bb,
  Video: 0xe0,
  PixelWidth: 0xb0,
  PixelHeight: 0xba,
  Audio: 0xe1,
  SamplingFrequency: 0xb5,
  Channels: 0x9f,
  Cluster: 0x1f43b675,
  Timecode: 0xe7,
  SimpleBlock: 0xa3,
  Cues: 0x1c53bb6b,
  CuePoint: 0xbb,
  CueTime: 0xb3,
  CueTrackPositions: 0xb7,
  CueTrack: 0xf7,
  CueClusterPosition: 0xf1,
  Void: 0xec,
} as const;

function idBytes(id: number): Buffer {
  const bytes: number[] = [];
  for (let v = id; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from(bytes);
}

/** EBML variable-size integer of a data size (the shortest that holds it). */
function vsize(n: number): Buffer {
  for (let len = 1; len <= 8; len++) {
    if (n < 2 ** (7 * len) - 1) {
      const b = Buffer.alloc(len);
      let v = n;
      for (let i = len - 1; i >= 0; i--) {
        b[i] = v & 0xff;
        v = Math.floor(v / 256);
      }
      b[0]! |= 1 << (8 - len);
      return b;
    }
  }
  throw new Error('EBML size too large');
}

/** An 8-byte size field (patched in place later). */
function vsize8(n: number): Buffer {
  const b = Buffer.alloc(8);
  let v = n;
  for (let i = 7; i >= 1; i--) {
    b[i] = v & 0xff;
    v = Math.floor(v / 256);
  }
  b[0] = 0x01;
  return b;
}

const el = (id: number, ...data: Buffer[]) => {
  const body = Buffer.concat(data);
  return Buffer.concat([idBytes(id), vsize(body.length), body]);
};
function uint(id: number, v: number): Buffer {
  const bytes: number[] = [];
  for (let x = Math.max(0, Math.floor(v)); bytes.length === 0 || x > 0; x = Math.floor(x / 256))
    bytes.unshift(x & 0xff);
  return el(id, Buffer.from(bytes));
}
const str = (id: number, s: string) => el(id, Buffer.from(s, 'utf8'));
function f64(id: number, v: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeDoubleBE(v);
  return el(id, b);
}
/** A Void element of exactly `total` bytes (id + 8-byte size + filler). */
function voidOf(total: number): Buffer {
  const b = Buffer.alloc(total);
  b[0] = ID.Void;
  vsize8(total - 9).copy(b, 1);
  return b;
}

/** OpusHead (RFC 7845 §5.1), the Opus track's CodecPrivate. */
export function opusHead(channels: number, preSkip: number): Buffer {
  const b = Buffer.alloc(19);
  b.write('OpusHead', 0, 'ascii');
  b[8] = 1;
  b[9] = channels;
  b.writeUInt16LE(preSkip, 10);
  b.writeUInt32LE(48_000, 12);
  return b;
}

export const OPUS_PRE_SKIP = 312;
/** Reserved at the start of the segment for the SeekHead written at the end. */
const SEEK_HEAD_SPACE = 96;
/** A cluster holds at most this long (block times are int16 ms relative to the cluster). */
const MAX_CLUSTER_MS = 5000;

interface Cue {
  timeMs: number;
  track: number;
  clusterPosition: number;
}

/**
 * Writes one WebM file: `start()` the header once the tracks are known, `write()` frames in time
 * order (milliseconds from the start), `finish()` to add Cues, Duration and SeekHead. Clusters are
 * buffered in memory (one GOP) and appended with their final size, one write each.
 */
export class WebmWriter {
  #file: FileHandle | undefined;
  #tracks: WebmTrackSpec[] = [];
  /** File offset of the Segment's data (positions in SeekHead and Cues are relative to it). */
  #segmentData = 0;
  #segmentSizeAt = 0;
  #seekHeadAt = 0;
  #durationAt = 0;
  #infoAt = 0;
  #tracksAt = 0;
  #offset = 0;
  #cluster: Buffer[] = [];
  #clusterBytes = 0;
  #clusterTime = -1;
  #cues: Cue[] = [];
  #endMs = 0;
  #lastMs = 0;
  #chain: Promise<void> = Promise.resolve();
  #error: Error | undefined;
  #finished = false;
  bytesWritten = 0;
  frames = 0;

  constructor(readonly path: string) {}

  get started(): boolean {
    return this.#tracks.length > 0;
  }

  /** A write failed (the disk is full, the directory is gone): nothing more is written. */
  get error(): Error | undefined {
    return this.#error;
  }

  /** Milliseconds of media written (the last frame's end). */
  get durationMs(): number {
    return this.#endMs;
  }

  /** The number (1-based) of a track given to `start`. */
  trackNumber(kind: 'audio' | 'video'): number {
    return this.#tracks.findIndex((t) => t.kind === kind) + 1;
  }

  /** Open the file and write the header (queued: frames may be written at once). */
  start(tracks: WebmTrackSpec[]): void {
    if (this.#tracks.length > 0) throw new Error('already started');
    this.#tracks = tracks;
    this.#chain = open(this.path, 'w').then(
      (file) => {
        this.#file = file;
      },
      (err: Error) => {
        this.#error = err;
      },
    );
    const header = el(
      ID.EBML,
      uint(0x4286, 1),
      uint(0x42f7, 1),
      uint(0x42f2, 4),
      uint(0x42f3, 8),
      str(0x4282, 'webm'),
      uint(0x4287, 4),
      uint(0x4285, 2),
    );
    // Segment of unknown size until finished (a file cut short still plays from the start).
    const segment = Buffer.concat([idBytes(ID.Segment), Buffer.from([0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff])]);
    this.#segmentSizeAt = header.length + 4;
    this.#segmentData = header.length + segment.length;
    const seekSpace = voidOf(SEEK_HEAD_SPACE);
    this.#seekHeadAt = this.#segmentData;
    const info = el(
      ID.Info,
      uint(ID.TimecodeScale, 1_000_000),
      str(ID.MuxingApp, 'fusionflow'),
      str(ID.WritingApp, 'fusionflow-sfu'),
      f64(ID.Duration, 0),
    );
    this.#infoAt = this.#seekHeadAt + seekSpace.length;
    // Duration is the last 8 bytes of Info.
    this.#durationAt = this.#infoAt + info.length - 8;
    const entries = tracks.map((t, i) => {
      const common = [uint(ID.TrackNumber, i + 1), uint(ID.TrackUID, i + 1), uint(ID.FlagLacing, 0)];
      if (t.kind === 'video') {
        return el(
          ID.TrackEntry,
          ...common,
          uint(ID.TrackType, 1),
          str(ID.CodecID, t.codec === 'VP9' ? 'V_VP9' : 'V_VP8'),
          el(ID.Video, uint(ID.PixelWidth, t.width ?? 640), uint(ID.PixelHeight, t.height ?? 360)),
        );
      }
      const channels = t.channels ?? 2;
      return el(
        ID.TrackEntry,
        ...common,
        uint(ID.TrackType, 2),
        str(ID.CodecID, 'A_OPUS'),
        el(ID.CodecPrivate, opusHead(channels, OPUS_PRE_SKIP)),
        uint(ID.CodecDelay, Math.round((OPUS_PRE_SKIP / 48_000) * 1e9)),
        uint(ID.SeekPreRoll, 80_000_000),
        el(ID.Audio, f64(ID.SamplingFrequency, 48_000), uint(ID.Channels, channels)),
      );
    });
    const tracksEl = el(ID.Tracks, ...entries);
    this.#tracksAt = this.#infoAt + info.length;
    this.#append(Buffer.concat([header, segment, seekSpace, info, tracksEl]));
  }

  /**
   * One frame of a track, `timeMs` after the start; frames come in time order (an earlier one is
   * written at the last time). A video keyframe starts a new cluster, with a cue.
   */
  write(kind: 'audio' | 'video', timeMs: number, data: Buffer, keyframe: boolean): void {
    if (this.#finished || this.#tracks.length === 0) return;
    const track = this.trackNumber(kind);
    if (track === 0) return;
    const t = Math.max(Math.round(timeMs), this.#lastMs);
    this.#lastMs = t;
    const hasVideo = this.trackNumber('video') > 0;
    const cueHere = hasVideo ? kind === 'video' && keyframe : this.#clusterTime < 0 || t - this.#clusterTime >= 1000;
    if (this.#clusterTime < 0 || cueHere || t - this.#clusterTime >= MAX_CLUSTER_MS - 100) {
      this.#flushCluster();
      this.#clusterTime = t;
      if (cueHere) this.#cues.push({ timeMs: t, track, clusterPosition: this.#offset - this.#segmentData });
    }
    const head = Buffer.alloc(4);
    head[0] = 0x80 | track;
    head.writeInt16BE(t - this.#clusterTime, 1);
    head[3] = keyframe ? 0x80 : 0;
    const block = Buffer.concat([idBytes(ID.SimpleBlock), vsize(data.length + 4), head, data]);
    this.#cluster.push(block);
    this.#clusterBytes += block.length;
    this.frames++;
    this.#endMs = Math.max(this.#endMs, t + (kind === 'audio' ? 20 : 33));
  }

  #flushCluster(): void {
    if (this.#cluster.length === 0) return;
    const time = uint(ID.Timecode, this.#clusterTime);
    const size = time.length + this.#clusterBytes;
    this.#append(Buffer.concat([idBytes(ID.Cluster), vsize(size), time, ...this.#cluster]));
    this.#cluster = [];
    this.#clusterBytes = 0;
  }

  #append(buf: Buffer): void {
    const at = this.#offset;
    this.#offset += buf.length;
    this.bytesWritten += buf.length;
    this.#chain = this.#chain.then(async () => {
      const file = this.#file;
      if (this.#error || !file) return;
      try {
        await file.write(buf, 0, buf.length, at);
      } catch (err) {
        this.#error = err as Error;
      }
    });
  }

  /** Write the last cluster, the Cues, the Duration, the SeekHead and the Segment's size; close the file. */
  async finish(): Promise<{ bytes: number; durationMs: number }> {
    if (this.#finished) throw new Error('already finished');
    this.#finished = true;
    if (this.#tracks.length === 0) return { bytes: 0, durationMs: 0 };
    this.#flushCluster();
    const cuesAt = this.#offset - this.#segmentData;
    if (this.#cues.length > 0) {
      this.#append(
        el(
          ID.Cues,
          ...this.#cues.map((c) =>
            el(
              ID.CuePoint,
              uint(ID.CueTime, c.timeMs),
              el(ID.CueTrackPositions, uint(ID.CueTrack, c.track), uint(ID.CueClusterPosition, c.clusterPosition)),
            ),
          ),
        ),
      );
    }
    await this.#chain;
    const file = this.#file;
    if (!file) throw this.#error ?? new Error('the recording file was never opened');
    const seek = (id: number, pos: number) => el(ID.Seek, el(ID.SeekID, idBytes(id)), uint(ID.SeekPosition, pos));
    const seekHead = el(
      ID.SeekHead,
      seek(ID.Info, this.#infoAt - this.#segmentData),
      seek(ID.Tracks, this.#tracksAt - this.#segmentData),
      ...(this.#cues.length > 0 ? [seek(ID.Cues, cuesAt)] : []),
    );
    const patch = Buffer.concat([seekHead, voidOf(SEEK_HEAD_SPACE - seekHead.length)]);
    const duration = Buffer.alloc(8);
    duration.writeDoubleBE(this.#endMs);
    try {
      if (this.#error) throw this.#error;
      await file.write(patch, 0, patch.length, this.#seekHeadAt);
      await file.write(duration, 0, 8, this.#durationAt);
      await file.write(vsize8(this.#offset - this.#segmentData), 0, 8, this.#segmentSizeAt);
      await file.sync();
    } finally {
      await file.close();
    }
    return { bytes: this.#offset, durationMs: this.#endMs };
  }

  /** Give up: close the file as it is (the owner deletes it). Idempotent. */
  async abort(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    await this.#chain;
    await this.#file?.close().catch(() => {});
  }
}
