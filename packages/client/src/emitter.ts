/**
 * The SDK's one typed emitter, for the browser and Node alike: the twin of `Emitter` in
 * `@fusionflow/kit` (same `on`, `off`, `once`). Every `on` returns the way to remove that listener.
 * A listener that throws does not stop the others; its error is rethrown on its own.
 */
export class Emitter<Events extends Record<string, unknown>> {
  readonly #listeners = new Map<keyof Events, Set<(value: never) => void>>();

  /** Listen to an event; returns an unsubscribe function. */
  on<K extends keyof Events>(event: K, listener: (value: Events[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) {
      set = new Set();
      this.#listeners.set(event, set);
    }
    set.add(listener as (value: never) => void);
    return () => this.off(event, listener);
  }

  /** Remove a listener added with `on`. */
  off<K extends keyof Events>(event: K, listener: (value: Events[K]) => void): void {
    this.#listeners.get(event)?.delete(listener as (value: never) => void);
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

  protected emit<K extends keyof Events>(event: K, value: Events[K]): void {
    for (const listener of [...(this.#listeners.get(event) ?? [])]) {
      try {
        (listener as (value: Events[K]) => void)(value);
      } catch (err) {
        // A listener's failure must not stop the others, nor the client.
        queueMicrotask(() => {
          throw err;
        });
      }
    }
  }

  protected removeAllListeners(): void {
    this.#listeners.clear();
  }
}
