import { describe, expect, it } from 'vitest';
import { watchNetworkChanges } from './network-watcher.js';

describe('watchNetworkChanges', () => {
  it('reports `online` and a connection `change`, and stops when told', () => {
    const win = new EventTarget();
    const connection = new EventTarget();
    let changes = 0;
    const stop = watchNetworkChanges(() => changes++, { window: win, connection });
    win.dispatchEvent(new Event('online'));
    connection.dispatchEvent(new Event('change'));
    win.dispatchEvent(new Event('offline'));
    expect(changes).toBe(2);
    stop();
    win.dispatchEvent(new Event('online'));
    connection.dispatchEvent(new Event('change'));
    expect(changes).toBe(2);
  });

  it('does nothing where there are no network events', () => {
    const stop = watchNetworkChanges(() => {
      throw new Error('no events to report');
    }, {});
    stop();
  });
});
