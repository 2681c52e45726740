import { ErrorCode } from '@fusionflow/protocol';
import { AppError } from './errors.js';

export interface ConcurrencyLimitOptions {
  /** Jobs running at once. */
  concurrency: number;
  /** Jobs that may wait for a slot; one more is refused at once. */
  maxWaiting: number;
  /** What a refused job is told (an `unavailable` error with `retry-after`). */
  busyMessage: string;
  retryAfterSeconds?: number;
}

/**
 * At most `concurrency` jobs at once, in the order they came, with a bounded queue: a job past the
 * queue is refused with a coded `unavailable` error instead of waiting without end. Lets one kind of
 * expensive work (a flood of sign-ups hashing passwords) keep to its share of the machine.
 */
export class ConcurrencyLimit {
  readonly #waiting: (() => void)[] = [];
  #running = 0;
  /** Most jobs that ran at once since creation (diagnostics and tests). */
  peak = 0;

  constructor(private readonly o: ConcurrencyLimitOptions) {}

  get running(): number {
    return this.#running;
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.#running >= this.o.concurrency) {
      if (this.#waiting.length >= this.o.maxWaiting) {
        const retry = this.o.retryAfterSeconds ?? 1;
        throw new AppError(
          ErrorCode.Unavailable,
          this.o.busyMessage,
          { retryAfterSeconds: retry },
          { 'retry-after': String(retry) },
        );
      }
      // The finishing job hands its slot straight to this one (#running stays the same).
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
    } else {
      this.#running += 1;
    }
    this.peak = Math.max(this.peak, this.#running);
    try {
      return await job();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#running -= 1;
    }
  }
}
