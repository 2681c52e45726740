import { describe, expect, it } from 'vitest';
import { type BreakerState, CircuitBreaker } from './circuit-breaker.js';

describe('CircuitBreaker', () => {
  it('opens after the threshold, refuses during the cool-down, lets one trial through, closes on success', () => {
    let now = 0;
    const changes: BreakerState[] = [];
    const b = new CircuitBreaker({
      failureThreshold: 3,
      cooldownMs: 1000,
      now: () => now,
      onChange: (s) => changes.push(s),
    });
    b.failure();
    b.failure();
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    expect(b.allow()).toBe(false);
    now = 999;
    expect(b.allow()).toBe(false);
    now = 1000;
    expect(b.state).toBe('half-open');
    expect(b.allow()).toBe(true);
    expect(b.allow()).toBe(false);
    b.success();
    expect(b.state).toBe('closed');
    expect(b.allow()).toBe(true);
    expect(changes).toEqual(['open', 'half-open', 'closed']);
  });

  it('a failed trial opens it again for a whole cool-down', () => {
    let now = 0;
    const b = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 100, now: () => now });
    b.failure();
    now = 150;
    expect(b.allow()).toBe(true);
    b.failure();
    expect(b.state).toBe('open');
    now = 200;
    expect(b.allow()).toBe(false);
    now = 250;
    expect(b.allow()).toBe(true);
  });

  it('a success resets the count of failures', () => {
    const b = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 100 });
    b.failure();
    b.success();
    b.failure();
    expect(b.state).toBe('closed');
  });
});
