import { ConfigError } from '@fusionflow/kit';
import { describe, expect, it } from 'vitest';
import { loadSfuConfig } from './config.js';

describe('the SFU’s S3 settings', () => {
  it('are all or nothing: a partial set is refused at start, naming what is missing', () => {
    expect(() => loadSfuConfig({ S3_ENDPOINT: 'http://127.0.0.1:9000', S3_BUCKET: 'recordings' })).toThrow(ConfigError);
    expect(() => loadSfuConfig({ S3_ENDPOINT: 'http://127.0.0.1:9000', S3_BUCKET: 'recordings' })).toThrow(
      /S3_ACCESS_KEY_ID: required[\s\S]*S3_SECRET_ACCESS_KEY: required/,
    );
    const config = loadSfuConfig({
      S3_ENDPOINT: 'http://127.0.0.1:9000',
      S3_BUCKET: 'recordings',
      S3_ACCESS_KEY_ID: 'minio',
      S3_SECRET_ACCESS_KEY: 'minio-secret',
    });
    expect(config).toMatchObject({ s3Bucket: 'recordings', s3Region: 'us-east-1', s3ForcePathStyle: undefined });
    expect(loadSfuConfig({}).s3Bucket).toBeUndefined();
  });
});
