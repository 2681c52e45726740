import { describe, expect, it } from 'vitest';
import { watchNetworkChanges } from './network-watcher.js';

describe('watchNetworkChanges', () => {
  it('reports `online` and a new connection type, not estimate changes, and stops when told', () => {
    const win = new EventTarget();
    const connection = Object.assign(new EventTarget(), { type: 'wifi' });
    let changes = 0;
    const stop = watchNetworkChanges(() => changes++, { window: win, connection });
    win.dispatchEvent(new Event('online'));
    // The bandwidth or RTT estimate moved: same network.
    connection.dispatchEvent(new Event('change'));
    expect(changes).toBe(1);
    connection.type = 'cellular';
    connection.dispatchEvent(new Event('change'));
    win.dispatchEvent(new Event('offline'));
    expect(changes).toBe(2);
    stop();
    win.dispatchEvent(new Event('online'));
    connection.type = 'wifi';
    connection.dispatchEvent(new Event('change'));
    expect(changes).toBe(2);
  });

  it('ignores connection changes where the browser does not tell the type (desktop Chromium)', () => {
    const connection = new EventTarget();
    let changes = 0;
    const stop = watchNetworkChanges(() => changes++, { connection });
    connection.dispatchEvent(new Event('change'));
    expect(changes).toBe(0);
    stop();
  });

  it('does nothing where there are no network events', () => {
    const stop = watchNetworkChanges(() => {
      throw new Error('no events to report');
    }, {});
    stop();
  });
});
