import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, ObjectStore } from '@fusionflow/kit';
import type { RecordingFile, RecordingReport, RoomId } from '@fusionflow/protocol';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { s3rverStoreConfig, startS3Server, type TestS3Server } from '../../../../test/support/s3-server.js';
import { RecordingRefused, RecordingUploader, type RecordingUploaderOptions } from './recording-uploader.js';

const MiB = 1024 * 1024;
const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');
const logger = createLogger({ level: process.env.TEST_LOG_LEVEL ?? 'silent', name: 'sfu' });

/** Something to wait for that a callback resolves: every call is kept, `next()` waits for one more. */
function calls<T extends unknown[]>() {
  const seen: T[] = [];
  let waiters: { n: number; resolve: () => void }[] = [];
  return {
    seen,
    record: (...args: T) => {
      seen.push(args);
      for (const w of waiters.filter((w) => seen.length >= w.n)) w.resolve();
      waiters = waiters.filter((w) => seen.length < w.n);
    },
    /** Resolves once there have been `n` calls in all. */
    count: (n: number) =>
      seen.length >= n ? Promise.resolve() : new Promise<void>((resolve) => waiters.push({ n, resolve })),
  };
}

describe('RecordingUploader against a real S3 API (s3rver)', () => {
  let s3: TestS3Server;
  let root: string;
  let dir: string;
  const owned: RecordingUploader[] = [];

  const newStore = () =>
    new ObjectStore(
      s3rverStoreConfig(s3),
      // One quick attempt per upload: the uploader's own backoff is what these tests watch.
      { partSizeBytes: 5 * MiB, uploadAttempts: 1, sdkMaxAttempts: 1, requestTimeoutMs: 10_000 },
    );
  const reader = () => {
    const store = newStore();
    readers.push(store);
    return store;
  };
  const readers: ObjectStore[] = [];

  const uploader = (options: Partial<RecordingUploaderOptions> = {}) => {
    const uploaded = calls<[RecordingReport]>();
    const failed = calls<[string, unknown, number | undefined]>();
    const u = new RecordingUploader({
      store: newStore(),
      dir,
      logger,
      retryBaseMs: 20,
      retryMaxMs: 100,
      onUploaded: (report) => uploaded.record(report),
      onFailed: (id, err, retry) => failed.record(id, err, retry),
      ...options,
    });
    owned.push(u);
    return { u, uploaded, failed };
  };

  /** A finished recording on disk, as the recorder leaves it: its files, flat in the directory. */
  const recording = (id: string, sizes: Record<string, number>) => {
    const hashes: Record<string, string> = {};
    const files: RecordingFile[] = Object.entries(sizes).map(([name, bytes]) => {
      const data = randomBytes(bytes);
      writeFileSync(join(dir, name), data);
      hashes[name] = sha256(data);
      const contentType = name.endsWith('.webm') ? 'video/webm' : 'audio/ogg';
      return { name, storage: 'local', key: name, bytes, contentType };
    });
    const report: RecordingReport = {
      id,
      room: 'room-1' as RoomId,
      format: 'webm',
      status: 'ready',
      startedAt: '2026-12-02T18:00:00.000Z',
      endedAt: '2026-12-02T18:00:10.000Z',
      durationMs: 10_000,
      files,
    };
    return { report, hashes };
  };

  const objectHash = async (key: string) => {
    const url = await reader().presignGet(key, { expiresInSeconds: 60 });
    const res = await fetch(url);
    expect(res.status, key).toBe(200);
    return sha256(new Uint8Array(await res.arrayBuffer()));
  };

  beforeAll(async () => {
    s3 = await startS3Server();
    root = mkdtempSync(join(tmpdir(), 'ff-uploader-'));
  });
  afterEach(async () => {
    await Promise.allSettled(owned.splice(0).map((u) => u.close('test over')));
    await s3.resume();
  });
  afterAll(async () => {
    await Promise.allSettled(readers.map((r) => r.close()));
    await s3?.stop();
    if (root) rmSync(root, { recursive: true, force: true });
  });
  let n = 0;
  const freshDir = () => {
    dir = join(root, `dir${n++}`);
    mkdirSync(dir);
  };

  it('uploads each file as recordings/<id>/<name>, deletes it only once confirmed, reports storage s3', async () => {
    freshDir();
    const { report, hashes } = recording('rec_upload01', { 'rec_upload01.webm': 6 * MiB, 'rec_upload01.ogg': 3000 });
    const sidecarAtReport: boolean[] = [];
    const { u, uploaded } = uploader({
      onUploaded: (r) => {
        sidecarAtReport.push(existsSync(join(dir, 'rec_upload01.json')));
        uploaded.record(r);
      },
    });
    await u.submit(report);
    expect(existsSync(join(dir, 'rec_upload01.json')), 'the sidecar marks it finished').toBe(true);
    await u.drained();
    // The sidecar goes only once the report was taken.
    expect(sidecarAtReport).toEqual([true]);
    const [done] = uploaded.seen[0]!;
    expect(done).toEqual({
      ...report,
      files: [
        { ...report.files[0], storage: 's3', key: 'recordings/rec_upload01/rec_upload01.webm', bytes: 6 * MiB },
        { ...report.files[1], storage: 's3', key: 'recordings/rec_upload01/rec_upload01.ogg', bytes: 3000 },
      ],
    });
    expect(existsSync(join(dir, 'rec_upload01.webm'))).toBe(false);
    expect(existsSync(join(dir, 'rec_upload01.ogg'))).toBe(false);
    expect(existsSync(join(dir, 'rec_upload01.json'))).toBe(false);
    expect(await objectHash('recordings/rec_upload01/rec_upload01.webm')).toBe(hashes['rec_upload01.webm']);
    expect(await objectHash('recordings/rec_upload01/rec_upload01.ogg')).toBe(hashes['rec_upload01.ogg']);
    expect(u.pending).toEqual([]);
  });

  it('keeps the local file while the store is down, and uploads it (then deletes it) once the store is back', async () => {
    freshDir();
    const { report, hashes } = recording('rec_outage01', { 'rec_outage01.webm': 6 * MiB });
    await s3.pause();
    const { u, uploaded, failed } = uploader();
    await u.submit(report);
    await failed.count(2);
    // Retried with growing waits, the file untouched, nothing reported.
    expect(failed.seen.map(([id, , retry]) => [id, retry])).toEqual([
      ['rec_outage01', 20],
      ['rec_outage01', 40],
    ]);
    expect(readFileSync(join(dir, 'rec_outage01.webm')).length).toBe(6 * MiB);
    expect(uploaded.seen).toEqual([]);
    expect(u.pending).toEqual(['rec_outage01']);
    await s3.resume();
    await uploaded.count(1);
    expect(uploaded.seen[0]![0].files[0]).toMatchObject({
      storage: 's3',
      key: 'recordings/rec_outage01/rec_outage01.webm',
    });
    expect(existsSync(join(dir, 'rec_outage01.webm'))).toBe(false);
    expect(await objectHash('recordings/rec_outage01/rec_outage01.webm')).toBe(hashes['rec_outage01.webm']);
  });

  it('a new uploader (an SFU restart) picks up what the last one left, from the sidecar', async () => {
    freshDir();
    const { report, hashes } = recording('rec_restart1', { 'rec_restart1.webm': 100_000 });
    await s3.pause();
    const first = uploader();
    await first.u.submit(report);
    await first.failed.count(1);
    await first.u.close('SIGTERM');
    expect(existsSync(join(dir, 'rec_restart1.webm'))).toBe(true);
    expect(JSON.parse(readFileSync(join(dir, 'rec_restart1.json'), 'utf8'))).toEqual(report);
    await s3.resume();

    const second = uploader();
    expect(await second.u.start()).toBe(1);
    await second.uploaded.count(1);
    expect(second.uploaded.seen[0]![0].files[0]).toMatchObject({ storage: 's3', bytes: 100_000 });
    expect(existsSync(join(dir, 'rec_restart1.webm'))).toBe(false);
    expect(await objectHash('recordings/rec_restart1/rec_restart1.webm')).toBe(hashes['rec_restart1.webm']);
    expect(first.uploaded.seen).toEqual([]);
  });

  it('after a stop between deleting a file and noting it, the confirmed object counts; nothing else does', async () => {
    freshDir();
    const { report } = recording('rec_crash001', { 'rec_crash001.webm': 5000, 'rec_crash001.ogg': 700 });
    // The .webm went up and was deleted, but the sidecar still says local.
    await reader().uploadFile(
      join(dir, 'rec_crash001.webm'),
      'recordings/rec_crash001/rec_crash001.webm',
      'video/webm',
    );
    rmSync(join(dir, 'rec_crash001.webm'));
    // And a file the bucket does not have (with the size the report says) is not taken for uploaded.
    rmSync(join(dir, 'rec_crash001.ogg'));
    writeFileSync(join(dir, 'rec_crash001.json'), JSON.stringify(report));
    const { u, uploaded, failed } = uploader();
    await u.start();
    await failed.count(1);
    expect(String(failed.seen[0]![1])).toMatch(
      /rec_crash001.ogg of recording rec_crash001 is not on disk and not in the bucket/,
    );
    expect(uploaded.seen).toEqual([]);
    // The sidecar now notes the .webm as uploaded; the .ogg is still missing and keeps being retried.
    const noted = JSON.parse(readFileSync(join(dir, 'rec_crash001.json'), 'utf8')) as RecordingReport;
    expect(noted.files.map((f) => f.storage)).toEqual(['s3', 'local']);
  });

  it('reports again until the report is taken: onUploaded failing keeps the sidecar, not the files', async () => {
    freshDir();
    const { report } = recording('rec_report01', { 'rec_report01.webm': 2000 });
    let refusals = 1;
    const reports: RecordingReport[] = [];
    const { u, failed } = uploader({
      onUploaded: (r) => {
        reports.push(r);
        if (refusals-- > 0) throw new Error('control plane down');
      },
    });
    await u.submit(report);
    await failed.count(1);
    await u.drained();
    expect(reports).toHaveLength(2);
    expect(reports[0]).toEqual(reports[1]);
    expect(reports[1]!.files[0]!.storage).toBe('s3');
    expect(existsSync(join(dir, 'rec_report01.json'))).toBe(false);
    expect(existsSync(join(dir, 'rec_report01.webm'))).toBe(false);
  });

  it('uploads at most `concurrency` files at once', async () => {
    freshDir();
    const { u, uploaded } = uploader({ concurrency: 1 });
    const ids = ['rec_many0001', 'rec_many0002', 'rec_many0003'];
    const seen = s3.requests.length;
    for (const id of ids) await u.submit(recording(id, { [`${id}.webm`]: 6 * MiB }).report);
    await uploaded.count(3);
    expect(u.peakUploads).toBe(1);
    // What s3rver saw: each file's requests (multipart create, parts, complete, HEAD) in one run, never interleaved.
    const order = s3.requests
      .slice(seen)
      .map((r) => /recordings\/(rec_many\d+)\//.exec(r)?.[1])
      .filter(Boolean);
    const runs = order.filter((id, i) => id !== order[i - 1]);
    expect(runs.sort()).toEqual(ids);
  });

  describe('abuse: keys come only from validated ids and names', () => {
    const outsideFile = () => {
      const outside = join(root, 'outside.webm');
      writeFileSync(outside, 'not a recording');
      return outside;
    };
    const sidecar = (id: string, report: unknown) => writeFileSync(join(dir, `${id}.json`), JSON.stringify(report));

    it('refuses a local key with .., an absolute path or a subdirectory, touching nothing', async () => {
      freshDir();
      const outside = outsideFile();
      const bad = ['../outside.webm', outside, 'sub/../../outside.webm', '..', ''];
      const { u, failed, uploaded } = uploader();
      for (const [i, key] of bad.entries()) {
        const id = `rec_badkey0${i}`;
        sidecar(id, {
          ...recording(id, {}).report,
          files: [{ name: `${id}.webm`, storage: 'local', key, bytes: 15, contentType: 'video/webm' }],
        });
      }
      expect(await u.start()).toBe(bad.length);
      await failed.count(bad.length);
      expect(failed.seen.every(([, err, retry]) => err instanceof RecordingRefused && retry === undefined)).toBe(true);
      expect(readFileSync(outside, 'utf8')).toBe('not a recording');
      expect(uploaded.seen).toEqual([]);
      for (let i = 0; i < bad.length; i += 1) {
        expect(await reader().head(`recordings/rec_badkey0${i}/rec_badkey0${i}.webm`)).toBeUndefined();
      }
    });

    it('refuses a file name . or .., a symlink, a sidecar of another id, and a report that does not validate', async () => {
      freshDir();
      const outside = outsideFile();
      symlinkSync(outside, join(dir, 'rec_symlink1.webm'));
      sidecar('rec_symlink1', {
        ...recording('rec_symlink1', {}).report,
        files: [
          {
            name: 'rec_symlink1.webm',
            storage: 'local',
            key: 'rec_symlink1.webm',
            bytes: 15,
            contentType: 'video/webm',
          },
        ],
      });
      writeFileSync(join(dir, 'rec_dotdot01.webm'), 'x');
      sidecar('rec_dotdot01', {
        ...recording('rec_dotdot01', {}).report,
        files: [{ name: '..', storage: 'local', key: 'rec_dotdot01.webm', bytes: 1, contentType: 'video/webm' }],
      });
      sidecar('rec_otherid1', recording('rec_victim01', {}).report);
      // An s3 entry naming someone else's object is not taken either.
      sidecar('rec_s3forge1', {
        ...recording('rec_s3forge1', {}).report,
        files: [
          { name: 'x.webm', storage: 's3', key: 'recordings/rec_victim01/x.webm', bytes: 1, contentType: 'video/webm' },
        ],
      });
      writeFileSync(join(dir, 'rec_notjson1.json'), '{');
      const { u, failed, uploaded } = uploader();
      expect(await u.start()).toBe(5);
      await failed.count(5);
      const why = Object.fromEntries(failed.seen.map(([id, err, retry]) => [id, [(err as Error).message, retry]]));
      expect(why).toEqual({
        rec_symlink1: ['rec_symlink1.webm of recording rec_symlink1 is not a regular file', undefined],
        rec_dotdot01: ['file name ".." is not allowed', undefined],
        rec_otherid1: ['rec_otherid1.json is the report of rec_victim01', undefined],
        rec_s3forge1: [
          'file x.webm names object recordings/rec_victim01/x.webm, not recordings/rec_s3forge1/x.webm',
          undefined,
        ],
        rec_notjson1: ['rec_notjson1.json is not JSON', undefined],
      });
      expect(uploaded.seen).toEqual([]);
      expect(existsSync(outside)).toBe(true);
      expect(existsSync(join(dir, 'rec_symlink1.webm'))).toBe(true);
      await expect(u.submit({ ...recording('rec_badid', {}).report, id: '../../x' })).rejects.toThrow(RecordingRefused);
      await expect(u.submit({ ...recording('rec_notyet01', {}).report, status: 'recording' })).rejects.toThrow(
        /is recording/,
      );
      expect(existsSync(join(root, 'x.json'))).toBe(false);
    });
  });
});
