import { describe, expect, it } from 'vitest';
import { testServerConfig } from './config.js';
import { startupBanner } from './startup-banner.js';

const demo = [
  { email: 'admin@fusionflow.test', password: 'pw', role: 'admin', displayName: 'A' },
  { email: 'streamer@fusionflow.test', password: 'pw', role: 'streamer', displayName: 'S' },
  { email: 'viewer@fusionflow.test', password: 'pw', role: 'viewer', displayName: 'V' },
] as const;

describe('the start-up banner', () => {
  it('says which optional parts are on, and what is wrong with one that does not work', () => {
    const { text } = startupBanner({
      url: 'http://127.0.0.1:8080',
      config: testServerConfig({
        redisUrl: 'redis://127.0.0.1:6379',
        translationEngine: 'apertium',
        translationUrl: 'http://127.0.0.1:2737',
        smtpUrl: 'smtp://127.0.0.1:25',
        s3Endpoint: 'http://127.0.0.1:9000',
        s3Bucket: 'recordings',
        s3AccessKeyId: 'AKIAEXAMPLE',
        s3SecretAccessKey: 'the-secret-key-never-printed',
      }),
      embeddedDatabase: true,
      demoAccounts: [...demo],
      devProvider: false,
      turnEnabled: true,
      translation: { status: 'ok', summary: 'apertium translates 4 language pairs (a sample took 80 ms)' },
    });
    expect(text).toMatch(/Translation\s+on: apertium translates 4 language pairs/);
    expect(text).toMatch(/TURN\s+on: /);
    expect(text).toMatch(/Redis\s+on: /);
    expect(text).toMatch(/Email\s+on: /);
    expect(text).not.toContain('Set REDIS_URL');
    expect(text).toMatch(/S3 storage\s+on: recordings are kept in bucket recordings at http:\/\/127.0.0.1:9000\./);
    expect(text).not.toContain('AKIAEXAMPLE');
    expect(text).not.toContain('the-secret-key-never-printed');

    const broken = startupBanner({
      url: 'http://127.0.0.1:8080',
      config: testServerConfig({ translationEngine: 'libretranslate', translationUrl: 'http://127.0.0.1:5000' }),
      embeddedDatabase: false,
      demoAccounts: [],
      devProvider: false,
      turnEnabled: false,
      translation: { status: 'fail', summary: 'libretranslate does not translate: connect ECONNREFUSED' },
    });
    expect(broken.text).toMatch(/Translation\s+NOT WORKING: libretranslate does not translate: connect ECONNREFUSED/);
    expect(broken.text).toContain('Next: open http://127.0.0.1:8080 in a browser and create an account (Sign up).');
    expect(broken.text).toMatch(/Email\s+off: .*\n\s+Set SMTP_URL=/);
    expect(broken.text).toMatch(/S3 storage\s+off: recordings stay on the SFU’s disk.*\n\s+To keep them in MinIO/);
    expect(broken.text).not.toContain('not supported yet');

    const aws = startupBanner({
      url: 'http://127.0.0.1:8080',
      config: testServerConfig({
        s3Bucket: 'ff-recordings',
        s3Region: 'eu-central-1',
        s3AccessKeyId: 'AKIAEXAMPLE',
        s3SecretAccessKey: 'the-secret-key-never-printed',
      }),
      embeddedDatabase: false,
      demoAccounts: [],
      devProvider: false,
      turnEnabled: false,
      translation: { status: 'ok', summary: '' },
    });
    expect(aws.text).toMatch(
      /S3 storage\s+on: recordings are kept in bucket ff-recordings in AWS S3 \(eu-central-1\)\./,
    );
  });
});
