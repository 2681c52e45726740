import type { Counter } from '@fusionflow/kit';

/**
 * Time spent in open sessions (a call participant, a viewer), added to a seconds counter: when a
 * session stops, and for those still open whenever the counter is scraped, so long calls show up
 * while they last. Keyed by a session id; stopping an unknown or stopped key does nothing.
 */
export class SessionSeconds<L extends string> {
  readonly #open = new Map<string, { since: number; labels: Partial<Record<L, string>> }>();

  constructor(
    private readonly counter: Counter<L>,
    private readonly now: () => number = Date.now,
  ) {}

  get open(): number {
    return this.#open.size;
  }

  start(key: string, labels: Partial<Record<L, string>>): void {
    if (!this.#open.has(key)) this.#open.set(key, { since: this.now(), labels });
  }

  stop(key: string): void {
    const s = this.#open.get(key);
    if (!s) return;
    this.#open.delete(key);
    this.counter.inc(s.labels, (this.now() - s.since) / 1000);
  }

  /** Count the time of the sessions still open up to now (call from the counter's collect). */
  flush(): void {
    const now = this.now();
    for (const s of this.#open.values()) {
      if (now > s.since) this.counter.inc(s.labels, (now - s.since) / 1000);
      s.since = now;
    }
  }

  /** Count what is open and forget it (the owner closes). */
  close(): void {
    for (const key of [...this.#open.keys()]) this.stop(key);
  }
}
