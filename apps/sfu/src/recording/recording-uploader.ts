import { lstat, mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { ConcurrencyLimit, isSafeObjectKey, type Logger, type ObjectStore } from '@fusionflow/kit';
import { type RecordingFile, RecordingId, RecordingReport } from '@fusionflow/protocol';

export interface RecordingUploaderOptions {
  /** The bucket. The uploader owns it: `close()` closes it, aborting uploads under way. */
  store: ObjectStore;
  /** RECORDINGS_DIR: the recordings' files and their `<id>.json` sidecars. */
  dir: string;
  logger: Logger;
  /** Every file of the recording is in the bucket (storage `s3`) and gone from the disk: tell the control plane. */
  onUploaded: (report: RecordingReport) => Promise<void> | void;
  /** An attempt failed: retried in `retryInMs`, or never (`undefined`: the recording was refused). */
  onFailed?: (id: string, error: unknown, retryInMs: number | undefined) => void;
  /** Files uploaded at once (each buffers about partSize × (queueSize + 1) bytes). */
  concurrency?: number;
  /** First wait before a failed recording is tried again; doubles each time up to `retryMaxMs`. */
  retryBaseMs?: number;
  retryMaxMs?: number;
  /** Objects are `<keyPrefix>/<recording id>/<file name>`. */
  keyPrefix?: string;
}

const SIDECAR = /^([A-Za-z0-9_-]{8,64})\.json$/;
const MAX_SIDECAR_BYTES = 64 * 1024;

/** A recording the uploader will not touch (a key out of the directory, a symlink, a bad sidecar): not retried. */
export class RecordingRefused extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordingRefused';
  }
}

interface Job {
  attempts: number;
  timer?: NodeJS.Timeout;
  running?: Promise<void>;
}

/**
 * Moves finished recordings from the SFU's disk to the bucket. A recording is finished when its
 * sidecar `<dir>/<id>.json` (its RecordingReport, status `ready`, files `local` with keys relative
 * to `dir`) exists: `submit()` writes it, and `start()` picks up every one left by an earlier run.
 * Each file is uploaded as `recordings/<id>/<name>` and deleted from the disk only after the store
 * confirmed the object; the sidecar records each file's move, so a crash at any point loses
 * nothing and repeats nothing but an upload. When every file is in the bucket, `onUploaded` gets
 * the report with `storage: 's3'` and the sidecar is removed. A failure is retried later with
 * exponential backoff, the local files kept.
 */
export class RecordingUploader {
  readonly #jobs = new Map<string, Job>();
  #idle: (() => void)[] = [];
  readonly #limit: ConcurrencyLimit;
  readonly #dir: string;
  readonly #prefix: string;
  readonly #retryBaseMs: number;
  readonly #retryMaxMs: number;
  #closed = false;

  constructor(private readonly o: RecordingUploaderOptions) {
    this.#dir = resolve(o.dir);
    this.#prefix = o.keyPrefix ?? 'recordings';
    if (!isSafeObjectKey(this.#prefix)) throw new Error(`bad key prefix ${JSON.stringify(this.#prefix)}`);
    this.#retryBaseMs = o.retryBaseMs ?? 10_000;
    this.#retryMaxMs = Math.max(this.#retryBaseMs, o.retryMaxMs ?? 15 * 60_000);
    this.#limit = new ConcurrencyLimit({
      concurrency: Math.max(1, o.concurrency ?? 2),
      maxWaiting: 100_000,
      busyMessage: 'too many recordings waiting for upload',
    });
  }

  /** Recordings waiting for upload or being uploaded. */
  get pending(): string[] {
    return [...this.#jobs.keys()];
  }

  /** Resolves when no recording is waiting or uploading (at once if none is). */
  drained(): Promise<void> {
    if (this.#jobs.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  /** Most files uploaded at once so far. */
  get peakUploads(): number {
    return this.#limit.peak;
  }

  /** Pick up every finished recording an earlier run left (after a restart). Resolves with how many. */
  async start(): Promise<number> {
    this.#open();
    let names: string[];
    try {
      names = await readdir(this.#dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
      throw err;
    }
    const ids = names.map((n) => SIDECAR.exec(n)?.[1]).filter((id): id is string => id !== undefined);
    for (const id of ids) this.#schedule(id, 0);
    if (ids.length > 0) this.o.logger.info({ recordings: ids.length }, 'recordings waiting for upload');
    return ids.length;
  }

  /**
   * A recording is final (status `ready`): record that on disk (its sidecar, unless one is there
   * already) and upload it. Rejects a report that does not validate.
   */
  async submit(report: RecordingReport): Promise<void> {
    this.#open();
    const parsed = RecordingReport.safeParse(report);
    if (!parsed.success) throw new RecordingRefused(`not a recording report: ${parsed.error.issues[0]?.message}`);
    if (parsed.data.status !== 'ready') throw new RecordingRefused(`recording ${report.id} is ${report.status}`);
    const path = this.#sidecarPath(parsed.data.id);
    const exists = await lstat(path).then(
      () => true,
      () => false,
    );
    if (!exists) {
      await mkdir(this.#dir, { recursive: true });
      await this.#writeSidecar(parsed.data);
    }
    this.#schedule(parsed.data.id, 0);
  }

  /** Stop: no new attempts, the store closed (uploads under way aborted, their local files kept). Idempotent. */
  async close(reason = 'closed'): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const running: Promise<void>[] = [];
    for (const job of this.#jobs.values()) {
      clearTimeout(job.timer);
      if (job.running) running.push(job.running);
    }
    await this.o.store.close(reason);
    await Promise.allSettled(running);
    for (const id of [...this.#jobs.keys()]) this.#forget(id);
  }

  #forget(id: string): void {
    this.#jobs.delete(id);
    if (this.#jobs.size > 0) return;
    const idle = this.#idle;
    this.#idle = [];
    for (const resolve of idle) resolve();
  }

  #open(): void {
    if (this.#closed) throw new Error('the recording uploader is closed');
  }

  #schedule(id: string, delayMs: number): void {
    if (this.#closed) return;
    const job = this.#jobs.get(id) ?? { attempts: 0 };
    if (job.running || job.timer) {
      this.#jobs.set(id, job);
      return;
    }
    this.#jobs.set(id, job);
    this.#attemptAfter(id, job, delayMs);
  }

  /** The job's one timer: its next attempt, `delayMs` from now. */
  #attemptAfter(id: string, job: Job, delayMs: number): void {
    job.timer = setTimeout(() => {
      job.timer = undefined;
      job.running = this.#attempt(id, job).finally(() => {
        job.running = undefined;
      });
    }, delayMs);
  }

  async #attempt(id: string, job: Job): Promise<void> {
    job.attempts += 1;
    try {
      await this.#process(id);
      this.#forget(id);
    } catch (err) {
      if (this.#closed) return;
      if (err instanceof RecordingRefused) {
        this.#forget(id);
        this.o.logger.error({ recordingId: id, err: err.message }, 'recording refused for upload (kept on disk)');
        this.o.onFailed?.(id, err, undefined);
        return;
      }
      const retryInMs = Math.min(this.#retryMaxMs, this.#retryBaseMs * 2 ** (job.attempts - 1));
      this.o.logger.warn(
        { recordingId: id, attempt: job.attempts, retryInMs, err: (err as Error).message },
        'recording upload failed; the files stay on disk and it is tried again later',
      );
      this.o.onFailed?.(id, err, retryInMs);
      this.#attemptAfter(id, job, retryInMs);
    }
  }

  /** One pass over a recording: upload what is still local, then report and forget it. */
  async #process(id: string): Promise<void> {
    const found = await this.#readSidecar(id);
    if (!found) return; // taken care of meanwhile (another pass finished it, or an operator removed it)
    let report = found;
    for (let i = 0; i < report.files.length; i += 1) {
      if (this.#closed) throw new Error('closed');
      const file = report.files[i]!;
      const key = this.#objectKey(id, file);
      if (file.storage === 's3') {
        if (file.key !== key) throw new RecordingRefused(`file ${file.name} names object ${file.key}, not ${key}`);
        continue;
      }
      const bytes = await this.#upload(id, file, key);
      const files = report.files.map((f, j) => (j === i ? { ...f, storage: 's3' as const, key, bytes } : f));
      report = { ...report, files };
      await this.#writeSidecar(report);
    }
    await this.o.onUploaded(report);
    await rm(this.#sidecarPath(id), { force: true });
    this.o.logger.info({ recordingId: id, files: report.files.length }, 'recording uploaded');
  }

  /** Upload one local file, confirmed, then delete it; resolves with the object's size. */
  async #upload(id: string, file: RecordingFile, key: string): Promise<number> {
    const path = this.#localPath(file.key);
    const info = await lstat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!info) {
      // Gone from the disk: a run that stopped between deleting it and writing the sidecar. Only
      // the object, confirmed with the file's size, makes that true.
      const head = await this.o.store.head(key);
      if (head && head.bytes === file.bytes) return head.bytes;
      throw new Error(`${file.key} of recording ${id} is not on disk and not in the bucket`);
    }
    if (!info.isFile()) throw new RecordingRefused(`${file.key} of recording ${id} is not a regular file`);
    if (info.size !== file.bytes) {
      throw new Error(`${file.key} of recording ${id} has ${info.size} bytes, its report says ${file.bytes}`);
    }
    const result = await this.#limit.run(() => this.o.store.uploadFile(path, key, file.contentType));
    await rm(path);
    this.o.logger.info(
      { recordingId: id, key, bytes: result.bytes, attempts: result.attempts },
      'recording file uploaded',
    );
    return result.bytes;
  }

  #objectKey(id: string, file: RecordingFile): string {
    const key = `${this.#prefix}/${id}/${file.name}`;
    if (!isSafeObjectKey(key)) throw new RecordingRefused(`file name ${JSON.stringify(file.name)} is not allowed`);
    return key;
  }

  /** A local key as a file right in the directory (the recorder's layout): one plain name, no `/`, no `..`. */
  #localPath(key: string): string {
    const path = resolve(this.#dir, key);
    if (!isSafeObjectKey(key) || key.includes('/') || dirname(path) !== this.#dir) {
      throw new RecordingRefused(`local key ${JSON.stringify(key)} is not a file of the recordings directory`);
    }
    return path;
  }

  #sidecarPath(id: string): string {
    if (!RecordingId.safeParse(id).success) throw new RecordingRefused(`bad recording id ${JSON.stringify(id)}`);
    return join(this.#dir, `${id}.json`);
  }

  async #readSidecar(id: string): Promise<RecordingReport | undefined> {
    const path = this.#sidecarPath(id);
    const info = await lstat(path).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return undefined;
      throw err;
    });
    if (!info) return undefined;
    if (!info.isFile() || info.size > MAX_SIDECAR_BYTES) {
      throw new RecordingRefused(`${id}.json is not a regular file of at most ${MAX_SIDECAR_BYTES} bytes`);
    }
    let parsed: ReturnType<typeof RecordingReport.safeParse>;
    try {
      parsed = RecordingReport.safeParse(JSON.parse(await readFile(path, 'utf8')));
    } catch {
      throw new RecordingRefused(`${id}.json is not JSON`);
    }
    if (!parsed.success) throw new RecordingRefused(`${id}.json is not a recording report`);
    if (parsed.data.id !== id) throw new RecordingRefused(`${id}.json is the report of ${parsed.data.id}`);
    if (parsed.data.status !== 'ready') throw new RecordingRefused(`recording ${id} is ${parsed.data.status}`);
    return parsed.data;
  }

  /** Written whole or not at all: a temporary file renamed over the sidecar. */
  async #writeSidecar(report: RecordingReport): Promise<void> {
    const path = this.#sidecarPath(report.id);
    await writeFile(`${path}.tmp`, JSON.stringify(report));
    await rename(`${path}.tmp`, path);
  }
}
