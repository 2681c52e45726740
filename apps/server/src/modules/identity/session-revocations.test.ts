import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { deleteRedisPrefix, testRedisUrl, uniqueRedisPrefix } from '../realtime/test-redis.js';
import { RedisSessionRevocations } from './redis-session-revocations.js';
import { MemorySessionRevocations, type SessionRevocations } from './session-revocations.js';

interface Variant {
  name: string;
  open(): Promise<{ revocations: SessionRevocations; close(): Promise<void> }>;
}

const variants: Variant[] = [
  {
    name: 'memory',
    open: async () => {
      const revocations = new MemorySessionRevocations();
      return { revocations, close: () => revocations.close() };
    },
  },
];
const redisUrl = testRedisUrl();
if (redisUrl) {
  variants.push({
    name: 'redis',
    open: async () => {
      const prefix = uniqueRedisPrefix();
      const redis = new Redis(redisUrl);
      const revocations = new RedisSessionRevocations(redis, prefix);
      return {
        revocations,
        close: async () => {
          await revocations.close();
          await deleteRedisPrefix(redisUrl, prefix);
          await redis.quit();
        },
      };
    },
  });
}

describe.each(variants)('SessionRevocations contract on $name', (variant) => {
  it('remembers a revoked session for the time given, and no other', async () => {
    const { revocations, close } = await variant.open();
    try {
      expect(await revocations.isRevoked('s1')).toBe(false);
      await revocations.revoke('s1', 1);
      await revocations.revoke('s2', 60);
      expect(await revocations.isRevoked('s1')).toBe(true);
      expect(await revocations.isRevoked('s3')).toBe(false);
      // Entries last only as long as a token of the session can (here: a second).
      await expect.poll(() => revocations.isRevoked('s1'), { timeout: 4000, interval: 100 }).toBe(false);
      expect(await revocations.isRevoked('s2')).toBe(true);
    } finally {
      await close();
    }
  });
});
