import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GRANT_AUDIENCE, GRANT_ISSUER, type RecordingReport } from '@fusionflow/protocol';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RtpPacket } from 'werift';
import { isVp8KeyframeStart } from '../codec/vp8-payload.js';
import { startTestSfu, TestPublisher, type TestSfu, TestSubscriber, waitFor } from '../test-peers.js';
import { readRtpFixture, VP8_OPUS_10S } from './fixtures/rtp-fixture.js';
import { ffmpegDecodes, ffprobe, ffprobeAvailable, PROBE_TIMEOUT_MS } from './fixtures/test-ffprobe.js';

/** Whether an RTP packet (VP8) starts a keyframe. */
function startsVp8Keyframe(rtp: Buffer): boolean {
  return isVp8KeyframeStart(RtpPacket.deSerialize(rtp).payload);
}

/** The fixture is replayed this many times faster than it was captured (RTP timestamps keep the real timing). */
const SPEED = 2.5;

describe('recording a broadcast in the SFU (WHIP publisher with a grant naming a recording)', () => {
  const fixture = readRtpFixture(VP8_OPUS_10S);
  // Split at a keyframe (the replayed publisher cannot answer a keyframe request, as an encoder would).
  const split = fixture.findIndex((p) => p.kind === 'video' && p.atMs >= 4500 && startsVp8Keyframe(p.rtp));
  const splitMs = fixture[split]!.atMs;
  const firstHalf = fixture.slice(0, split);
  const secondHalf = fixture.slice(split).map((p) => ({ ...p, atMs: p.atMs - splitMs }));
  const reports: RecordingReport[] = [];
  let dir: string;
  let t: TestSfu;
  let privateKey: CryptoKey;
  let hasFfprobe = false;

  beforeAll(async () => {
    hasFfprobe = ffprobeAvailable();
    dir = mkdtempSync(join(tmpdir(), 'ff-recordings-'));
    const pair = await generateKeyPair('EdDSA', { crv: 'Ed25519' });
    privateKey = pair.privateKey;
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'EdDSA' };
    t = await startTestSfu(
      { jwks: JSON.stringify({ keys: [jwk] }), recordingsDir: dir, publisherGraceSeconds: 3 },
      { recordingReports: (r) => reports.push(r) },
    );
  });
  afterAll(async () => {
    await t?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const grant = (room: string, rec?: { id: string; format: 'webm' | 'ivf-ogg' }, role = 'publish') =>
    new SignJWT({ room, role, ...(rec ? { rec } : {}) })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setIssuer(GRANT_ISSUER)
      .setAudience(GRANT_AUDIENCE)
      .setSubject('streamer-1')
      .setIssuedAt()
      .setJti(randomUUID())
      .setExpirationTime('5m')
      .sign(privateKey);
  const reportsOf = (id: string) => reports.filter((r) => r.id === id);
  const finalOf = (id: string) => reportsOf(id).find((r) => r.status !== 'recording');

  async function publisher(room: string, rec?: { id: string; format: 'webm' | 'ivf-ogg' }) {
    const pub = new TestPublisher();
    expect((await pub.publish(t.url, room, await grant(room, rec))).status).toBe(201);
    await pub.connected();
    return pub;
  }
  const sessionOf = (room: string) => t.sfu.rooms.room(room)!.publisher!;

  it(
    'records what the publisher sends into one WebM; the streamer’s Stop (DELETE) finalises it at once',
    async () => {
      const id = 'rec_stop_00001';
      const pub = await publisher('rec-stop', { id, format: 'webm' });
      // A viewer watches meanwhile: recording takes nothing from it.
      const sub = new TestSubscriber();
      expect((await sub.play(t.url, 'rec-stop', await grant('rec-stop', undefined, 'subscribe'))).status).toBe(201);
      await pub.replay(fixture, SPEED);
      await waitFor(() => sub.videoPackets > 100, 5000, 'video at the viewer');
      expect(reportsOf(id).map((r) => r.status)).toEqual(['recording']);
      await fetch(`${t.url}${pub.location}`, { method: 'DELETE' });
      await waitFor(() => finalOf(id) !== undefined, 10_000, 'the final report');
      const final = finalOf(id)!;
      expect(final).toMatchObject({ status: 'ready', room: 'rec-stop', format: 'webm' });
      expect(final.files).toEqual([expect.objectContaining({ name: `${id}.webm`, storage: 'local' })]);
      expect(Math.abs(final.durationMs - 10_000)).toBeLessThanOrEqual(1000);
      expect(t.sfu.recordings.size).toBe(0);
      if (hasFfprobe) {
        const probed = ffprobe(join(dir, `${id}.webm`));
        expect(probed.codecs).toEqual(['opus', 'vp8']);
        expect(Math.abs(probed.duration - 10)).toBeLessThanOrEqual(1);
      }
      await Promise.all([pub.close(), sub.close()]);
    },
    PROBE_TIMEOUT_MS,
  );

  it(
    'a publisher whose transport drops and comes back within the grace period continues the same file',
    async () => {
      const id = 'rec_grace_0001';
      const first = await publisher('rec-grace', { id, format: 'webm' });
      await first.replay(firstHalf, SPEED);
      // The SFU's side of a dropped transport (what ICE failure does, without waiting for it).
      await sessionOf('rec-grace').close('ice_failed');
      await first.close();
      expect(t.sfu.recordings.recorder(id)).toBeDefined();
      expect(finalOf(id)).toBeUndefined();
      const second = await publisher('rec-grace', { id, format: 'webm' });
      await second.replay(secondHalf, SPEED);
      await fetch(`${t.url}${second.location}`, { method: 'DELETE' });
      await waitFor(() => finalOf(id) !== undefined, 10_000, 'the final report');
      expect(reportsOf(id).map((r) => r.status)).toEqual(['recording', 'ready']);
      // One file with both halves: about 10 s (the gap while nobody published is not in it).
      expect(Math.abs(finalOf(id)!.durationMs - 10_000)).toBeLessThanOrEqual(1500);
      if (hasFfprobe) expect(Math.abs(ffprobe(join(dir, `${id}.webm`)).duration - 10)).toBeLessThanOrEqual(1.5);
      await second.close();
    },
    PROBE_TIMEOUT_MS,
  );

  it('a publisher that does not come back: the recording is finalised when the grace period ends', async () => {
    const id = 'rec_gone_00001';
    const pub = await publisher('rec-gone', { id, format: 'webm' });
    await pub.replay(firstHalf, SPEED);
    await sessionOf('rec-gone').close('ice_disconnected');
    await pub.close();
    await waitFor(() => finalOf(id) !== undefined, 10_000, 'the final report after the grace period');
    expect(finalOf(id)!.status).toBe('ready');
    expect(Math.abs(finalOf(id)!.durationMs - splitMs)).toBeLessThanOrEqual(1000);
  });

  it(
    'records nothing without a claim; a second room with the id of a recording in progress is not recorded',
    async () => {
      const plain = await publisher('rec-none');
      await plain.replay(firstHalf.slice(0, 200), SPEED);
      expect(t.sfu.recordings.size).toBe(0);
      await plain.close();

      const id = 'rec_shared_001';
      const a = await publisher('rec-a', { id, format: 'webm' });
      const b = await publisher('rec-b', { id, format: 'webm' });
      await Promise.all([a.replay(firstHalf, SPEED), b.replay(firstHalf, SPEED)]);
      expect(t.sfu.recordings.size).toBe(1);
      await fetch(`${t.url}${a.location}`, { method: 'DELETE' });
      await waitFor(() => finalOf(id) !== undefined, 10_000, 'the final report');
      expect(reportsOf(id).every((r) => r.room === 'rec-a')).toBe(true);
      await Promise.all([a.close(), b.close()]);
    },
    PROBE_TIMEOUT_MS,
  );

  it(
    'RECORDING_FORMAT ivf-ogg: the video in an IVF file and the audio in an Ogg Opus file, in time',
    async () => {
      const id = 'rec_ogg_000001';
      const pub = await publisher('rec-ogg', { id, format: 'ivf-ogg' });
      await pub.replay(fixture, SPEED);
      await fetch(`${t.url}${pub.location}`, { method: 'DELETE' });
      await waitFor(() => finalOf(id) !== undefined, 10_000, 'the final report');
      const final = finalOf(id)!;
      expect(final.status).toBe('ready');
      expect(final.files.map((f) => [f.name, f.contentType])).toEqual([
        [`${id}.ivf`, 'video/x-ivf'],
        [`${id}.ogg`, 'audio/ogg'],
      ]);
      if (hasFfprobe) {
        const video = ffprobe(join(dir, `${id}.ivf`));
        const audio = ffprobe(join(dir, `${id}.ogg`));
        expect(video.codecs).toEqual(['vp8']);
        expect(audio.codecs).toEqual(['opus']);
        expect(Math.abs(audio.duration - 10)).toBeLessThanOrEqual(1);
        expect(Math.abs(video.duration - 10)).toBeLessThanOrEqual(1);
        ffmpegDecodes(join(dir, `${id}.ogg`));
        ffmpegDecodes(join(dir, `${id}.ivf`));
      }
      await pub.close();
    },
    PROBE_TIMEOUT_MS,
  );

  it('the SFU shutting down finalises the recordings in progress', async () => {
    const id = 'rec_shutdown_1';
    const pub = await publisher('rec-shutdown', { id, format: 'webm' });
    await pub.replay(firstHalf, SPEED);
    await t.sfu.recordings.close();
    expect(finalOf(id)?.status).toBe('ready');
    await pub.close();
  });
});
