import { AppError, createLogger } from '@fusionflow/kit';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { NodeDrain } from './node-drain.js';

const logger = createLogger({ level: 'silent', name: 'test' });

describe('NodeDrain', () => {
  let sessions = 0;
  let drain: NodeDrain;
  const ends: string[] = [];
  beforeEach(() => {
    vi.useFakeTimers();
    sessions = 2;
    ends.length = 0;
    drain = new NodeDrain({ sessions: () => sessions, retryAfterSeconds: 7, pollMs: 100, logger });
    drain.on('done', (end) => {
      ends.push(end);
    });
  });
  afterEach(() => {
    drain.close();
    vi.useRealTimers();
  });

  it('takes sessions until drained, then refuses them with 503 sfu_draining and Retry-After', () => {
    expect(() => drain.refuseIfDraining()).not.toThrow();
    expect(drain.start()).toEqual({ draining: true, sessions: 2, deadline: null });
    let refused: unknown;
    try {
      drain.refuseIfDraining();
    } catch (err) {
      refused = err;
    }
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).code).toBe('sfu_draining');
    expect((refused as AppError).status).toBe(503);
    expect((refused as AppError).headers).toEqual({ 'retry-after': '7' });
  });

  it('is done once, when the last session ends', async () => {
    drain.start();
    await vi.advanceTimersByTimeAsync(1000);
    expect(ends).toEqual([]);
    sessions = 0;
    await vi.advanceTimersByTimeAsync(100);
    await vi.advanceTimersByTimeAsync(1000);
    expect(ends).toEqual(['empty']);
  });

  it('is done at its deadline with sessions left; a second drain brings the deadline closer, never further', async () => {
    drain.start(60);
    drain.start(600);
    await vi.advanceTimersByTimeAsync(59_000);
    expect(ends).toEqual([]);
    drain.start(10);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ends).toEqual(['deadline']);
    sessions = 0;
    await vi.advanceTimersByTimeAsync(1000);
    expect(ends).toEqual(['deadline']);
  });

  it('does nothing once closed', async () => {
    drain.start(5);
    drain.close();
    sessions = 0;
    await vi.advanceTimersByTimeAsync(10_000);
    expect(ends).toEqual([]);
  });
});
