import { describe, expect, it } from 'vitest';
import { adapterVariants } from '../realtime/test-redis.js';
import { RedisSessionRevocations } from './redis-session-revocations.js';
import { MemorySessionRevocations, type SessionRevocations } from './session-revocations.js';

const variants = adapterVariants<SessionRevocations>(
  () => new MemorySessionRevocations(),
  (redis, prefix) => new RedisSessionRevocations(redis, prefix),
);

describe.each(variants)('SessionRevocations contract on $name', (variant) => {
  it('remembers a revoked session for the time given, and no other', async () => {
    const { adapter: revocations, close } = await variant.open();
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
