import { afterEach, describe, expect, it } from 'vitest';
import { MemoryRateLimiter } from './rate-limiter.js';

describe('MemoryRateLimiter', () => {
  let t = 0;
  const limiter = new MemoryRateLimiter(3, 10_000, () => t);
  afterEach(() => limiter.close());

  it('allows up to the limit per window, then says when to retry', async () => {
    t = 1_000;
    for (let i = 0; i < 3; i++) expect((await limiter.hit('a')).allowed).toBe(true);
    const over = await limiter.hit('a');
    expect(over).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 10 });
    expect(await limiter.peek('a')).toMatchObject({ allowed: false, retryAfterSeconds: 10 });
    expect((await limiter.hit('b')).allowed).toBe(true);
    t = 11_000;
    expect((await limiter.hit('a')).allowed).toBe(true);
  });

  it('peek refuses once the limit is reached exactly, with a retry time', async () => {
    t = 30_000;
    for (let i = 0; i < 3; i++) await limiter.hit('exact');
    expect(await limiter.peek('exact')).toMatchObject({ allowed: false, remaining: 0, retryAfterSeconds: 10 });
  });

  it('peek does not count and reset forgets the key', async () => {
    t = 50_000;
    await limiter.peek('c');
    await limiter.peek('c');
    expect((await limiter.hit('c')).remaining).toBe(2);
    await limiter.reset('c');
    expect((await limiter.hit('c')).remaining).toBe(2);
  });

  it('counts and refunds hits within the window, never below zero', async () => {
    t = 70_000;
    expect(limiter.count('r')).toBe(0);
    limiter.hitSync('r');
    limiter.hitSync('r');
    expect(limiter.count('r')).toBe(2);
    limiter.refund('r');
    expect(limiter.count('r')).toBe(1);
    limiter.refund('r', 5);
    expect(limiter.count('r')).toBe(0);
    limiter.hitSync('r');
    t = 81_000;
    expect(limiter.count('r')).toBe(0);
    limiter.refund('r');
    expect((await limiter.hit('r')).remaining).toBe(2);
  });
});
