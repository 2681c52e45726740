import { constants } from 'node:fs';
import { type FileHandle, lstat, open, rm } from 'node:fs/promises';
import { resolve, sep } from 'node:path';
import { isSafeObjectKey, type Logger, type ObjectStore } from '@fusionflow/kit';
import type { RecordingFile } from '@fusionflow/protocol';

export interface RecordingFilesOptions {
  /** RECORDINGS_DIR: where the SFU writes local files (this process must be able to read it). */
  dir: string;
  /** The recordings' bucket, when S3 is configured. */
  store?: ObjectStore | undefined;
  logger: Logger;
}

/** A local file of a recording as it is on disk now. */
export interface LocalRecordingFile {
  path: string;
  bytes: number;
}

/**
 * The files of recordings where they are: local ones under the recordings directory (keys
 * relative to it), the others in the S3 bucket. Keys come from the SFU's reports; a key that could
 * leave the directory, or a file that is not a regular file (a symlink), is never read or removed.
 */
export class RecordingFiles {
  readonly #dir: string;

  constructor(private readonly o: RecordingFilesOptions) {
    this.#dir = resolve(o.dir);
  }

  get store(): ObjectStore | undefined {
    return this.o.store;
  }

  /** The file's path under the recordings directory, or undefined for a key that would leave it. */
  localPath(key: string): string | undefined {
    if (!isSafeObjectKey(key)) return undefined;
    const path = resolve(this.#dir, key);
    return path.startsWith(this.#dir + sep) ? path : undefined;
  }

  /** A local file that is there now as a regular file, else undefined. */
  async openable(file: RecordingFile): Promise<LocalRecordingFile | undefined> {
    if (file.storage !== 'local') return undefined;
    const path = this.localPath(file.key);
    if (!path) return undefined;
    try {
      const info = await lstat(path);
      return info.isFile() ? { path, bytes: info.size } : undefined;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /**
   * Open a local file for reading (not through a symlink, regular files only), or undefined when
   * it is not there. The caller closes the handle (a read stream of it closes it when done).
   */
  async open(file: RecordingFile): Promise<{ handle: FileHandle; bytes: number } | undefined> {
    if (file.storage !== 'local') return undefined;
    const path = this.localPath(file.key);
    if (!path) return undefined;
    let handle: FileHandle;
    try {
      handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ELOOP' || code === 'EISDIR') return undefined;
      throw err;
    }
    const info = await handle.stat().catch(async (err: unknown) => {
      await handle.close();
      throw err;
    });
    if (!info.isFile()) {
      await handle.close();
      return undefined;
    }
    return { handle, bytes: info.size };
  }

  /**
   * Remove the files (a missing one counts as removed) and answer those that could not be:
   * the S3 store unreachable or not configured, a disk error. Never throws; failures are logged.
   */
  async remove(recordingId: string, files: RecordingFile[]): Promise<RecordingFile[]> {
    const left: RecordingFile[] = [];
    for (const file of files) {
      try {
        if (file.storage === 's3') {
          if (!this.o.store) throw new Error('S3 is not configured (S3_BUCKET), so the object cannot be deleted');
          await this.o.store.delete(file.key);
        } else {
          const path = this.localPath(file.key);
          // A key out of the directory was never written by the SFU: nothing of ours to remove.
          if (path) await rm(path, { force: true });
          else
            this.o.logger.warn(
              { recordingId, key: file.key },
              'recording file key leaves the recordings dir; not removed',
            );
        }
      } catch (err) {
        left.push(file);
        this.o.logger.warn(
          { recordingId, storage: file.storage, key: file.key, err: err instanceof Error ? err.message : String(err) },
          'could not delete a recording file; the retention sweep retries',
        );
      }
    }
    return left;
  }
}
