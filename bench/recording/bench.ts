/**
 * Recorder cost: the 10 s VP8 + Opus fixture fed into 1, 10 and 50 concurrent BroadcastRecorders
 * (packets parsed as the SFU hands them over, frames assembled, WebM written and finalised).
 * Prints CPU ms per recorded second and bytes written per recorded second.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RoomId } from '@fusionflow/protocol';
import { BroadcastRecorder } from '../../apps/sfu/src/recording/broadcast-recorder.js';
import { readRtpFixture, VP8_OPUS_10S } from '../../apps/sfu/src/recording/fixtures/rtp-fixture.js';
import { vp8DescriptorLength } from '../../apps/sfu/src/recording/frame-assembler.js';

const log = { info: () => {}, warn: () => {}, error: () => {}, debug: () => {} } as never;
const fixture = readRtpFixture(VP8_OPUS_10S).map((c) => {
  const b = c.rtp;
  let off = 12 + (b[0]! & 0x0f) * 4;
  if (b[0]! & 0x10) off += 4 + b.readUInt16BE(off + 2) * 4;
  const payload = Buffer.from(b.subarray(off));
  const d = c.kind === 'video' ? vp8DescriptorLength(payload) : 0;
  const keyframe = c.kind === 'audio' || (d >= 0 && (payload[0]! & 0x10) !== 0 && (payload[d]! & 0x01) === 0);
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

async function run(n: number): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'ff-bench-rec-'));
  const recs = Array.from(
    { length: n },
    (_, i) =>
      new BroadcastRecorder({
        claim: { id: `bench_rec_${String(i).padStart(4, '0')}`, format: 'webm' },
        room: 'bench' as RoomId,
        dir,
        log,
        requestKeyframe: () => {},
        report: () => {},
      }),
  );
  const cpu0 = process.cpuUsage();
  for (const p of fixture) for (const r of recs) r.push(p.kind, p.packet);
  const reports = await Promise.all(recs.map((r) => r.close()));
  const cpu = process.cpuUsage(cpu0);
  const recordedS = reports.reduce((s, r) => s + r.durationMs, 0) / 1000;
  const bytes = reports.reduce((s, r) => s + (r.files[0]?.bytes ?? 0), 0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  console.log(
    `${String(n).padStart(3)} recordings: ${(cpuMs / recordedS).toFixed(2)} ms CPU per recorded second, ${Math.round(bytes / recordedS)} bytes/s per recording (${reports.filter((r) => r.status === 'ready').length}/${n} ready)`,
  );
  rmSync(dir, { recursive: true, force: true });
}

for (const n of [1, 10, 50]) await run(n);
