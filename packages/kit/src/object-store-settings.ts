import { ConfigError, type ConfigOf, read, setting } from './config.js';
import type { ObjectStoreConfig } from './object-store.js';

/**
 * The S3 settings, the same in the SFU (which uploads recordings) and the control plane (which
 * presigns replay URLs and deletes objects by retention): each app spreads these into its own
 * settings and checks them with `objectStoreConfigOf` when it loads its configuration.
 */
export const objectStoreSettings = {
  s3Endpoint: setting(
    'S3_ENDPOINT',
    read.url(),
    'Base URL of an S3-compatible API (MinIO, Ceph RGW: http://127.0.0.1:9000); unset with S3_BUCKET: AWS S3 in S3_REGION. Recordings go to the bucket when S3_BUCKET is set; otherwise they stay on the SFU’s disk.',
  ),
  s3Bucket: setting(
    'S3_BUCKET',
    read
      .string(63)
      .regex(
        /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/,
        'must be a bucket name: 3-63 lowercase letters, digits, dots and hyphens',
      ),
    'Bucket that keeps recordings (objects recordings/ID/FILE); it must exist. Required with S3_ENDPOINT.',
  ),
  s3AccessKeyId: setting(
    'S3_ACCESS_KEY_ID',
    read.string(256),
    'Access key id for the bucket (least privilege: see Storage of recordings). Required with S3_BUCKET.',
    { secret: true },
  ),
  s3SecretAccessKey: setting(
    'S3_SECRET_ACCESS_KEY',
    read.string(256),
    'Secret access key for the bucket. Required with S3_BUCKET.',
    { secret: true },
  ),
  s3Region: setting('S3_REGION', read.string(64), 'Region of the bucket (MinIO and Ceph RGW accept the default).', {
    default: 'us-east-1',
  }),
  s3ForcePathStyle: setting(
    'S3_FORCE_PATH_STYLE',
    read.bool(),
    'Address objects as ENDPOINT/BUCKET/KEY instead of BUCKET.ENDPOINT/KEY. Default: true with S3_ENDPOINT (MinIO, Ceph RGW), false without (AWS).',
  ),
};

export type ObjectStoreSettings = ConfigOf<typeof objectStoreSettings>;

/**
 * The object store a loaded configuration names, or undefined when S3 is off (no S3_ENDPOINT,
 * S3_BUCKET or keys set). All or nothing: once any of them is set, the bucket and both keys must
 * be, or this throws a ConfigError naming what is missing (the apps call it at start).
 */
export function objectStoreConfigOf(c: ObjectStoreSettings): ObjectStoreConfig | undefined {
  const any =
    c.s3Endpoint !== undefined ||
    c.s3Bucket !== undefined ||
    c.s3AccessKeyId !== undefined ||
    c.s3SecretAccessKey !== undefined ||
    c.s3ForcePathStyle !== undefined;
  if (!any) return undefined;
  const missing = [
    c.s3Bucket === undefined ? 'S3_BUCKET' : undefined,
    c.s3AccessKeyId === undefined ? 'S3_ACCESS_KEY_ID' : undefined,
    c.s3SecretAccessKey === undefined ? 'S3_SECRET_ACCESS_KEY' : undefined,
  ].filter((name): name is string => name !== undefined);
  if (missing.length > 0 || !c.s3Bucket || !c.s3AccessKeyId || !c.s3SecretAccessKey) {
    const set = ['S3_ENDPOINT', 'S3_BUCKET', 'S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY', 'S3_FORCE_PATH_STYLE'].filter(
      (_, i) => [c.s3Endpoint, c.s3Bucket, c.s3AccessKeyId, c.s3SecretAccessKey, c.s3ForcePathStyle][i] !== undefined,
    );
    throw new ConfigError(
      missing.map(
        (name) =>
          `${name}: required for recordings in S3 (${set.join(', ')} ${set.length > 1 ? 'are' : 'is'} set); set S3_BUCKET, S3_ACCESS_KEY_ID and S3_SECRET_ACCESS_KEY, or none of the S3_ settings`,
      ),
    );
  }
  return {
    endpoint: c.s3Endpoint,
    bucket: c.s3Bucket,
    accessKeyId: c.s3AccessKeyId,
    secretAccessKey: c.s3SecretAccessKey,
    region: c.s3Region,
    forcePathStyle: c.s3ForcePathStyle ?? c.s3Endpoint !== undefined,
  };
}
