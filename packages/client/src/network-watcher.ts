/** Something that dispatches events (a window, `navigator.connection`, or a test's fake). */
interface EventSource {
  addEventListener(type: string, listener: () => void): void;
  removeEventListener(type: string, listener: () => void): void;
}

/** Where the network's changes are announced: the browser's globals by default. */
export interface NetworkSignals {
  /** Fires `online` when the device has a network again. */
  window?: EventSource;
  /** The Network Information API's `navigator.connection`: fires `change` on a new network (not in every browser). */
  connection?: EventSource;
}

function browserSignals(): NetworkSignals {
  const g = globalThis as {
    addEventListener?: unknown;
    navigator?: { connection?: Partial<EventSource> };
  };
  const connection = g.navigator?.connection;
  return {
    ...(typeof g.addEventListener === 'function' ? { window: g as unknown as EventSource } : {}),
    ...(connection && typeof connection.addEventListener === 'function'
      ? { connection: connection as EventSource }
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
  signals.window?.addEventListener('online', listener);
  signals.connection?.addEventListener('change', listener);
  return () => {
    signals.window?.removeEventListener('online', listener);
    signals.connection?.removeEventListener('change', listener);
  };
}
