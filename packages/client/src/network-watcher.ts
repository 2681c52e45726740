/** Something that dispatches events (a window, `navigator.connection`, or a test's fake). */
interface EventSource {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/** Where the network's changes are announced: the browser's globals by default. */
export interface NetworkSignals {
  /** Fires `online` when the device has a network again. */
  window?: EventSource;
  /**
   * The Network Information API's `navigator.connection`: fires `change` on a new network, and also whenever its
   * bandwidth or round-trip estimates move; only a change of `type` (wifi → cellular, where the browser tells) is a
   * new network.
   */
  connection?: EventSource & { readonly type?: string };
}

function browserSignals(): NetworkSignals {
  const g = globalThis as {
    addEventListener?: unknown;
    navigator?: { connection?: Partial<EventSource> & { type?: string } };
  };
  const connection = g.navigator?.connection;
  return {
    ...(typeof g.addEventListener === 'function' ? { window: g as unknown as EventSource } : {}),
    ...(connection && typeof connection.addEventListener === 'function'
      ? { connection: connection as EventSource & { type?: string } }
      : {}),
  };
}

/**
 * Calls `onChange` when the device's network changes (back online, or on another network where
 * the browser says so): a peer connection's route is then likely gone, and restarting ICE at once
 * beats waiting for ICE to notice. Returns the function that stops watching. Does nothing where
 * there are no such events (Node).
 */
export function watchNetworkChanges(onChange: () => void, signals: NetworkSignals = browserSignals()): () => void {
  const listener = () => onChange();
  const connection = signals.connection;
  let type = connection?.type;
  // Estimates change all the time (Chromium re-estimates as traffic flows): restarting ICE on each would churn a
  // healthy call. Only a new `type` is a new network; where the browser does not say, `online` is the signal.
  const onConnection = () => {
    const now = connection?.type;
    if (now === undefined || now === type) return;
    type = now;
    onChange();
  };
  signals.window?.addEventListener('online', listener);
  connection?.addEventListener('change', onConnection);
  return () => {
    signals.window?.removeEventListener('online', listener);
    connection?.removeEventListener('change', onConnection);
  };
}

/** Whether the browser says it has no network at all (`navigator.onLine === false`); false where nobody says. */
export function isOffline(): boolean {
  return (globalThis as { navigator?: { onLine?: boolean } }).navigator?.onLine === false;
}
