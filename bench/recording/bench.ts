/**
 * Recorder cost: the 10 s VP8 + Opus fixture fed into 1, 10 and 50 concurrent BroadcastRecorders
 * (packets parsed as the SFU hands them over, frames assembled, WebM — or IVF + Ogg — written and
 * finalised). Prints CPU ms per recorded second, bytes written per recorded second, the time one
 * packet takes in the SFU's hot path (push, p50/p99/max) and the time from Stop to a final file
 * (close, p50/p99).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecordingFormat, RoomId } from '@fusionflow/protocol';
import { isVp8KeyframeStart } from '../../apps/sfu/src/codec/vp8-payload.js';
import { BroadcastRecorder } from '../../apps/sfu/src/recording/broadcast-recorder.js';
import { readRtpFixture, VP8_OPUS_10S } from '../../apps/sfu/src/recording/fixtures/rtp-fixture.js';
import { percentile } from '../lib/stats.js';

const log = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} } as never;
const fixture = readRtpFixture(VP8_OPUS_10S).map((c) => {
  const b = c.rtp;
  let off = 12 + (b[0]! & 0x0f) * 4;
  if (b[0]! & 0x10) off += 4 + b.readUInt16BE(off + 2) * 4;
  const payload = Buffer.from(b.subarray(off));
  const keyframe = c.kind === 'audio' || isVp8KeyframeStart(payload);
  return {
    kind: c.kind,
    packet: {
      sequenceNumber: b.readUInt16BE(2),
      timestamp: b.readUInt32BE(4),
      marker: (b[1]! & 0x80) !== 0,
      payload,
      keyframe,
      receivedAt: c.atMs,
    },
  };
});

async function run(n: number, format: RecordingFormat): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ff-bench-rec-'));
  const recs = Array.from(
    { length: n },
    (_, i) =>
      new BroadcastRecorder({
        claim: { id: `bench_rec_${String(i).padStart(4, '0')}`, format },
        room: 'bench' as RoomId,
        dir,
        log,
        requestKeyframe: () => {},
        report: () => {},
      }),
  );
  const pushUs: number[] = [];
  const cpu0 = process.cpuUsage();
  for (const p of fixture) {
    for (const r of recs) {
      const t0 = performance.now();
      r.push(p.kind, p.packet);
      pushUs.push((performance.now() - t0) * 1000);
    }
  }
  const closeMs: number[] = [];
  const reports = await Promise.all(
    recs.map(async (r) => {
      const t0 = performance.now();
      const report = await r.close();
      closeMs.push(performance.now() - t0);
      return report;
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  const recordedS = reports.reduce((s, r) => s + r.durationMs, 0) / 1000;
  const bytes = reports.reduce((s, r) => s + r.files.reduce((b, f) => b + f.bytes, 0), 0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  const us = (p: number) => percentile(pushUs, p).toFixed(1);
  console.log(
    `${format.padEnd(7)} ${String(n).padStart(3)} recordings: ${(cpuMs / recordedS).toFixed(2)} ms CPU per recorded second, ${Math.round(bytes / recordedS)} bytes/s each, push p50 ${us(50)} / p99 ${us(99)} / max ${us(100)} µs, close p50 ${percentile(closeMs, 50).toFixed(1)} / p99 ${percentile(closeMs, 99).toFixed(1)} ms (${reports.filter((r) => r.status === 'ready').length}/${n} ready)`,
  );
  rmSync(dir, { recursive: true, force: true });
}

for (const format of ['webm', 'ivf-ogg'] as const) for (const n of [1, 10, 50]) await run(n, format);
