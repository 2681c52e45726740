/** How a client waits between attempts to reconnect. */
export interface BackoffOptions {
  /** The first wait, before jitter (default 500 ms). */
  initialMs?: number;
  /** The longest wait, before jitter (default 10 s). */
  maxMs?: number;
  /** Each failed attempt in a row multiplies the wait by this (default 2). */
  factor?: number;
  /** Share of the wait drawn at random, 0–1 (default 0.5), so clients refused together do not return together. */
  jitter?: number;
}

/**
 * The wait before attempt `attempt + 1` after `attempt` failures in a row (0: the first retry): exponential,
 * capped, with the top `jitter` share drawn at random. When the server said when to come back (`Retry-After`),
 * never sooner than that, spread over up to `jitter` more of it.
 */
export function backoffDelay(
  attempt: number,
  o: BackoffOptions = {},
  random: () => number = Math.random,
  retryAfterMs?: number,
): number {
  const { initialMs = 500, maxMs = 10_000, factor = 2, jitter = 0.5 } = o;
  const share = Math.min(1, Math.max(0, jitter));
  const exponential = Math.min(maxMs, initialMs * factor ** Math.max(0, Math.floor(attempt)));
  const wait = exponential * (1 - share * random());
  if (retryAfterMs === undefined || !(retryAfterMs > 0)) return Math.round(wait);
  return Math.round(Math.max(wait, retryAfterMs * (1 + share * random())));
}
