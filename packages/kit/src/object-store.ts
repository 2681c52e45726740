import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
  type S3ClientConfig,
} from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { AppError, badRequest, unavailable } from './errors.js';
import type { Logger } from './logger.js';

/** Where the objects are: any S3-compatible API (AWS, MinIO, Ceph RGW). */
export interface ObjectStoreConfig {
  /** Base URL of the S3 API; unset: AWS's endpoint for `region`. */
  endpoint?: string | undefined;
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
  /** `https://endpoint/bucket/key` instead of `https://bucket.endpoint/key` (MinIO, Ceph RGW, s3rver). */
  forcePathStyle: boolean;
}

export interface ObjectStoreOptions {
  logger?: Logger;
  /** Bytes per multipart part (S3's minimum is 5 MiB); a file up to this size is one PutObject. */
  partSizeBytes?: number;
  /** Parts uploaded at once per file: memory per upload is about partSizeBytes × (queueSize + 1). */
  queueSize?: number;
  /** Whole-upload attempts of `uploadFile` on a transient failure (network, 5xx, throttling). */
  uploadAttempts?: number;
  /** First backoff between those attempts; doubles each time. */
  retryBaseMs?: number;
  /** Attempts of each single S3 request inside the SDK (its own retry strategy). */
  sdkMaxAttempts?: number;
  /** Time limit of one S3 request's response. */
  requestTimeoutMs?: number;
  /** The time presigned URLs are signed at (tests). */
  clock?: () => Date;
}

export interface StoredObject {
  bytes: number;
  contentType: string | undefined;
  etag: string | undefined;
}

export interface UploadResult extends StoredObject {
  key: string;
  /** How many whole-upload attempts it took (1 when nothing failed). */
  attempts: number;
}

export interface PresignOptions {
  /** Lifetime of the URL (1 s to 7 days, SigV4's limit). */
  expiresInSeconds: number;
  /** Content-Type the response carries. */
  contentType?: string;
  /** File name a browser saves it as (Content-Disposition: inline). */
  filename?: string;
}

const MiB = 1024 * 1024;
const MIN_PART = 5 * MiB;
const MAX_KEY_BYTES = 1024;

/**
 * Is `key` a plain object key: relative, `/`-separated segments of letters, digits, `.`, `_`, `-`,
 * none of them `.` or `..`? Keys are built from validated ids and names only; this refuses anything
 * that a store or a later local mirror could read as a path out of its prefix.
 */
export function isSafeObjectKey(key: string): boolean {
  if (key.length === 0 || Buffer.byteLength(key) > MAX_KEY_BYTES) return false;
  return key.split('/').every((segment) => /^[A-Za-z0-9_.-]+$/.test(segment) && segment !== '.' && segment !== '..');
}

function checkKey(key: string): string {
  if (!isSafeObjectKey(key)) throw badRequest('object key must be relative segments of [A-Za-z0-9_.-], no . or ..');
  return key;
}

/** Errors worth another attempt: no answer (network, timeout), 5xx, throttling, a size that did not match. */
export function isTransientStoreError(err: unknown): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as {
    name?: string;
    path?: unknown;
    $retryable?: unknown;
    $metadata?: { httpStatusCode?: number };
  };
  if (e.name === 'AbortError' || err instanceof AppError) return false;
  // The local file (missing, a directory, unreadable): no later attempt reads it better.
  if (e.path !== undefined) return false;
  if (e instanceof SizeMismatchError) return true;
  if (e.$retryable) return true;
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number') return status >= 500 || status === 408 || status === 429;
  // No HTTP answer at all: connection refused or reset, DNS, timeouts.
  return true;
}

/** The upload did not end with the file's bytes in the store (the object's size differs, or the file changed). */
class SizeMismatchError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SizeMismatchError';
  }
}

/**
 * A small S3-compatible object store on the AWS SDK v3: multipart upload of a local file (streamed,
 * bounded memory) with retries and a HeadObject confirmation, short-lived presigned GET URLs,
 * delete and head. `close()` aborts uploads under way (their multipart uploads are aborted on the
 * store too) and refuses further work.
 */
export class ObjectStore {
  readonly #client: S3Client;
  readonly #uploads = new Set<Upload>();
  readonly #sleeps = new Set<() => void>();
  readonly #abort = new AbortController();
  readonly #partSize: number;
  readonly #queueSize: number;
  readonly #attempts: number;
  readonly #retryBaseMs: number;
  #closed = false;

  constructor(
    readonly config: ObjectStoreConfig,
    private readonly options: ObjectStoreOptions = {},
  ) {
    this.#partSize = Math.max(MIN_PART, options.partSizeBytes ?? 8 * MiB);
    this.#queueSize = Math.min(16, Math.max(1, options.queueSize ?? 2));
    this.#attempts = Math.max(1, options.uploadAttempts ?? 4);
    this.#retryBaseMs = Math.max(0, options.retryBaseMs ?? 1000);
    const clientConfig: S3ClientConfig = {
      region: config.region,
      forcePathStyle: config.forcePathStyle,
      credentials: { accessKeyId: config.accessKeyId, secretAccessKey: config.secretAccessKey },
      maxAttempts: options.sdkMaxAttempts ?? 3,
      // Checksums only where S3 requires them: MinIO, Ceph RGW and older stores do not all take the
      // newer default (CRC32 trailers in aws-chunked bodies); HeadObject confirms every upload instead.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 10_000, requestTimeout: options.requestTimeoutMs ?? 120_000 },
    };
    if (config.endpoint) clientConfig.endpoint = config.endpoint;
    this.#client = new S3Client(clientConfig);
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Upload a local file as `key`, multipart when it is larger than one part; a transient failure is
   * retried with exponential backoff. Resolves only once HeadObject shows the object with the
   * file's size; rejects otherwise (the file is never touched).
   */
  async uploadFile(localPath: string, key: string, contentType: string): Promise<UploadResult> {
    this.#open();
    checkKey(key);
    for (let attempt = 1; ; attempt += 1) {
      try {
        return { ...(await this.#uploadOnce(localPath, key, contentType)), key, attempts: attempt };
      } catch (err) {
        if (this.#closed) throw unavailable('the object store is closed');
        if (attempt >= this.#attempts || !isTransientStoreError(err)) throw err;
        const delayMs = this.#retryBaseMs * 2 ** (attempt - 1);
        this.options.logger?.warn({ key, attempt, delayMs, err: describe(err) }, 'upload failed, retrying');
        await this.#sleep(delayMs);
        this.#open();
      }
    }
  }

  async #uploadOnce(localPath: string, key: string, contentType: string): Promise<StoredObject> {
    const before = await stat(localPath);
    if (!before.isFile()) throw badRequest(`${localPath} is not a regular file`);
    const body = createReadStream(localPath, { highWaterMark: MiB });
    const upload = new Upload({
      client: this.#client,
      params: { Bucket: this.config.bucket, Key: key, Body: body, ContentType: contentType },
      partSize: this.#partSize,
      queueSize: this.#queueSize,
      leavePartsOnError: false,
    });
    this.#uploads.add(upload);
    try {
      await upload.done();
    } finally {
      this.#uploads.delete(upload);
      body.destroy();
    }
    const after = await stat(localPath);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs) {
      throw new SizeMismatchError(`${localPath} changed while it was uploaded as ${key}`);
    }
    const head = await this.head(key);
    if (!head || head.bytes !== before.size) {
      throw new SizeMismatchError(
        `object ${key} holds ${head?.bytes ?? 'no'} bytes after upload, the file ${before.size}`,
      );
    }
    return head;
  }

  /** The object's size, type and ETag, or undefined when there is none. */
  async head(key: string): Promise<StoredObject | undefined> {
    this.#open();
    try {
      const out = await this.#client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key: checkKey(key) }), {
        abortSignal: this.#abort.signal,
      });
      return { bytes: out.ContentLength ?? 0, contentType: out.ContentType, etag: out.ETag };
    } catch (err) {
      const e = err as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (e.name === 'NotFound' || e.name === 'NoSuchKey' || e.$metadata?.httpStatusCode === 404) return undefined;
      throw err;
    }
  }

  /** Delete the object (no error when there is none). */
  async delete(key: string): Promise<void> {
    this.#open();
    await this.#client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key: checkKey(key) }), {
      abortSignal: this.#abort.signal,
    });
  }

  /** A short-lived URL that GETs the object (Range requests included) without credentials. */
  async presignGet(key: string, options: PresignOptions): Promise<string> {
    this.#open();
    const expiresIn = options.expiresInSeconds;
    if (!Number.isInteger(expiresIn) || expiresIn < 1 || expiresIn > 604_800) {
      throw badRequest('expiresInSeconds must be an integer from 1 to 604800');
    }
    const command = new GetObjectCommand({
      Bucket: this.config.bucket,
      Key: checkKey(key),
      ResponseContentType: options.contentType,
      ResponseContentDisposition: options.filename === undefined ? undefined : inlineDisposition(options.filename),
    });
    const signingDate = this.options.clock?.();
    return getSignedUrl(this.#client, command, { expiresIn, ...(signingDate ? { signingDate } : {}) });
  }

  /** Abort uploads under way and refuse further work. Idempotent. */
  async close(reason = 'closed'): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const wake of this.#sleeps) wake();
    this.#sleeps.clear();
    const uploads = [...this.#uploads];
    this.#uploads.clear();
    if (uploads.length > 0) this.options.logger?.info({ uploads: uploads.length, reason }, 'aborting uploads');
    await Promise.allSettled(uploads.map((u) => u.abort()));
    this.#abort.abort();
    this.#client.destroy();
  }

  #open(): void {
    if (this.#closed) throw unavailable('the object store is closed');
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#sleeps.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#sleeps.add(wake);
    });
  }
}

/** `inline; filename="x.webm"; filename*=UTF-8''x.webm`, with nothing a header could be split on. */
function inlineDisposition(filename: string): string {
  const clean = [...filename]
    .filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) !== 0x7f)
    .join('')
    .slice(0, 200);
  const ascii = clean.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '_');
  return `inline; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(clean)}`;
}

function describe(err: unknown): string {
  if (err instanceof Error) return `${err.name}: ${err.message}`;
  return String(err);
}
