import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.js';
import { objectStoreConfigOf, objectStoreSettings } from './object-store-settings.js';

const load = (env: Record<string, string>) => objectStoreConfigOf(loadConfig(objectStoreSettings, { env }));
const keys = { S3_ACCESS_KEY_ID: 'AKIAEXAMPLE', S3_SECRET_ACCESS_KEY: 'secret-value-never-echoed' };

describe('objectStoreConfigOf', () => {
  it('is off when no S3_ setting is set (S3_REGION has a default and does not count)', () => {
    expect(load({})).toBeUndefined();
    expect(load({ S3_REGION: 'eu-west-1' })).toBeUndefined();
  });

  it('MinIO / Ceph RGW: an endpoint means path-style addressing unless told otherwise', () => {
    expect(load({ S3_ENDPOINT: 'http://127.0.0.1:9000', S3_BUCKET: 'recordings', ...keys })).toEqual({
      endpoint: 'http://127.0.0.1:9000',
      bucket: 'recordings',
      accessKeyId: 'AKIAEXAMPLE',
      secretAccessKey: 'secret-value-never-echoed',
      region: 'us-east-1',
      forcePathStyle: true,
    });
    expect(
      load({ S3_ENDPOINT: 'https://s3.example.com', S3_BUCKET: 'rec', S3_FORCE_PATH_STYLE: 'false', ...keys }),
    ).toMatchObject({ forcePathStyle: false });
  });

  it('AWS: a bucket without an endpoint, virtual-hosted addressing in S3_REGION', () => {
    expect(load({ S3_BUCKET: 'ff-recordings', S3_REGION: 'eu-central-1', ...keys })).toMatchObject({
      endpoint: undefined,
      region: 'eu-central-1',
      forcePathStyle: false,
    });
  });

  it('is all or nothing: an endpoint without bucket or keys is refused at start, naming each', () => {
    let error: unknown;
    try {
      load({ S3_ENDPOINT: 'http://127.0.0.1:9000' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const problems = (error as ConfigError).problems;
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^S3_BUCKET: required .*S3_ENDPOINT is set/);
    expect(problems[1]).toMatch(/^S3_ACCESS_KEY_ID: required/);
    expect(problems[2]).toMatch(/^S3_SECRET_ACCESS_KEY: required/);
    expect(() => load({ S3_BUCKET: 'recordings', S3_ACCESS_KEY_ID: 'AKIAEXAMPLE' })).toThrow(
      /S3_SECRET_ACCESS_KEY: required/,
    );
    expect(() => load({ S3_FORCE_PATH_STYLE: 'true' })).toThrow(/S3_BUCKET: required/);
  });

  it('refuses a bad endpoint or bucket name, and never echoes the secrets', () => {
    expect(() => load({ S3_ENDPOINT: 'ftp://x', S3_BUCKET: 'recordings', ...keys })).toThrow(
      /S3_ENDPOINT: must be a URL/,
    );
    expect(() => load({ S3_BUCKET: '../etc', ...keys })).toThrow(/S3_BUCKET: must be a bucket name/);
    try {
      load({ S3_BUCKET: 'recordings', S3_ACCESS_KEY_ID: 'k'.repeat(300), S3_SECRET_ACCESS_KEY: 's'.repeat(300) });
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toMatch(/S3_ACCESS_KEY_ID/);
      expect((err as Error).message).not.toContain('kkkk');
      expect((err as Error).message).not.toContain('ssss');
    }
  });
});
