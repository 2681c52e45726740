import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { s3rverStoreConfig, startS3Server, type TestS3Server } from '../../../../../test/support/s3-server.js';
import { checkStorage } from './storage-check.js';

describe('the doctor’s object storage check (against s3rver)', () => {
  let s3: TestS3Server;
  beforeAll(async () => {
    s3 = await startS3Server();
  });
  afterAll(async () => {
    await s3?.stop();
  });
  const config = () => s3rverStoreConfig(s3);

  it('is skipped without a bucket', async () => {
    expect(await checkStorage(undefined)).toMatchObject({ status: 'skipped' });
  });

  it('writes, reads back through a presigned URL and deletes a test object, leaving nothing', async () => {
    const seen = s3.requests.length;
    const finding = await checkStorage(config());
    expect(finding).toMatchObject({
      status: 'ok',
      summary: `bucket ${s3.bucket} at ${s3.endpoint}: wrote, read back and deleted a test object`,
    });
    const requests = s3.requests.slice(seen).map((r) => r.split('?')[0]!.split(' '));
    expect(requests.map(([method]) => method)).toEqual(['PUT', 'HEAD', 'GET', 'DELETE']);
    const path = requests[0]![1]!;
    expect(path).toMatch(new RegExp(`^/${s3.bucket}/recordings/_doctor/\\d+-[0-9a-f]{8}\\.txt$`));
    expect(requests.every(([, p]) => p === path)).toBe(true);
  });

  it('names the step that failed and what to check', async () => {
    const missing = await checkStorage({ ...config(), bucket: 'no-such-bucket' });
    expect(missing.status).toBe('fail');
    expect(missing.summary).toMatch(
      /^could not write a test object to bucket no-such-bucket at http:\/\/127\.0\.0\.1:\d+: /,
    );
    expect(missing.fix).toContain('S3_BUCKET exists');
    await s3.pause();
    try {
      const down = await checkStorage(config());
      expect(down.status).toBe('fail');
      expect(down.summary).toMatch(/ECONNREFUSED|connect/);
    } finally {
      await s3.resume();
    }
  });
});
