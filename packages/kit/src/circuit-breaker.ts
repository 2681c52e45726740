/** closed: calls go through; open: calls are refused until the cool-down ends; half-open: one trial call. */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakerOptions {
  /** Consecutive failures that open the breaker. */
  failureThreshold: number;
  /** How long an open breaker refuses calls before it lets one trial through. */
  cooldownMs: number;
  now?: () => number;
  /** Told on every change of state. */
  onChange?: (state: BreakerState) => void;
}

/**
 * Stops calling a dependency that keeps failing: after `failureThreshold` failures in a row it
 * opens and refuses calls for `cooldownMs`; then one trial call decides whether it closes again.
 * Written here rather than taken from a library: this is all the platform needs (callers own
 * their time limits), and it answers `allow()` synchronously on the chat's hot path.
 */
export class CircuitBreaker {
  #state: BreakerState = 'closed';
  #failures = 0;
  #openedAt = 0;
  #trialRunning = false;
  readonly #now: () => number;

  constructor(private readonly o: CircuitBreakerOptions) {
    this.#now = o.now ?? Date.now;
  }

  get state(): BreakerState {
    if (this.#state === 'open' && this.#now() - this.#openedAt >= this.o.cooldownMs) return 'half-open';
    return this.#state;
  }

  /** May a call go now? In half-open, only the first caller gets through (the trial). */
  allow(): boolean {
    const state = this.state;
    if (state === 'closed') return true;
    if (state === 'open' || this.#trialRunning) return false;
    this.#set('half-open');
    this.#trialRunning = true;
    return true;
  }

  success(): void {
    this.#failures = 0;
    this.#trialRunning = false;
    this.#set('closed');
  }

  failure(): void {
    this.#trialRunning = false;
    this.#failures += 1;
    if (this.#state === 'half-open' || this.#failures >= this.o.failureThreshold) {
      this.#openedAt = this.#now();
      this.#set('open');
    }
  }

  #set(state: BreakerState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.o.onChange?.(state);
  }
}
