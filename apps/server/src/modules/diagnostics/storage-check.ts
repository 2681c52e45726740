import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ObjectStore, type ObjectStoreConfig } from '@fusionflow/kit';
import type { Finding } from './system-checks.js';

const base = { id: 'storage', title: 'Object storage' };
const FIX =
  'Check S3_ENDPOINT (reachable from here), that S3_BUCKET exists, S3_ACCESS_KEY_ID / S3_SECRET_ACCESS_KEY, and that their policy allows PutObject, GetObject and DeleteObject on recordings/* (docs/operations.md, Storage of recordings).';

/**
 * The recordings' bucket used the way the platform uses it: a small test object under
 * `recordings/_doctor/` is written, read back through a presigned URL (as players read replays),
 * and deleted. Skipped when no bucket is configured.
 */
export async function checkStorage(config: ObjectStoreConfig | undefined): Promise<Finding> {
  if (!config) {
    return {
      ...base,
      status: 'skipped',
      summary:
        'no object storage is configured: recordings stay on the SFU’s disk (set S3_BUCKET and its keys to keep them in a bucket)',
    };
  }
  const where = config.endpoint
    ? `bucket ${config.bucket} at ${config.endpoint}`
    : `bucket ${config.bucket} in AWS S3 (${config.region})`;
  const details = { bucket: config.bucket, endpoint: config.endpoint ?? null, region: config.region };
  const store = new ObjectStore(config, { uploadAttempts: 1, sdkMaxAttempts: 1, requestTimeoutMs: 10_000 });
  const dir = await mkdtemp(join(tmpdir(), 'ff-doctor-s3-'));
  const body = randomBytes(32).toString('hex');
  const key = `recordings/_doctor/${Date.now()}-${randomBytes(4).toString('hex')}.txt`;
  let step = 'write a test object to';
  try {
    const file = join(dir, 'probe.txt');
    await writeFile(file, body);
    await store.uploadFile(file, key, 'text/plain');
    step = 'read the test object back (presigned GET) from';
    const res = await fetch(await store.presignGet(key, { expiresInSeconds: 60 }), {
      signal: AbortSignal.timeout(10_000),
    });
    const got = await res.text();
    if (!res.ok || got !== body) throw new Error(res.ok ? 'it came back different' : `HTTP ${res.status}`);
    step = 'delete the test object from';
    await store.delete(key);
    return { ...base, status: 'ok', summary: `${where}: wrote, read back and deleted a test object`, details };
  } catch (err) {
    return {
      ...base,
      status: 'fail',
      summary: `could not ${step} ${where}: ${(err as Error).message || (err as Error).name}`,
      fix: FIX,
      details: { ...details, key },
    };
  } finally {
    await store.close('doctor done');
    await rm(dir, { recursive: true, force: true });
  }
}
