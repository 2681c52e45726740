import type { Redis } from 'ioredis';
import type { SessionRevocations } from './session-revocations.js';

/**
 * Revocations shared by every control-plane process on one Redis: one key per revoked session that
 * expires on its own when the session's last access token would have (`SET … EX`).
 */
export class RedisSessionRevocations implements SessionRevocations {
  /** `redis` stays the caller's to close; `prefix` namespaces every key. */
  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
  ) {}

  #key(sessionId: string): string {
    return `${this.prefix}revoked-session:${sessionId}`;
  }

  async revoke(sessionId: string, forSeconds: number): Promise<void> {
    await this.redis.set(this.#key(sessionId), '1', 'EX', Math.max(1, Math.ceil(forSeconds)));
  }

  async isRevoked(sessionId: string): Promise<boolean> {
    return (await this.redis.exists(this.#key(sessionId))) === 1;
  }

  async close(): Promise<void> {}
}
