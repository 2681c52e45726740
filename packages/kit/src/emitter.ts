/** A listener of one event; a promise it returns is awaited by `emitSerial` and its rejection reported. */
export type Listener<T> = (value: T) => unknown;

/** Where a listener's failure goes (a module passes its logger's `error`). */
export type ListenerErrorHandler = (err: unknown, event: string) => void;

/**
 * The control plane's one typed emitter (its browser twin is `Emitter` in `@fusionflow/client`,
 * with the same `on`/`off`/`once`). Every `on` returns the way to remove that listener, and `off`
 * removes it too, so an owner that subscribes can always let go when it closes. A listener that
 * throws (or rejects) is reported and does not stop the others nor the emitter's owner.
 */
export class Emitter<Events extends Record<string, unknown>> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();
  readonly #onError: ListenerErrorHandler;

  constructor(onListenerError?: ListenerErrorHandler) {
    this.#onError =
      onListenerError ??
      ((err, event) => {
        process.emitWarning(`listener of "${event}" failed: ${err instanceof Error ? err.stack : String(err)}`);
      });
  }

  /** Listen to an event; returns the function that removes this listener. */
  on<K extends keyof Events>(event: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(event, listener);
  }

  /** Remove a listener added with `on`. */
  off<K extends keyof Events>(event: K, listener: Listener<Events[K]>): void {
    const set = this.#listeners.get(event);
    set?.delete(listener as Listener<never>);
    if (set?.size === 0) this.#listeners.delete(event);
  }

  /** Wait for the next event (optionally the next one that matches). */
  once<K extends keyof Events>(event: K, match: (value: Events[K]) => boolean = () => true): Promise<Events[K]> {
    return new Promise((resolve) => {
      const off = this.on(event, (value) => {
        if (!match(value)) return;
        off();
        resolve(value);
      });
    });
  }

  /** How many listeners an event has (tests check that owners let go). */
  listenerCount(event: keyof Events): number {
    return this.#listeners.get(event)?.size ?? 0;
  }

  /** Call every listener now; promises they return are not awaited (their failures are reported). */
  protected emit<K extends keyof Events>(event: K, value: Events[K]): void {
    for (const listener of this.#current(event)) {
      try {
        const r = listener(value);
        if (r instanceof Promise) r.catch((err: unknown) => this.#onError(err, String(event)));
      } catch (err) {
        this.#onError(err, String(event));
      }
    }
  }

  /** Call the listeners one after another, awaiting each (e.g. a room ended: its members leave first). */
  protected async emitSerial<K extends keyof Events>(event: K, value: Events[K]): Promise<void> {
    for (const listener of this.#current(event)) {
      try {
        await listener(value);
      } catch (err) {
        this.#onError(err, String(event));
      }
    }
  }

  protected removeAllListeners(): void {
    this.#listeners.clear();
  }

  #current<K extends keyof Events>(event: K): Listener<Events[K]>[] {
    return [...(this.#listeners.get(event) ?? [])] as Listener<Events[K]>[];
  }
}

/** Listener failures to a module's logger. */
export const logListenerErrors =
  (logger: { error(obj: object, msg: string): void }): ListenerErrorHandler =>
  (err, event) =>
    logger.error({ err, event }, 'event listener failed');
