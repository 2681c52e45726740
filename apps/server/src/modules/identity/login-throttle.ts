import { MemoryRateLimiter, rateLimited } from '@fusionflow/kit';

const WINDOW_MS = 15 * 60_000;

export interface LoginThrottleOptions {
  /** Attempts per client address per minute. */
  attemptsPerIpPerMinute: number;
  /** Failures for one account from one address per 15 minutes. */
  failuresPerAccountPerIp: number;
  /** Failures from one address, any accounts, per 15 minutes. */
  failuresPerIp: number;
  /** Failures for one account, all addresses, per 15 minutes, before addresses that failed on it wait between tries. */
  delayAfterFailures: number;
  maxDelaySeconds: number;
  now?: () => number;
}

/** One login attempt that passed the throttle: say how it ended. */
export interface LoginAttempt {
  /** The password checked out: the attempt does not count as a failure, and this address's failures on the account are forgotten. */
  succeeded(): void;
  /** Wrong email or password (already counted). */
  failed(): void;
  /** Ended by something else (the database failed): not counted. */
  cancel(): void;
}

/**
 * Who may try a password now. Every attempt is counted before its password is checked, as a failure
 * until it checks out, so a burst of parallel attempts is held to the limits (not just the ones that
 * finished first). Failures are counted per (account, address) and per address, never per account
 * alone: a stranger hammering an account from elsewhere cannot lock its owner out. Across addresses,
 * an account's failures only slow down the addresses that failed on it: past `delayAfterFailures`,
 * each of them waits 1 s, then 2, 4, … (at most `maxDelaySeconds`) after its last try; an address
 * that has not failed on the account (the owner's own) is not delayed.
 *
 * Counts are kept in this process (several processes each count their own).
 */
export class LoginThrottle {
  readonly #attemptsPerIp: MemoryRateLimiter;
  readonly #failuresPerIp: MemoryRateLimiter;
  readonly #failuresPerPair: MemoryRateLimiter;
  readonly #failuresPerAccount: MemoryRateLimiter;
  /** When each (account, address) last tried, while it has failures in the window. */
  readonly #lastTry = new Map<string, number>();
  readonly #sweep: NodeJS.Timeout;
  readonly #now: () => number;

  constructor(private readonly o: LoginThrottleOptions) {
    this.#now = o.now ?? Date.now;
    this.#attemptsPerIp = new MemoryRateLimiter(o.attemptsPerIpPerMinute, 60_000, this.#now);
    this.#failuresPerIp = new MemoryRateLimiter(o.failuresPerIp, WINDOW_MS, this.#now);
    this.#failuresPerPair = new MemoryRateLimiter(o.failuresPerAccountPerIp, WINDOW_MS, this.#now);
    this.#failuresPerAccount = new MemoryRateLimiter(o.delayAfterFailures, WINDOW_MS, this.#now);
    this.#sweep = setInterval(() => {
      for (const [pair, at] of this.#lastTry) if (at + WINDOW_MS <= this.#now()) this.#lastTry.delete(pair);
    }, 60_000);
    this.#sweep.unref();
  }

  /** Count an attempt (synchronously, so parallel ones see each other) or throw `rate_limited`. */
  begin(account: string, ip: string): LoginAttempt {
    const perIp = this.#attemptsPerIp.hitSync(ip);
    if (!perIp.allowed) throw rateLimited(perIp.retryAfterSeconds, 'too many login attempts from this address');
    const ipFailures = this.#failuresPerIp.peekSync(ip);
    if (!ipFailures.allowed) {
      throw rateLimited(ipFailures.retryAfterSeconds, 'too many failed logins from this address; try again later');
    }
    const pair = `${account}\n${ip}`;
    const pairFailures = this.#failuresPerPair.peekSync(pair);
    if (!pairFailures.allowed) {
      throw rateLimited(
        pairFailures.retryAfterSeconds,
        'too many failed logins for this account from this address; try again later',
      );
    }
    const wait = this.#waitMs(account, pair);
    if (wait > 0) {
      throw rateLimited(Math.ceil(wait / 1000), 'too many failed logins for this account; wait before trying again');
    }
    // Counted as a failure until the password checks out.
    this.#failuresPerIp.hitSync(ip);
    this.#failuresPerPair.hitSync(pair);
    this.#failuresPerAccount.hitSync(account);
    const previousTry = this.#lastTry.get(pair);
    this.#lastTry.set(pair, this.#now());
    let settled = false;
    const refund = () => {
      this.#failuresPerIp.refund(ip);
      this.#failuresPerPair.refund(pair);
      this.#failuresPerAccount.refund(account);
    };
    return {
      succeeded: () => {
        if (settled) return;
        settled = true;
        refund();
        void this.#failuresPerPair.reset(pair);
        this.#lastTry.delete(pair);
      },
      failed: () => {
        settled = true;
      },
      cancel: () => {
        if (settled) return;
        settled = true;
        refund();
        if (previousTry === undefined) this.#lastTry.delete(pair);
        else this.#lastTry.set(pair, previousTry);
      },
    };
  }

  close(): void {
    clearInterval(this.#sweep);
    this.#lastTry.clear();
    for (const l of [this.#attemptsPerIp, this.#failuresPerIp, this.#failuresPerPair, this.#failuresPerAccount]) {
      l.close();
    }
  }

  /** How long this (account, address) must still wait: 0 unless it tried before and the account is over its free failures. */
  #waitMs(account: string, pair: string): number {
    const last = this.#lastTry.get(pair);
    if (last === undefined) return 0;
    const over = this.#failuresPerAccount.count(account) - this.o.delayAfterFailures;
    if (over < 0) return 0;
    const delayMs = Math.min(this.o.maxDelaySeconds, 2 ** Math.min(over, 30)) * 1000;
    return Math.max(0, last + delayMs - this.#now());
  }
}
