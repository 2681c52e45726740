import { ConfigError } from '@fusionflow/kit';
import { describe, expect, it } from 'vitest';
import { loadServerConfig } from './config.js';

describe('the control plane’s S3 settings', () => {
  it('are all or nothing: a partial set is refused at start, naming what is missing', () => {
    expect(() => loadServerConfig({ S3_BUCKET: 'recordings' })).toThrow(ConfigError);
    expect(() => loadServerConfig({ S3_BUCKET: 'recordings' })).toThrow(/S3_ACCESS_KEY_ID: required/);
    const config = loadServerConfig({
      S3_BUCKET: 'recordings',
      S3_ACCESS_KEY_ID: 'AKIAEXAMPLE',
      S3_SECRET_ACCESS_KEY: 'secret',
      S3_REGION: 'eu-central-1',
    });
    expect(config).toMatchObject({ s3Bucket: 'recordings', s3Region: 'eu-central-1', s3Endpoint: undefined });
  });
});

describe('SFU_ORIGIN_MAX_VIEWERS', () => {
  it('defaults to 20, takes 0 (no limit), and refuses a negative or non-integer value at start', () => {
    expect(loadServerConfig({}).sfuOriginMaxViewers).toBe(20);
    expect(loadServerConfig({ SFU_ORIGIN_MAX_VIEWERS: '0' }).sfuOriginMaxViewers).toBe(0);
    expect(loadServerConfig({ SFU_ORIGIN_MAX_VIEWERS: '150' }).sfuOriginMaxViewers).toBe(150);
    for (const bad of ['-1', '2.5', 'many']) {
      expect(() => loadServerConfig({ SFU_ORIGIN_MAX_VIEWERS: bad })).toThrow(/SFU_ORIGIN_MAX_VIEWERS/);
    }
  });
});
