import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * Redis for tests: REDIS_URL when set (CI: redis://127.0.0.1:6379), else the Redis variants are
 * skipped — unless FF_REQUIRE_REDIS=1 (CI), which makes a missing REDIS_URL fail instead.
 * Each suite works under a key prefix of its own and deletes its keys afterwards.
 */
export function testRedisUrl(): string | undefined {
  const url = process.env.REDIS_URL;
  if (!url && process.env.FF_REQUIRE_REDIS === '1') throw new Error('FF_REQUIRE_REDIS=1 but REDIS_URL is not set');
  return url || undefined;
}

/** A key prefix no other test (or installation sharing the Redis) uses. */
export function uniqueRedisPrefix(): string {
  return `fftest:${randomBytes(6).toString('hex')}:`;
}

/** Delete every key under a prefix. */
export async function deleteRedisPrefix(url: string, prefix: string): Promise<void> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await redis.connect();
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) await redis.del(...keys);
    } while (cursor !== '0');
  } finally {
    redis.disconnect();
  }
}

/** One implementation of an adapter interface, for its contract suite. */
export interface AdapterVariant<T> {
  name: 'memory' | 'redis';
  open(): Promise<{ adapter: T; close(): Promise<void> }>;
}

/**
 * The variants a contract suite runs against: the in-memory implementation always, the Redis one
 * (on a Redis connection and key prefix of its own, deleted afterwards) when REDIS_URL is set.
 */
export function adapterVariants<T extends { close(): Promise<void> }>(
  memory: () => T,
  redis: (client: Redis, prefix: string) => T,
): AdapterVariant<T>[] {
  const variants: AdapterVariant<T>[] = [
    {
      name: 'memory',
      open: async () => {
        const adapter = memory();
        return { adapter, close: () => adapter.close() };
      },
    },
  ];
  const url = testRedisUrl();
  if (url) {
    variants.push({
      name: 'redis',
      open: async () => {
        const prefix = uniqueRedisPrefix();
        const client = new Redis(url);
        const adapter = redis(client, prefix);
        return {
          adapter,
          close: async () => {
            await adapter.close();
            await deleteRedisPrefix(url, prefix);
            await client.quit();
          },
        };
      },
    });
  }
  return variants;
}
