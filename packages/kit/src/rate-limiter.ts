/**
 * Counting rate limits in fixed windows: at most `limit` hits per key per `windowMs`.
 * The interface is async so that a shared (Redis) implementation can stand in for the local one.
 */
export interface RateLimiter {
  /** Count one hit; `allowed` is false once the key is over its limit for this window. */
  hit(key: string, cost?: number): Promise<RateLimitResult>;
  /** Whether the key is already at its limit, without counting. */
  peek(key: string): Promise<RateLimitResult>;
  reset(key: string): Promise<void>;
  close(): void;
}

export interface RateLimitResult {
  allowed: boolean;
  remaining: number;
  /** Seconds until the window resets (at least 1 when not allowed). */
  retryAfterSeconds: number;
}

interface Window {
  count: number;
  resetAt: number;
}

/** In-process limiter. Expired windows are swept every window length; close() stops the sweep. */
export class MemoryRateLimiter implements RateLimiter {
  readonly #windows = new Map<string, Window>();
  readonly #sweep: NodeJS.Timeout;

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.#sweep = setInterval(() => this.#removeExpired(), Math.max(windowMs, 1000));
    this.#sweep.unref();
  }

  /** Synchronous form for hot paths (per-socket limits); same semantics as hit(). */
  hitSync(key: string, cost = 1): RateLimitResult {
    const now = this.now();
    let w = this.#windows.get(key);
    if (!w || w.resetAt <= now) {
      w = { count: 0, resetAt: now + this.windowMs };
      this.#windows.set(key, w);
    }
    w.count += cost;
    return this.#result(w, now);
  }

  async hit(key: string, cost = 1): Promise<RateLimitResult> {
    return this.hitSync(key, cost);
  }

  async peek(key: string): Promise<RateLimitResult> {
    return this.peekSync(key);
  }

  /** Synchronous form of peek(). */
  peekSync(key: string): RateLimitResult {
    const now = this.now();
    const w = this.#windows.get(key);
    if (!w || w.resetAt <= now) return { allowed: true, remaining: this.limit, retryAfterSeconds: 0 };
    const allowed = w.count < this.limit;
    return {
      allowed,
      remaining: Math.max(0, this.limit - w.count),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((w.resetAt - now) / 1000)),
    };
  }

  async reset(key: string): Promise<void> {
    this.#windows.delete(key);
  }

  /** Hits counted for the key in its current window (0 when it has none). */
  count(key: string): number {
    const w = this.#windows.get(key);
    return w && w.resetAt > this.now() ? w.count : 0;
  }

  /** Give back hits counted earlier in this window (a reservation that turned out not to count); never below 0. */
  refund(key: string, cost = 1): void {
    const w = this.#windows.get(key);
    if (w && w.resetAt > this.now()) w.count = Math.max(0, w.count - cost);
  }

  get size(): number {
    return this.#windows.size;
  }

  close(): void {
    clearInterval(this.#sweep);
    this.#windows.clear();
  }

  #result(w: Window, now: number): RateLimitResult {
    const allowed = w.count <= this.limit;
    return {
      allowed,
      remaining: Math.max(0, this.limit - w.count),
      retryAfterSeconds: allowed ? 0 : Math.max(1, Math.ceil((w.resetAt - now) / 1000)),
    };
  }

  #removeExpired(): void {
    const now = this.now();
    for (const [key, w] of this.#windows) if (w.resetAt <= now) this.#windows.delete(key);
  }
}
