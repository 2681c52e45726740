import { afterEach, describe, expect, it } from 'vitest';
import { LoginThrottle, type LoginThrottleOptions } from './login-throttle.js';

let now = 1_000_000;
const throttles: LoginThrottle[] = [];
const make = (o: Partial<LoginThrottleOptions> = {}) => {
  const t = new LoginThrottle({
    attemptsPerIpPerMinute: 1000,
    failuresPerAccountPerIp: 10,
    failuresPerIp: 1000,
    delayAfterFailures: 3,
    maxDelaySeconds: 8,
    now: () => now,
    ...o,
  });
  throttles.push(t);
  return t;
};
afterEach(() => {
  for (const t of throttles.splice(0)) t.close();
});

/** Try once and say how it went: 'ok' (then fail it) or the refusal's retry-after. */
const fail = (t: LoginThrottle, account: string, ip: string): 'ok' | number => {
  try {
    t.begin(account, ip).failed();
    return 'ok';
  } catch (err) {
    return (err as { details: { retryAfterSeconds: number } }).details.retryAfterSeconds;
  }
};

describe('LoginThrottle', () => {
  it('counts an attempt when it begins, so parallel attempts are held to the (account, address) limit', () => {
    const t = make({ delayAfterFailures: 1000 });
    const begun = [];
    for (let i = 0; i < 40; i++) {
      try {
        begun.push(t.begin('ana@example.com', '10.0.0.1'));
      } catch (err) {
        expect(err).toMatchObject({ code: 'rate_limited' });
      }
    }
    expect(begun).toHaveLength(10);
  });

  it('delays only the addresses that failed on an account, doubling up to the most, and never the owner', () => {
    const t = make();
    // Three free failures from three addresses.
    for (const ip of ['1.0.0.1', '1.0.0.2', '1.0.0.3']) expect(fail(t, 'ana', ip)).toBe('ok');
    // Past them, each failing address waits after its last try: 1 s, then 2, 4, 8, 8 …
    expect(fail(t, 'ana', '1.0.0.1')).toBe(1);
    now += 1000;
    expect(fail(t, 'ana', '1.0.0.1')).toBe('ok');
    expect(fail(t, 'ana', '1.0.0.1')).toBe(2);
    now += 2000;
    expect(fail(t, 'ana', '1.0.0.1')).toBe('ok');
    now += 10_000;
    expect(fail(t, 'ana', '1.0.0.2')).toBe('ok');
    expect(fail(t, 'ana', '1.0.0.2')).toBe(8);
    now += 8000;
    expect(fail(t, 'ana', '1.0.0.2')).toBe('ok');
    // 16 s would be next: held at the most, 8.
    expect(fail(t, 'ana', '1.0.0.2')).toBe(8);
    // An address whose wait is over (its last try was long ago) tries once more, then waits too.
    expect(fail(t, 'ana', '1.0.0.3')).toBe('ok');
    expect(fail(t, 'ana', '1.0.0.3')).toBe(8);
    // A new address (the owner at home) tries at once and gets in; its success forgets its record.
    const owner = t.begin('ana', '2.0.0.1');
    owner.succeeded();
    t.begin('ana', '2.0.0.1').succeeded();
    // Another account from a delayed address is not delayed.
    expect(fail(t, 'bob', '1.0.0.1')).toBe('ok');
  });

  it('limits failures per address across accounts, and attempts per address per minute', () => {
    const spray = make({ failuresPerIp: 5, delayAfterFailures: 1000 });
    for (let i = 0; i < 5; i++) expect(fail(spray, `user${i}`, '3.0.0.1')).toBe('ok');
    expect(fail(spray, 'user99', '3.0.0.1')).toBeGreaterThan(0);
    expect(fail(spray, 'user99', '3.0.0.2')).toBe('ok');

    const fast = make({ attemptsPerIpPerMinute: 2 });
    fast.begin('a', '4.0.0.1').succeeded();
    fast.begin('a', '4.0.0.1').succeeded();
    expect(() => fast.begin('a', '4.0.0.1')).toThrow(/too many login attempts from this address/);
  });

  it('does not count a cancelled attempt (a database failure, a busy hasher)', () => {
    const t = make({ failuresPerAccountPerIp: 2, delayAfterFailures: 1000 });
    for (let i = 0; i < 5; i++) t.begin('ana', '5.0.0.1').cancel();
    expect(fail(t, 'ana', '5.0.0.1')).toBe('ok');
    expect(fail(t, 'ana', '5.0.0.1')).toBe('ok');
    expect(fail(t, 'ana', '5.0.0.1')).toBeGreaterThan(0);
    // The window passes: the address may try again.
    now += 15 * 60_000;
    expect(fail(t, 'ana', '5.0.0.1')).toBe('ok');
  });
});
