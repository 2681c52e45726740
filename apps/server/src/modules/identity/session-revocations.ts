/**
 * Sessions that were signed out, remembered only as long as an access token of theirs can still be
 * valid (the access-token lifetime). The auth guard and the real-time handshake ask it about every
 * token; a revoked session's tokens are refused with `session_ended`.
 * In memory for one process; Redis (redis-session-revocations.ts) when several share the load.
 */
export interface SessionRevocations {
  /** Refuse this session's access tokens for the next `forSeconds`. */
  revoke(sessionId: string, forSeconds: number): Promise<void>;
  isRevoked(sessionId: string): Promise<boolean>;
  close(): Promise<void>;
}

/** One process's revocations; expired entries are swept every minute. */
export class MemorySessionRevocations implements SessionRevocations {
  readonly #until = new Map<string, number>();
  readonly #sweep: NodeJS.Timeout;

  constructor(private readonly now: () => number = Date.now) {
    this.#sweep = setInterval(() => {
      const t = this.now();
      for (const [id, until] of this.#until) if (until <= t) this.#until.delete(id);
    }, 60_000);
    this.#sweep.unref();
  }

  async revoke(sessionId: string, forSeconds: number): Promise<void> {
    const until = this.now() + forSeconds * 1000;
    this.#until.set(sessionId, Math.max(until, this.#until.get(sessionId) ?? 0));
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    const until = this.#until.get(sessionId);
    return until !== undefined && until > this.now();
  }

  /** Entries held (expired ones until the next sweep). */
  get size(): number {
    return this.#until.size;
  }

  async close(): Promise<void> {
    clearInterval(this.#sweep);
    this.#until.clear();
  }
}
