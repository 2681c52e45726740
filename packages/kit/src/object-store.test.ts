import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type DroppingProxy,
  S3RVER_KEY,
  startDroppingProxy,
  startS3Server,
  type TestS3Server,
} from '../../../test/support/s3-server.js';
import { isSafeObjectKey, ObjectStore, type ObjectStoreOptions } from './object-store.js';

const MiB = 1024 * 1024;
const sha256 = (data: Buffer | Uint8Array) => createHash('sha256').update(data).digest('hex');
const sha256OfFile = (path: string) =>
  new Promise<string>((resolve, reject) => {
    const hash = createHash('sha256');
    createReadStream(path)
      .on('data', (chunk) => hash.update(chunk))
      .on('end', () => resolve(hash.digest('hex')))
      .on('error', reject);
  });

describe('ObjectStore against a real S3 API (s3rver)', () => {
  let s3: TestS3Server;
  let dir: string;
  let bigFile: string;
  const stores: ObjectStore[] = [];
  const open = (options: ObjectStoreOptions = {}, endpoint = s3.endpoint) => {
    const store = new ObjectStore(
      {
        endpoint,
        bucket: s3.bucket,
        accessKeyId: S3RVER_KEY,
        secretAccessKey: S3RVER_KEY,
        region: 'us-east-1',
        forcePathStyle: true,
      },
      { partSizeBytes: 5 * MiB, retryBaseMs: 10, ...options },
    );
    stores.push(store);
    return store;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ff-object-store-'));
    s3 = await startS3Server();
    // 11 MiB of random bytes: three parts of 5 MiB (multipart really used).
    bigFile = join(dir, 'big.webm');
    writeFileSync(bigFile, randomBytes(11 * MiB));
  });
  afterAll(async () => {
    await Promise.allSettled(stores.map((s) => s.close('test over')));
    await s3?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('uploads a file larger than a part as a multipart upload, confirmed by HeadObject', async () => {
    const store = open();
    const seen = s3.requests.length;
    const result = await store.uploadFile(bigFile, 'recordings/rec_abcdefgh/big.webm', 'video/webm');
    expect(result).toMatchObject({ key: 'recordings/rec_abcdefgh/big.webm', bytes: 11 * MiB, attempts: 1 });
    // What s3rver received: a multipart upload of three parts, completed, then the confirming HEAD.
    const path = `/${s3.bucket}/recordings/rec_abcdefgh/big.webm`;
    const requests = s3.requests.slice(seen).map((r) => r.replace(/uploadId=[^&]+/, 'uploadId=U'));
    expect(requests[0]).toBe(`POST ${path}?uploads=`);
    expect(requests.slice(1, 4).sort()).toEqual([1, 2, 3].map((n) => `PUT ${path}?partNumber=${n}&uploadId=U`));
    expect(requests.slice(4)).toEqual([`POST ${path}?uploadId=U`, `HEAD ${path}`]);
    const head = await store.head('recordings/rec_abcdefgh/big.webm');
    expect(head).toMatchObject({ bytes: 11 * MiB, contentType: 'video/webm' });

    const url = await store.presignGet('recordings/rec_abcdefgh/big.webm', { expiresInSeconds: 60 });
    const whole = await fetch(url);
    expect(whole.status).toBe(200);
    expect(sha256(new Uint8Array(await whole.arrayBuffer()))).toBe(await sha256OfFile(bigFile));
  });

  it('presigns a GET that works with plain fetch, takes a Range request (206) and names the file', async () => {
    const store = open();
    const small = join(dir, 'small.webm');
    const bytes = randomBytes(64 * 1024);
    writeFileSync(small, bytes);
    await store.uploadFile(small, 'recordings/rec_abcdefgh/small.webm', 'video/webm');
    const url = await store.presignGet('recordings/rec_abcdefgh/small.webm', {
      expiresInSeconds: 300,
      contentType: 'video/webm',
      filename: 'My "replay".webm',
    });
    expect(url).toContain('X-Amz-Expires=300');
    const ranged = await fetch(url, { headers: { range: 'bytes=100-199' } });
    expect(ranged.status).toBe(206);
    expect(ranged.headers.get('content-range')).toBe(`bytes 100-199/${bytes.length}`);
    expect(Buffer.from(await ranged.arrayBuffer()).equals(bytes.subarray(100, 200))).toBe(true);
    const whole = await fetch(url);
    expect(whole.headers.get('content-type')).toBe('video/webm');
    expect(whole.headers.get('content-disposition')).toBe(
      `inline; filename="My _replay_.webm"; filename*=UTF-8''My%20%22replay%22.webm`,
    );
    await whole.arrayBuffer();
    // (s3rver checks a presigned URL's access key and expiry but not its SigV4 signature, so a
    // tampered URL cannot be tested against it; MinIO, Ceph RGW and AWS do check it.)
  });

  it('refuses an expired presigned URL (s3rver checks X-Amz-Date + X-Amz-Expires)', async () => {
    const store = open({ clock: () => new Date(Date.now() - 3600_000) });
    const url = await store.presignGet('recordings/rec_abcdefgh/small.webm', { expiresInSeconds: 60 });
    const res = await fetch(url);
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('Request has expired');
    await expect(store.presignGet('recordings/x', { expiresInSeconds: 0 })).rejects.toThrow(/expiresInSeconds/);
    await expect(store.presignGet('recordings/x', { expiresInSeconds: 604_801 })).rejects.toThrow(/expiresInSeconds/);
  });

  it('retries an upload whose connection is cut, and succeeds on the next attempt', async () => {
    const proxy: DroppingProxy = await startDroppingProxy({ port: s3.port });
    try {
      // The SDK's own retries off: the store's retry is what is under test.
      const store = open({ sdkMaxAttempts: 1 }, proxy.endpoint);
      proxy.dropNext(1);
      const result = await store.uploadFile(bigFile, 'recordings/rec_retry0001/big.webm', 'video/webm');
      expect(proxy.dropped).toBe(1);
      expect(result.attempts).toBe(2);
      expect(result.bytes).toBe(11 * MiB);
      const url = await open().presignGet('recordings/rec_retry0001/big.webm', { expiresInSeconds: 60 });
      expect(sha256(new Uint8Array(await (await fetch(url)).arrayBuffer()))).toBe(await sha256OfFile(bigFile));
    } finally {
      await proxy.close();
    }
  });

  it('gives up after its attempts while the store is unreachable, and does not retry a refusal', async () => {
    const proxy = await startDroppingProxy({ port: s3.port });
    try {
      const store = open({ sdkMaxAttempts: 1, uploadAttempts: 3 }, proxy.endpoint);
      proxy.dropNext(100);
      await expect(store.uploadFile(bigFile, 'recordings/rec_down0001/big.webm', 'video/webm')).rejects.toThrow();
      expect(proxy.dropped).toBe(3);
    } finally {
      await proxy.close();
    }
    // Wrong credentials: a 403 is final, one attempt only (s3rver knows only its own access key id).
    const wrong = new ObjectStore(
      {
        endpoint: s3.endpoint,
        bucket: s3.bucket,
        accessKeyId: 'NOT-A-KEY',
        secretAccessKey: S3RVER_KEY,
        region: 'us-east-1',
        forcePathStyle: true,
      },
      { retryBaseMs: 10_000 },
    );
    stores.push(wrong);
    await expect(wrong.uploadFile(bigFile, 'recordings/rec_denied01/big.webm', 'video/webm')).rejects.toMatchObject({
      $metadata: { httpStatusCode: 403 },
    });
    expect(await open().head('recordings/rec_denied01/big.webm')).toBeUndefined();
  });

  it('deletes an object (and deleting a missing one is no error)', async () => {
    const store = open();
    const file = join(dir, 'gone.ogg');
    writeFileSync(file, randomBytes(1000));
    await store.uploadFile(file, 'recordings/rec_delete01/gone.ogg', 'audio/ogg');
    expect(await store.head('recordings/rec_delete01/gone.ogg')).toMatchObject({ bytes: 1000 });
    await store.delete('recordings/rec_delete01/gone.ogg');
    expect(await store.head('recordings/rec_delete01/gone.ogg')).toBeUndefined();
    await store.delete('recordings/rec_delete01/gone.ogg');
  });

  it('refuses keys with .., absolute paths or odd characters, before any request', async () => {
    const store = open();
    for (const key of [
      '../etc/passwd',
      'recordings/../../x',
      '/etc/passwd',
      'recordings//x',
      'recordings/./x',
      'recordings\\..\\x',
      'recordings/a b',
      'recordings/%2e%2e',
      '',
      'x'.repeat(1025),
    ]) {
      expect(isSafeObjectKey(key), key).toBe(false);
      await expect(store.uploadFile(bigFile, key, 'video/webm'), key).rejects.toMatchObject({ code: 'bad_request' });
      await expect(store.presignGet(key, { expiresInSeconds: 60 }), key).rejects.toMatchObject({ code: 'bad_request' });
      await expect(store.delete(key), key).rejects.toMatchObject({ code: 'bad_request' });
      await expect(store.head(key), key).rejects.toMatchObject({ code: 'bad_request' });
    }
    expect(isSafeObjectKey('recordings/rec_abcdefgh/rec_abcdefgh.video.ivf')).toBe(true);
  });

  it('refuses a directory or a missing file at once (no retry), and everything once closed', async () => {
    // A retry would wait a minute, past the test's time limit.
    const store = open({ retryBaseMs: 60_000 });
    await expect(store.uploadFile(dir, 'recordings/rec_dir00001/x', 'video/webm')).rejects.toMatchObject({
      code: 'bad_request',
    });
    await expect(store.uploadFile(join(dir, 'missing'), 'recordings/rec_dir00001/x', 'video/webm')).rejects.toThrow(
      /ENOENT/,
    );
    await store.close();
    await store.close();
    await expect(store.head('recordings/x')).rejects.toMatchObject({ code: 'unavailable' });
    await expect(store.uploadFile(bigFile, 'recordings/x', 'video/webm')).rejects.toMatchObject({
      code: 'unavailable',
    });
  });

  it('close() aborts an upload under way', async () => {
    const proxy = await startDroppingProxy({ port: s3.port });
    try {
      const store = open({ sdkMaxAttempts: 1, uploadAttempts: 50, retryBaseMs: 60_000 }, proxy.endpoint);
      proxy.dropNext(1);
      const upload = store.uploadFile(bigFile, 'recordings/rec_abort001/big.webm', 'video/webm');
      // The first attempt is cut; the store waits a minute before the next one; close ends the wait.
      while (proxy.dropped === 0) await new Promise((r) => setTimeout(r, 10));
      await store.close('shutdown');
      await expect(upload).rejects.toMatchObject({ code: 'unavailable' });
      expect(await open().head('recordings/rec_abort001/big.webm')).toBeUndefined();
    } finally {
      await proxy.close();
    }
  });
});
