import { describe, expect, it } from 'vitest';
import { backoffDelay } from './reconnect-backoff.js';

describe('backoffDelay', () => {
  const top = () => 0; // no jitter drawn: the schedule's upper bound
  const bottom = () => 1; // all of it drawn: the lower bound

  it('doubles from 500 ms up to 10 s, jitter taking at most half', () => {
    expect([0, 1, 2, 3, 4, 5, 6, 10].map((a) => backoffDelay(a, {}, top))).toEqual([
      500, 1000, 2000, 4000, 8000, 10_000, 10_000, 10_000,
    ]);
    expect([0, 1, 2, 5].map((a) => backoffDelay(a, {}, bottom))).toEqual([250, 500, 1000, 5000]);
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(3, {}, Math.random);
      expect(d).toBeGreaterThanOrEqual(2000);
      expect(d).toBeLessThanOrEqual(4000);
    }
  });

  it('follows its options and clamps nonsense', () => {
    const o = { initialMs: 100, maxMs: 1000, factor: 3, jitter: 0 };
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, o, bottom))).toEqual([100, 300, 900, 1000]);
    expect(backoffDelay(-4, o)).toBe(100);
    expect(backoffDelay(0, { jitter: 7 }, bottom)).toBe(0);
  });

  it('waits at least what Retry-After says, spread over up to half as much again', () => {
    expect(backoffDelay(0, {}, top, 5000)).toBe(5000);
    expect(backoffDelay(0, {}, bottom, 5000)).toBe(7500);
    // The schedule wins when it is longer.
    expect(backoffDelay(6, {}, top, 1000)).toBe(10_000);
    expect(backoffDelay(0, {}, top, 0)).toBe(500);
    expect(backoffDelay(0, {}, top, Number.NaN)).toBe(500);
  });
});
