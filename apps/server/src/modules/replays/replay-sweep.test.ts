import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger, ObjectStore, signInternalRequest } from '@fusionflow/kit';
import type { RecordingFile } from '@fusionflow/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  S3RVER_KEY,
  s3rverStoreConfig,
  startS3Server,
  type TestS3Server,
} from '../../../../../test/support/s3-server.js';
import { testDatabases } from '../../db/test-databases.js';
import { startTestPlatform, type TestPlatform } from '../../test-support.js';
import { ReplaySweep } from './replay-sweep.js';

const DAY = 86_400_000;
const secret = 'a-shared-secret-between-control-and-media';

describe.each(testDatabases())('replay files in S3 and on disk: delete, retention, retries ($name)', (db) => {
  let t: TestPlatform;
  let s3: TestS3Server;
  let store: ObjectStore;
  let dir: string;
  let owner: { token: string; id: string };
  let roomId: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ff-replay-sweep-'));
    s3 = await startS3Server();
    const s3Settings = {
      s3Endpoint: s3.endpoint,
      s3Bucket: s3.bucket,
      s3AccessKeyId: S3RVER_KEY,
      s3SecretAccessKey: S3RVER_KEY,
      s3ForcePathStyle: true,
    };
    t = await startTestPlatform(db, {
      recordingsDir: dir,
      recordingRetentionDays: 30,
      sfuInternalSecret: secret,
      ...s3Settings,
    });
    store = new ObjectStore(s3rverStoreConfig(s3), { retryBaseMs: 10 });
    owner = await t.signUp('Keeper', { role: 'streamer' });
    const room = await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'live', title: 'Kept' } });
    roomId = room.body.id;
  });
  afterAll(async () => {
    await t?.close();
    await store?.close();
    await s3?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** A ready recording that ended `ageDays` ago, with one local file and one object. */
  const recording = async (ageDays: number, o: { deleted?: boolean } = {}) => {
    const id = randomBytes(16).toString('base64url');
    const local = `${id}.webm`;
    writeFileSync(join(dir, local), randomBytes(2000));
    const objectKey = `recordings/${id}/${id}-audio.ogg`;
    const source = join(dir, `${id}-upload.tmp`);
    writeFileSync(source, randomBytes(3000));
    await store.uploadFile(source, objectKey, 'video/webm');
    rmSync(source);
    const files: RecordingFile[] = [
      { name: `${id}-audio.ogg`, storage: 's3', key: objectKey, bytes: 3000, contentType: 'video/webm' },
      { name: local, storage: 'local', key: local, bytes: 2000, contentType: 'video/webm' },
    ];
    const ended = new Date(Date.now() - ageDays * DAY);
    await t.database.db
      .insertInto('recordings')
      .values({
        id,
        room_id: roomId,
        owner_id: owner.id,
        status: 'ready',
        format: 'webm',
        title: 'Kept',
        started_at: new Date(ended.getTime() - 60_000),
        ended_at: ended,
        duration_ms: 60_000,
        files: JSON.stringify(files),
        deleted_at: o.deleted ? new Date() : null,
        created_at: new Date(ended.getTime() - 60_000),
      })
      .execute();
    return { id, local, objectKey };
  };
  const row = (id: string) =>
    t.database.db.selectFrom('recordings').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  it('plays an S3 file through a presigned URL that honours Range', async () => {
    const { id, objectKey } = await recording(1);
    const res = await t.call('POST', `/api/replays/${id}/playback`);
    expect(res.status).toBe(200);
    expect(res.body.url).toContain(`${s3.endpoint}/${s3.bucket}/${objectKey}`);
    expect(res.body.url).toContain('X-Amz-Expires=600');
    expect(res.body.contentType).toBe('video/webm');
    const got = await fetch(res.body.url, { headers: { range: 'bytes=0-99' } });
    expect(got.status).toBe(206);
    expect((await got.arrayBuffer()).byteLength).toBe(100);
  });

  it('deletes files and objects; a delete that fails (store down) answers 204 and the sweep retries it', async () => {
    const { id, local, objectKey } = await recording(1);
    await s3.pause();
    const deleted = await t.call('DELETE', `/api/replays/${id}`, { token: owner.token });
    expect(deleted.status).toBe(204);
    expect(existsSync(join(dir, local))).toBe(false);
    const pending = JSON.parse((await row(id)).files) as RecordingFile[];
    expect(pending.map((f) => f.storage)).toEqual(['s3']);
    expect((await t.call('GET', `/api/replays/${id}`)).status).toBe(404);
    await s3.resume();
    expect(await store.head(objectKey)).toBeDefined();
    await t.platform.services.replays.sweep();
    expect(await store.head(objectKey)).toBeUndefined();
    expect((await row(id)).files).toBe('[]');
  });

  it('deletes recordings older than RECORDING_RETENTION_DAYS (files and objects) and keeps newer ones', async () => {
    const old = await recording(31);
    const recent = await recording(29);
    const result = await t.platform.services.replays.sweep();
    expect(result.expired).toBeGreaterThanOrEqual(1);
    expect((await row(old.id)).deleted_at).not.toBeNull();
    expect((await row(old.id)).files).toBe('[]');
    expect(existsSync(join(dir, old.local))).toBe(false);
    expect(await store.head(old.objectKey)).toBeUndefined();
    expect((await row(recent.id)).deleted_at).toBeNull();
    expect(existsSync(join(dir, recent.local))).toBe(true);
    expect(await store.head(recent.objectKey)).toBeDefined();
    expect((await t.call('GET', `/api/replays/${old.id}`)).status).toBe(404);
  });

  it('notes what the SFU reports for a deleted recording (an upload that finished after the delete) for the sweep', async () => {
    const { id } = await recording(1, { deleted: true });
    await t.platform.services.replays.sweep();
    expect((await row(id)).files).toBe('[]');
    const key = `recordings/${id}/late.webm`;
    const source = join(dir, 'late.tmp');
    writeFileSync(source, randomBytes(500));
    await store.uploadFile(source, key, 'video/webm');
    const report = JSON.stringify({
      id,
      room: roomId,
      format: 'webm',
      status: 'ready',
      startedAt: new Date().toISOString(),
      endedAt: new Date().toISOString(),
      durationMs: 1000,
      files: [{ name: 'late.webm', storage: 's3', key, bytes: 500, contentType: 'video/webm' }],
    });
    const path = '/api/internal/sfu/recordings';
    const res = await t.call('POST', path, {
      raw: report,
      headers: { 'content-type': 'application/json', ...signInternalRequest(secret, 'POST', path, report, Date.now()) },
    });
    expect(res.status).toBe(204);
    expect((await row(id)).deleted_at).not.toBeNull();
    await t.platform.services.replays.sweep();
    expect(await store.head(key)).toBeUndefined();
    expect((await row(id)).files).toBe('[]');
  });

  it('runs on its own once started and stops with close()', async () => {
    const old = await recording(40);
    const sweep = new ReplaySweep({
      replays: t.platform.services.replays,
      intervalMs: 20,
      logger: createLogger({ level: 'silent', name: 'test' }),
    });
    sweep.start();
    await expect.poll(async () => (await row(old.id)).files, { timeout: 5000 }).toBe('[]');
    await sweep.close();
    await sweep.close();
    const later = await recording(40);
    sweep.start();
    await sweep.tick();
    expect((await row(later.id)).deleted_at).toBeNull();
  });
});

describe('retention off (RECORDING_RETENTION_DAYS=0)', () => {
  it('keeps every recording', async () => {
    const t = await startTestPlatform(testDatabases()[0]!, { recordingRetentionDays: 0 });
    try {
      const owner = await t.signUp('Forever', { role: 'streamer' });
      const room = await t.call('POST', '/api/rooms', { token: owner.token, body: { kind: 'live', title: 'Old' } });
      const id = randomBytes(16).toString('base64url');
      await t.database.db
        .insertInto('recordings')
        .values({
          id,
          room_id: room.body.id,
          owner_id: owner.id,
          status: 'ready',
          format: 'webm',
          title: 'Old',
          started_at: new Date(Date.now() - 4000 * DAY),
          ended_at: new Date(Date.now() - 4000 * DAY),
          deleted_at: null,
          created_at: new Date(Date.now() - 4000 * DAY),
        })
        .execute();
      expect(await t.platform.services.replays.sweep()).toEqual({ expired: 0, pending: 0 });
      expect((await t.call('GET', `/api/replays/${id}`)).status).toBe(200);
    } finally {
      await t.close();
    }
  });
});
