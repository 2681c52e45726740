import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordingReport, RoomId } from '@fusionflow/protocol';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { isVp8KeyframeStart } from '../codec/vp8-payload.js';
import type { MediaPacket } from '../fanout/packet-cache.js';
import { BroadcastRecorder } from './broadcast-recorder.js';
import { type CapturedPacket, readRtpFixture, VP8_OPUS_10S } from './fixtures/rtp-fixture.js';
import { ffprobe, ffprobeAvailable, PROBE_TIMEOUT_MS } from './fixtures/test-ffprobe.js';

const silentLog = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} } as never;

function toMediaPacket(c: CapturedPacket, atMs: number): MediaPacket {
  const b = c.rtp;
  const cc = b[0]! & 0x0f;
  let off = 12 + cc * 4;
  if (b[0]! & 0x10) off += 4 + b.readUInt16BE(off + 2) * 4;
  let end = b.length;
  if (b[0]! & 0x20) end -= b[b.length - 1]!;
  const payload = Buffer.from(b.subarray(off, end));
  const keyframe = c.kind === 'audio' || isVp8KeyframeStart(payload);
  return {
    sequenceNumber: b.readUInt16BE(2),
    timestamp: b.readUInt32BE(4),
    marker: (b[1]! & 0x80) !== 0,
    payload,
    keyframe,
    receivedAt: atMs,
  };
}

/** A minimal EBML reader: top-level Segment children and the few values the test checks. */
function readVint(b: Buffer, i: number, keepMarker: boolean): { value: number; len: number } {
  const first = b[i]!;
  let len = 1;
  while (len <= 8 && !(first & (0x80 >> (len - 1)))) len++;
  let value = keepMarker ? first : first & (0xff >> len);
  for (let k = 1; k < len; k++) value = value * 256 + b[i + k]!;
  return { value, len };
}
function children(b: Buffer, start = 0, end = b.length): { id: number; data: Buffer }[] {
  const out: { id: number; data: Buffer }[] = [];
  for (let i = start; i < end; ) {
    const id = readVint(b, i, true);
    const size = readVint(b, i + id.len, false);
    const at = i + id.len + size.len;
    out.push({ id: id.value, data: b.subarray(at, at + size.value) });
    i = at + size.value;
  }
  return out;
}
function inspectWebm(path: string) {
  const b = readFileSync(path);
  const top = children(b, 0, b.length);
  const segment = top.find((e) => e.id === 0x18538067)!;
  const seg = children(segment.data, 0, segment.data.length);
  const info = children(seg.find((e) => e.id === 0x1549a966)!.data).find((e) => e.id === 0x4489)!;
  const tracks = children(seg.find((e) => e.id === 0x1654ae6b)!.data).map((t) =>
    children(t.data, 0, t.data.length)
      .find((e) => e.id === 0x86)!
      .data.toString(),
  );
  return {
    durationMs: info.data.readDoubleBE(0),
    codecs: tracks,
    cues: seg.some((e) => e.id === 0x1c53bb6b),
    seekHead: seg.some((e) => e.id === 0x114d9b74),
    clusters: seg.filter((e) => e.id === 0x1f43b675).length,
  };
}

let hasFfprobe = false;
beforeAll(() => {
  hasFfprobe = ffprobeAvailable();
});
const probeOf = (path: string) => (hasFfprobe ? ffprobe(path) : undefined);

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function recorder(reports: RecordingReport[], keyframes: { n: number }) {
  const dir = mkdtempSync(join(tmpdir(), 'ff-rec-'));
  dirs.push(dir);
  return new BroadcastRecorder({
    claim: { id: 'rec_test_0001', format: 'webm' },
    room: 'room1' as RoomId,
    dir,
    log: silentLog,
    requestKeyframe: () => {
      keyframes.n++;
    },
    report: (r) => reports.push(r),
  });
}

describe('BroadcastRecorder', () => {
  const fixture = readRtpFixture(VP8_OPUS_10S);

  it(
    'records the 10 s VP8 + Opus fixture into one seekable WebM and reports recording then ready',
    async () => {
      const reports: RecordingReport[] = [];
      const kf = { n: 0 };
      const rec = recorder(reports, kf);
      expect(kf.n).toBe(1);
      for (const p of fixture) rec.push(p.kind, toMediaPacket(p, p.atMs));
      const final = await rec.close();
      expect(await rec.close()).toBe(final);
      expect(reports.map((r) => r.status)).toEqual(['recording', 'ready']);
      expect(final.files).toHaveLength(1);
      expect(final.files[0]).toMatchObject({ name: 'rec_test_0001.webm', storage: 'local', contentType: 'video/webm' });
      const info = inspectWebm(rec.paths[0]!);
      expect(info.codecs.sort()).toEqual(['A_OPUS', 'V_VP8']);
      expect(info.cues).toBe(true);
      expect(info.seekHead).toBe(true);
      expect(Math.abs(info.durationMs - 10_000)).toBeLessThanOrEqual(1000);
      expect(Math.abs(final.durationMs - 10_000)).toBeLessThanOrEqual(1000);
      const probed = probeOf(rec.paths[0]!);
      if (probed) {
        expect(probed.codecs).toEqual(['opus', 'vp8']);
        expect(Math.abs(probed.duration - 10)).toBeLessThanOrEqual(1);
      }
    },
    PROBE_TIMEOUT_MS,
  );

  it(
    'a publisher that resumes continues the same file (two halves → one 10 s recording)',
    async () => {
      const reports: RecordingReport[] = [];
      const kf = { n: 0 };
      const rec = recorder(reports, kf);
      const firstHalf = fixture.filter((p) => p.atMs < 5000);
      for (const p of firstHalf) rec.push(p.kind, toMediaPacket(p, p.atMs));
      rec.resume();
      expect(kf.n).toBe(2);
      // The same media again, as a reconnected publisher's new streams (later arrival times).
      for (const p of firstHalf) rec.push(p.kind, toMediaPacket(p, p.atMs + 20_000));
      const final = await rec.close();
      expect(reports.map((r) => r.status)).toEqual(['recording', 'ready']);
      const info = inspectWebm(rec.paths[0]!);
      expect(Math.abs(info.durationMs - 10_000)).toBeLessThanOrEqual(1000);
      expect(final.files).toHaveLength(1);
      const probed = probeOf(rec.paths[0]!);
      if (probed) expect(Math.abs(probed.duration - 10)).toBeLessThanOrEqual(1);
    },
    PROBE_TIMEOUT_MS,
  );

  it('nothing written → failed, no file', async () => {
    const reports: RecordingReport[] = [];
    const rec = recorder(reports, { n: 0 });
    const final = await rec.close();
    expect(final.status).toBe('failed');
    expect(reports.map((r) => r.status)).toEqual(['failed']);
  });
});
