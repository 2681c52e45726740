import { type FileHandle, open } from 'node:fs/promises';
import { OPUS_PRE_SKIP, opusHead, type WebmTrackSpec } from './webm-writer.js';

/**
 * The seed's per-track recording (`RECORDING_FORMAT=ivf-ogg`): the video in an IVF file (`<base>.ivf`, the
 * VP8/VP9 frames with millisecond timestamps) and the audio in an Ogg Opus file (`<base>.ogg`, RFC 7845).
 * Same interface as the WebM writer; both files are written while recording, and `finish()` patches the IVF
 * length and ends the Ogg stream.
 */

/** CRC-32 of Ogg pages (polynomial 0x04c11db7, not reflected, no final XOR). */
const OGG_CRC = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let r = i << 24;
    for (let k = 0; k < 8; k++) r = r & 0x80000000 ? (r << 1) ^ 0x04c11db7 : r << 1;
    t[i] = r >>> 0;
  }
  return t;
})();

function oggCrc(b: Buffer): number {
  let crc = 0;
  for (const byte of b) crc = ((crc << 8) ^ OGG_CRC[((crc >>> 24) ^ byte) & 0xff]!) >>> 0;
  return crc;
}

/** Samples (at 48 kHz) in one Opus packet, from its TOC byte (RFC 6716 §3.1). */
export function opusSamples(packet: Buffer): number {
  if (packet.length === 0) return 0;
  const config = packet[0]! >> 3;
  const frameMs10 =
    config < 12
      ? [100, 200, 400, 600][config % 4]!
      : config < 16
        ? [100, 200][config % 2]!
        : [25, 50, 100, 200][config % 4]!;
  const code = packet[0]! & 0x03;
  const frames = code === 0 ? 1 : code < 3 ? 2 : (packet[1] ?? 0) & 0x3f;
  return (frames * frameMs10 * 48) / 10;
}

/** Appended bytes are written in batches of about this size (one write per frame would cost a syscall each). */
const BATCH_BYTES = 64 * 1024;

/** One queue of positioned writes to a file opened on first use; appends are batched. */
class QueuedFile {
  #file: Promise<FileHandle> | undefined;
  #chain: Promise<void> = Promise.resolve();
  #batch: Buffer[] = [];
  #batchBytes = 0;
  error: Error | undefined;
  bytes = 0;

  constructor(readonly path: string) {}

  append(buf: Buffer): void {
    this.#batch.push(buf);
    this.#batchBytes += buf.length;
    this.bytes += buf.length;
    if (this.#batchBytes >= BATCH_BYTES) this.#flush();
  }

  /** Overwrite bytes already appended (a header field). */
  writeAt(buf: Buffer, at: number): void {
    this.#flush();
    this.#write(buf, at);
  }

  #flush(): void {
    if (this.#batchBytes === 0) return;
    const buf = Buffer.concat(this.#batch, this.#batchBytes);
    const at = this.bytes - this.#batchBytes;
    this.#batch = [];
    this.#batchBytes = 0;
    this.#write(buf, at);
  }

  #write(buf: Buffer, at: number): void {
    this.#file ??= open(this.path, 'w');
    const file = this.#file;
    this.#chain = this.#chain.then(async () => {
      if (this.error) return;
      try {
        await (await file).write(buf, 0, buf.length, at);
      } catch (err) {
        this.error = err as Error;
      }
    });
  }

  async close(sync: boolean): Promise<void> {
    this.#flush();
    await this.#chain;
    if (!this.#file) return;
    const file = await this.#file.catch(() => undefined);
    try {
      if (sync && file && !this.error) await file.sync();
    } finally {
      await file?.close().catch(() => {});
    }
    if (this.error) throw this.error;
  }
}

export interface RecordedFile {
  name: string;
  bytes: number;
  contentType: string;
}

export class IvfOggWriter {
  readonly #ivf: QueuedFile;
  readonly #ogg: QueuedFile;
  #tracks: WebmTrackSpec[] = [];
  #videoFrames = 0;
  #audioFrames = 0;
  #oggPage = 0;
  #granule = 0;
  #endMs = 0;
  #lastMs = 0;
  #finished = false;
  /** The last audio packet, held back so the final one can be written on the end-of-stream page. */
  #held: { data: Buffer; granule: number } | undefined;
  static readonly SERIAL = 0x46464c57;

  constructor(readonly base: string) {
    this.#ivf = new QueuedFile(`${base}.ivf`);
    this.#ogg = new QueuedFile(`${base}.ogg`);
  }

  get started(): boolean {
    return this.#tracks.length > 0;
  }

  get frames(): number {
    return this.#videoFrames + this.#audioFrames;
  }

  get durationMs(): number {
    return this.#endMs;
  }

  get bytesWritten(): number {
    return this.#ivf.bytes + this.#ogg.bytes;
  }

  get paths(): string[] {
    return [this.#ivf.path, this.#ogg.path];
  }

  start(tracks: WebmTrackSpec[]): void {
    if (this.started) throw new Error('already started');
    this.#tracks = tracks;
    const video = tracks.find((t) => t.kind === 'video');
    if (video) {
      const h = Buffer.alloc(32);
      h.write('DKIF', 0, 'ascii');
      h.writeUInt16LE(0, 4);
      h.writeUInt16LE(32, 6);
      h.write(video.codec === 'VP9' ? 'VP90' : 'VP80', 8, 'ascii');
      h.writeUInt16LE(video.width ?? 640, 12);
      h.writeUInt16LE(video.height ?? 360, 14);
      // Timestamps in milliseconds: rate 1000, scale 1.
      h.writeUInt32LE(1000, 16);
      h.writeUInt32LE(1, 20);
      this.#ivf.append(h);
    }
    const audio = tracks.find((t) => t.kind === 'audio');
    if (audio) {
      this.#page(opusHead(audio.channels ?? 2, OPUS_PRE_SKIP), 0, 0x02);
      const vendor = Buffer.from('fusionflow-sfu');
      const tags = Buffer.alloc(8 + 4 + vendor.length + 4);
      tags.write('OpusTags', 0, 'ascii');
      tags.writeUInt32LE(vendor.length, 8);
      vendor.copy(tags, 12);
      this.#page(tags, 0, 0);
    }
  }

  /** One frame, `timeMs` after the start, in time order (an earlier one is written at the last time). */
  write(kind: 'audio' | 'video', timeMs: number, data: Buffer, _keyframe: boolean): void {
    if (this.#finished || !this.#tracks.some((t) => t.kind === kind)) return;
    const t = Math.max(Math.round(timeMs), this.#lastMs);
    this.#lastMs = t;
    if (kind === 'video') {
      const h = Buffer.alloc(12);
      h.writeUInt32LE(data.length, 0);
      h.writeUInt32LE(t % 0x100000000, 4);
      h.writeUInt32LE(Math.floor(t / 0x100000000), 8);
      this.#ivf.append(Buffer.concat([h, data]));
      this.#videoFrames++;
      this.#endMs = Math.max(this.#endMs, t + 33);
      return;
    }
    // The granule position is the end of the page's last sample (plus pre-skip), kept on the timeline: a gap
    // (a publisher that came back) moves it forward, so audio stays in time with the video.
    const samples = opusSamples(data);
    this.#granule = Math.max(this.#granule, t * 48) + samples;
    if (this.#held) this.#page(this.#held.data, this.#held.granule, 0);
    this.#held = { data, granule: this.#granule + OPUS_PRE_SKIP };
    this.#audioFrames++;
    this.#endMs = Math.max(this.#endMs, this.#granule / 48);
  }

  /** One Ogg page with one packet. */
  #page(packet: Buffer, granule: number, flags: number): void {
    const lacing: number[] = [];
    let left = packet.length;
    while (left >= 255) {
      lacing.push(255);
      left -= 255;
    }
    lacing.push(left);
    const h = Buffer.alloc(27 + lacing.length);
    h.write('OggS', 0, 'ascii');
    h[4] = 0;
    h[5] = flags;
    h.writeBigUInt64LE(BigInt(granule), 6);
    h.writeUInt32LE(IvfOggWriter.SERIAL, 14);
    h.writeUInt32LE(this.#oggPage++, 18);
    h[26] = lacing.length;
    Buffer.from(lacing).copy(h, 27);
    const page = Buffer.concat([h, packet]);
    page.writeUInt32LE(oggCrc(page), 22);
    this.#ogg.append(page);
  }

  /** Patch the IVF length, end the Ogg stream, close both files. */
  async finish(): Promise<{ files: RecordedFile[]; durationMs: number }> {
    if (this.#finished) throw new Error('already finished');
    this.#finished = true;
    const files: RecordedFile[] = [];
    const name = (path: string) => path.slice(path.lastIndexOf('/') + 1);
    if (this.#tracks.some((t) => t.kind === 'video')) {
      // The header's length field: ffmpeg reads (and writes) it as the duration in time-base units (ms here).
      const length = Buffer.alloc(4);
      length.writeUInt32LE(Math.round(this.#endMs));
      this.#ivf.writeAt(length, 24);
      await this.#ivf.close(true);
      files.push({ name: name(this.#ivf.path), bytes: this.#ivf.bytes, contentType: 'video/x-ivf' });
    }
    if (this.#tracks.some((t) => t.kind === 'audio')) {
      if (this.#held) this.#page(this.#held.data, this.#held.granule, 0x04);
      this.#held = undefined;
      await this.#ogg.close(true);
      if (this.#audioFrames > 0)
        files.push({ name: name(this.#ogg.path), bytes: this.#ogg.bytes, contentType: 'audio/ogg' });
    }
    return { files, durationMs: this.#endMs };
  }

  /** Give up: close the files as they are (the owner deletes them). Idempotent. */
  async abort(): Promise<void> {
    if (this.#finished) return;
    this.#finished = true;
    await Promise.all([this.#ivf.close(false).catch(() => {}), this.#ogg.close(false).catch(() => {})]);
  }
}
