import { describe, expect, it } from 'vitest';
import { ConcurrencyLimit } from './concurrency-limit.js';

const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
};

describe('ConcurrencyLimit', () => {
  it('runs at most `concurrency` jobs at once, the rest in order', async () => {
    const limit = new ConcurrencyLimit({ concurrency: 2, maxWaiting: 10, busyMessage: 'busy' });
    const gates = [0, 1, 2, 3].map(gate);
    const order: number[] = [];
    const jobs = gates.map((g, i) =>
      limit.run(async () => {
        order.push(i);
        await g.opened;
        return i;
      }),
    );
    await Promise.resolve();
    expect(limit.running).toBe(2);
    expect(limit.waiting).toBe(2);
    expect(order).toEqual([0, 1]);
    gates[1]!.open();
    await jobs[1];
    await new Promise((r) => setImmediate(r));
    expect(order).toEqual([0, 1, 2]);
    for (const g of gates) g.open();
    expect(await Promise.all(jobs)).toEqual([0, 1, 2, 3]);
    expect(limit.peak).toBe(2);
    expect(limit.running).toBe(0);
  });

  it('refuses a job past the queue with a coded unavailable error, and frees the slot of a failed job', async () => {
    const limit = new ConcurrencyLimit({
      concurrency: 1,
      maxWaiting: 1,
      busyMessage: 'too busy',
      retryAfterSeconds: 3,
    });
    const g = gate();
    const first = limit.run(() => g.opened);
    const second = limit.run(async () => 'second');
    await expect(limit.run(async () => 'third')).rejects.toMatchObject({
      code: 'unavailable',
      message: 'too busy',
      headers: { 'retry-after': '3' },
    });
    g.open();
    await first;
    expect(await second).toBe('second');
    await expect(limit.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(limit.running).toBe(0);
    expect(await limit.run(async () => 'after')).toBe('after');
  });
});
