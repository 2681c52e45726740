import type { SfuNodeReport } from '@fusionflow/protocol';
import type { Redis } from 'ioredis';
import {
  type MediaDirectory,
  type MediaDirectoryOptions,
  type MediaNodeEntry,
  retentionOf,
} from './media-directory.js';

/**
 * The media directory on Redis, shared by every control-plane process. Each node is one key
 * (`<prefix>media:node:<id>`, its report and when it arrived, expiring after the retention) and a
 * member of a sorted set by last report (`<prefix>media:nodes`); origins are one hash
 * (`<prefix>media:origins`, room → node). Every write is one command or one MULTI: nothing here
 * needs more than Redis' own atomicity, and there is no election or consensus of our own.
 */
export class RedisMediaDirectory implements MediaDirectory {
  readonly #now: () => number;
  readonly #retentionMs: number;
  readonly #index: string;
  readonly #origins: string;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly o: MediaDirectoryOptions,
  ) {
    this.#now = o.now ?? Date.now;
    this.#retentionMs = retentionOf(o);
    this.#index = `${prefix}media:nodes`;
    this.#origins = `${prefix}media:origins`;
  }

  #key(nodeId: string): string {
    return `${this.prefix}media:node:${nodeId}`;
  }

  async upsert(report: SfuNodeReport): Promise<void> {
    const now = this.#now();
    await this.redis
      .multi()
      .set(this.#key(report.nodeId), JSON.stringify({ report, lastSeenMs: now }), 'PX', this.#retentionMs)
      .zadd(this.#index, now, report.nodeId)
      .exec();
  }

  async nodes(): Promise<MediaNodeEntry[]> {
    await this.expire();
    const ids = await this.redis.zrange(this.#index, 0, -1);
    if (ids.length === 0) return [];
    const raws = await this.redis.mget(ids.map((id) => this.#key(id)));
    return raws
      .flatMap((raw) => (raw ? [this.#entry(raw)] : []))
      .sort((a, b) => (a.report.nodeId < b.report.nodeId ? -1 : 1));
  }

  async node(nodeId: string): Promise<MediaNodeEntry | undefined> {
    const raw = await this.redis.get(this.#key(nodeId));
    if (!raw) return undefined;
    const entry = this.#entry(raw);
    return this.#now() - entry.lastSeenMs > this.#retentionMs ? undefined : entry;
  }

  async origin(roomId: string): Promise<string | undefined> {
    return (await this.redis.hget(this.#origins, roomId)) ?? undefined;
  }

  async setOrigin(roomId: string, nodeId: string): Promise<void> {
    await this.redis.hset(this.#origins, roomId, nodeId);
  }

  async clearOrigin(roomId: string, onlyIf?: string): Promise<void> {
    if (onlyIf === undefined) {
      await this.redis.hdel(this.#origins, roomId);
      return;
    }
    // Compare-and-delete in one step: another process may have moved the origin meanwhile.
    await this.redis.eval(
      "if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end return 0",
      1,
      this.#origins,
      roomId,
      onlyIf,
    );
  }

  async origins(): Promise<{ roomId: string; nodeId: string }[]> {
    const all = await this.redis.hgetall(this.#origins);
    return Object.entries(all)
      .map(([roomId, nodeId]) => ({ roomId, nodeId }))
      .sort((a, b) => (a.roomId < b.roomId ? -1 : 1));
  }

  async expire(): Promise<string[]> {
    const cutoff = this.#now() - this.#retentionMs;
    const gone = await this.redis.zrangebyscore(this.#index, '-inf', `(${cutoff}`);
    if (gone.length === 0) return [];
    await this.redis
      .multi()
      .zrem(this.#index, ...gone)
      .del(...gone.map((id) => this.#key(id)))
      .exec();
    return gone;
  }

  #entry(raw: string): MediaNodeEntry {
    const { report, lastSeenMs } = JSON.parse(raw) as { report: SfuNodeReport; lastSeenMs: number };
    return { report, lastSeenMs, healthy: this.#now() - lastSeenMs <= this.o.ttlMs };
  }

  /** The Redis connection is the platform's (or the test's): closing the directory leaves it open. */
  async close(): Promise<void> {}
}
