import type { Logger } from 'pino';

type CloseFn = (reason: string) => unknown | Promise<unknown>;

/**
 * The owner of a process's resources. Resources register a close function in the order they are
 * opened; `close(reason)` runs them in reverse order (children before what they depend on), once.
 */
export class Lifecycle {
  readonly #closers: { name: string; fn: CloseFn }[] = [];
  #closing: Promise<void> | undefined;

  constructor(private readonly logger?: Logger) {}

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  /** Register a resource to close. Returns the resource's name for logs. */
  add(name: string, fn: CloseFn): void {
    if (this.#closing) throw new Error(`lifecycle already closing; cannot add ${name}`);
    this.#closers.push({ name, fn });
  }

  /** Idempotent: every call returns the same promise. Errors are logged, never stop the others. */
  close(reason: string): Promise<void> {
    this.#closing ??= (async () => {
      for (const { name, fn } of this.#closers.toReversed()) {
        try {
          await fn(reason);
        } catch (err) {
          this.logger?.error({ err, resource: name }, 'error while closing');
        }
      }
      this.#closers.length = 0;
    })();
    return this.#closing;
  }
}

/** Close the lifecycle on SIGINT/SIGTERM, then exit. A second signal exits at once. */
export function closeOnSignals(
  lifecycle: Lifecycle,
  logger: Logger,
  onClosed: () => void = () => process.exit(0),
): void {
  let signalled = false;
  const handler = (signal: NodeJS.Signals) => {
    if (signalled) process.exit(1);
    signalled = true;
    logger.info({ signal }, 'shutting down');
    void lifecycle.close(signal).then(onClosed);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}
