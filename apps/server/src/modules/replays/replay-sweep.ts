import type { Logger } from '@fusionflow/kit';
import type { ReplayService } from './replay-service.js';

/** How often the sweep runs (retention is counted in days; a failed delete waits at most this long). */
export const REPLAY_SWEEP_INTERVAL_MS = 10 * 60_000;

/**
 * The replays module's periodic job: deletes recordings older than RECORDING_RETENTION_DAYS (files
 * and objects) and retries deletes that failed. Started with the platform, stopped with it; one
 * run at a time.
 */
export class ReplaySweep {
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<unknown> | undefined;
  #closed = false;

  constructor(private readonly o: { replays: ReplayService; intervalMs?: number; logger: Logger }) {}

  /** Sweep now and every interval. Idempotent. */
  start(): void {
    if (this.#timer || this.#closed) return;
    void this.tick();
    this.#timer = setInterval(() => void this.tick(), this.o.intervalMs ?? REPLAY_SWEEP_INTERVAL_MS);
    this.#timer.unref();
  }

  /** One sweep, unless one is under way (then that one); never rejects. */
  tick(): Promise<unknown> {
    if (this.#closed) return Promise.resolve();
    this.#running ??= this.o.replays
      .sweep()
      .then((result) => {
        if (result.pending > 0) this.o.logger.warn(result, 'some deleted replays still have files; retried later');
        return result;
      })
      .catch((err: unknown) => this.o.logger.warn({ err }, 'the replay sweep could not run'))
      .finally(() => {
        this.#running = undefined;
      });
    return this.#running;
  }

  /** Stop the timer and wait for a sweep under way. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }
}
