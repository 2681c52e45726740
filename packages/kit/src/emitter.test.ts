import { describe, expect, it } from 'vitest';
import { Emitter } from './emitter.js';

class Thing extends Emitter<{ tick: number; done: string }> {
  tick(n: number): void {
    this.emit('tick', n);
  }
  done(s: string): Promise<void> {
    return this.emitSerial('done', s);
  }
  clear(): void {
    this.removeAllListeners();
  }
}

describe('kit Emitter', () => {
  it('removes every listener, by the returned function or by off', () => {
    const t = new Thing(() => undefined);
    const seen: number[] = [];
    const a = (n: number) => {
      seen.push(n);
    };
    const offB = t.on('tick', (n) => {
      seen.push(n * 10);
    });
    t.on('tick', a);
    t.tick(1);
    offB();
    t.off('tick', a);
    t.tick(2);
    expect(seen).toEqual([10, 1]);
    expect(t.listenerCount('tick')).toBe(0);
  });

  it('a failing listener is reported and does not stop the others', async () => {
    const errors: string[] = [];
    const t = new Thing((err, event) => errors.push(`${event}: ${(err as Error).message}`));
    const seen: number[] = [];
    t.on('tick', () => {
      throw new Error('sync');
    });
    t.on('tick', async () => {
      throw new Error('async');
    });
    t.on('tick', (n) => {
      seen.push(n);
    });
    t.tick(3);
    await new Promise((r) => setImmediate(r));
    expect(seen).toEqual([3]);
    expect(errors.sort()).toEqual(['tick: async', 'tick: sync']);
  });

  it('emitSerial awaits each listener in turn', async () => {
    const t = new Thing(() => undefined);
    const order: string[] = [];
    t.on('done', async (s) => {
      await new Promise((r) => setImmediate(r));
      order.push(`first ${s}`);
    });
    t.on('done', (s) => {
      order.push(`second ${s}`);
    });
    await t.done('x');
    expect(order).toEqual(['first x', 'second x']);
  });

  it('once resolves with the next matching event and lets go', async () => {
    const t = new Thing(() => undefined);
    const next = t.once('tick', (n) => n > 1);
    t.tick(1);
    t.tick(2);
    expect(await next).toBe(2);
    expect(t.listenerCount('tick')).toBe(0);
    t.on('tick', () => undefined);
    t.clear();
    expect(t.listenerCount('tick')).toBe(0);
  });
});
