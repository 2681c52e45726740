import { AppError, type Counter, type Gauge } from '@fusionflow/kit';
import { ErrorCode } from '@fusionflow/protocol';

export interface ViewerBudgetOptions {
  /** Most WHEP sessions the SFU holds at once, over all rooms (0: no limit). */
  max: number;
  /** What a refused viewer is told to wait (`Retry-After`), in seconds. */
  retryAfterSeconds: number;
  /** Sessions held (gauge) and viewers refused (counter), when the SFU exports metrics. */
  metrics?: { inUse: Gauge; refused: Counter };
}

/**
 * The SFU's admission budget for viewers: overload is refused at the door (`503 sfu_full` with `Retry-After`)
 * instead of being suffered by the viewers already watching and by the publisher, whose ICE consent checks and
 * RTCP share the process's one event loop with every viewer. Publishers never count: WHIP does not ask.
 *
 * Rooms take a place synchronously when they create a subscriber session (nothing awaits between the check and
 * the session existing, so a parallel burst cannot overshoot) and give it back when the session closes.
 */
export class ViewerBudget {
  #inUse = 0;

  constructor(private readonly o: ViewerBudgetOptions) {
    o.metrics?.inUse.set(0);
  }

  get inUse(): number {
    return this.#inUse;
  }

  get max(): number {
    return this.o.max;
  }

  /**
   * Take a place for a new viewer, or throw `sfu_full`. A session that replaces another of the same grant (a
   * reload) is let in when full: the place it takes is given back a moment later by the session it replaces.
   */
  take(replacing = false): void {
    if (!replacing && this.o.max > 0 && this.#inUse >= this.o.max) {
      this.o.metrics?.refused.inc();
      throw new AppError(
        ErrorCode.SfuFull,
        'this media server has as many viewers as it can carry; try again shortly',
        { retryAfterSeconds: this.o.retryAfterSeconds },
        { 'retry-after': String(this.o.retryAfterSeconds) },
      );
    }
    this.#inUse++;
    this.o.metrics?.inUse.set(this.#inUse);
  }

  /** Give back the place of a viewer session that closed. */
  give(): void {
    this.#inUse = Math.max(0, this.#inUse - 1);
    this.o.metrics?.inUse.set(this.#inUse);
  }
}
