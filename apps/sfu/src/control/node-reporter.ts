import { type Logger, signInternalRequest } from '@fusionflow/kit';
import { MAX_REPORTED_ROOMS, MEDIA_NODE_REPORT_PATH, type SfuNodeReport } from '@fusionflow/protocol';
import type { FetchLike } from './control-plane-client.js';

const REQUEST_TIMEOUT_MS = 5000;

export interface NodeReporterOptions {
  controlUrl: string;
  secret: string;
  nodeId: string;
  /** The base URL the control plane reaches this node on. */
  url: string;
  intervalMs: number;
  /** What the node holds now (its load, rooms and draining state). */
  snapshot: () => Omit<SfuNodeReport, 'nodeId' | 'url' | 'sentAt'>;
  logger: Logger;
  fetch?: FetchLike;
}

/**
 * Tells the control plane's media directory this node exists: its URL, capacity, load, rooms and
 * whether it is draining, every `intervalMs`, signed with INTERNAL_SECRET as the SFU's events are.
 * A report that fails is not retried (the next one replaces it); a node that stops reporting is
 * unhealthy to the control plane after MEDIA_NODE_TTL_SECONDS and placement stops using it.
 */
export class NodeReporter {
  #timer: NodeJS.Timeout | undefined;
  #inFlight: Promise<void> | undefined;
  #closed = false;
  #failures = 0;

  constructor(private readonly o: NodeReporterOptions) {}

  /** Report now, then every interval. */
  start(): void {
    if (this.#closed || this.#timer) return;
    void this.reportNow();
    this.#timer = setInterval(() => void this.reportNow(), this.o.intervalMs);
    this.#timer.unref();
  }

  /** The report as it would be sent now (rooms with the most viewers first, at most MAX_REPORTED_ROOMS). */
  report(): SfuNodeReport {
    const snapshot = this.o.snapshot();
    const rooms =
      snapshot.rooms.length > MAX_REPORTED_ROOMS
        ? [...snapshot.rooms].sort((a, b) => b.viewers - a.viewers).slice(0, MAX_REPORTED_ROOMS)
        : snapshot.rooms;
    return { nodeId: this.o.nodeId, url: this.o.url, ...snapshot, rooms, sentAt: new Date().toISOString() };
  }

  /** Send one report (one at a time: a report asked for while one is on its way waits for it). */
  async reportNow(): Promise<void> {
    if (this.#closed) return;
    await this.#inFlight;
    if (this.#closed) return;
    this.#inFlight = this.#send().finally(() => {
      this.#inFlight = undefined;
    });
    await this.#inFlight;
  }

  async #send(): Promise<void> {
    const body = JSON.stringify(this.report());
    try {
      const res = await (this.o.fetch ?? fetch)(new URL(MEDIA_NODE_REPORT_PATH, this.o.controlUrl).toString(), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...signInternalRequest(this.o.secret, 'POST', MEDIA_NODE_REPORT_PATH, body),
        },
        body,
        signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
      });
      await res.body?.cancel();
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      if (this.#failures > 0)
        this.o.logger.info({ after: this.#failures }, 'node reports reach the control plane again');
      this.#failures = 0;
    } catch (err) {
      // Once, then quietly: a control plane that is down is logged by its own health checks.
      if (this.#failures++ === 0) this.o.logger.warn({ err: (err as Error).message }, 'could not report this node');
    }
  }

  /** Stop reporting; waits for a report on its way. Idempotent. */
  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#inFlight;
  }
}
