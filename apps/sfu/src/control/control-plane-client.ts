import { randomUUID } from 'node:crypto';
import { type Logger, signInternalRequest } from '@fusionflow/kit';
import { type MediaEvent, type RecordingReport, StreamKeyAdmitResponse } from '@fusionflow/protocol';
import type { EventSink, MediaEventInput } from './event-sink.js';

const EVENTS_PATH = '/api/internal/sfu/events';
const RECORDINGS_PATH = '/api/internal/sfu/recordings';
const ADMIT_PATH = '/api/internal/sfu/admit';
const MAX_QUEUE = 10_000;
const MAX_ATTEMPTS = 6;
const REQUEST_TIMEOUT_MS = 5000;
const CLOSE_WAIT_MS = 3000;

export type FetchLike = (url: string, init: RequestInit) => Promise<Response>;

/**
 * The SFU's side of the internal API: signed events and recording reports to the control plane,
 * delivered in order with retries (each event carries the room's absolute subscriber count, so a
 * dropped one heals on the next; a report is idempotent), and stream-key admission.
 */
export class ControlPlaneClient implements EventSink {
  readonly #queue: { path: string; type: string; body: string }[] = [];
  #draining: Promise<void> | undefined;
  #closed = false;
  #retryTimer: NodeJS.Timeout | undefined;
  #wake: (() => void) | undefined;

  constructor(private readonly o: { baseUrl: string; secret: string; logger: Logger; fetch?: FetchLike }) {}

  report(event: MediaEventInput): void {
    const full: MediaEvent = { id: randomUUID(), at: new Date().toISOString(), ...event };
    this.#enqueue(EVENTS_PATH, full.type, JSON.stringify(full));
  }

  /** A recording's status (POST /api/internal/sfu/recordings), in order with the events. */
  reportRecording(report: RecordingReport): void {
    this.#enqueue(RECORDINGS_PATH, `recording:${report.status}`, JSON.stringify(report));
  }

  #enqueue(path: string, type: string, body: string): void {
    if (this.#closed) return;
    if (this.#queue.length >= MAX_QUEUE) {
      this.o.logger.error({ dropped: this.#queue.shift()?.type }, 'event queue full; dropped the oldest event');
    }
    this.#queue.push({ path, type, body });
    this.#draining ??= this.#drain().finally(() => {
      this.#draining = undefined;
    });
  }

  async #drain(): Promise<void> {
    while (this.#queue.length > 0) {
      const event = this.#queue[0]!;
      let delivered = false;
      for (let attempt = 1; attempt <= MAX_ATTEMPTS && !delivered; attempt++) {
        try {
          const res = await this.#post(event.path, event.body);
          // 4xx other than 429 will not get better by retrying.
          delivered = res.ok || (res.status >= 400 && res.status < 500 && res.status !== 429);
          if (!res.ok) this.o.logger.warn({ status: res.status, type: event.type }, 'control plane refused an event');
        } catch (err) {
          this.o.logger.warn({ err: (err as Error).message, attempt }, 'could not deliver an event');
        }
        if (!delivered && attempt < MAX_ATTEMPTS) {
          if (this.#closed) break;
          await new Promise<void>((resolve) => {
            this.#wake = resolve;
            this.#retryTimer = setTimeout(resolve, Math.min(200 * 2 ** attempt, 5000));
          });
          this.#wake = undefined;
        }
      }
      this.#queue.shift();
    }
  }

  #post(path: string, body: string): Promise<Response> {
    const url = new URL(path, this.o.baseUrl).toString();
    const headers = {
      'content-type': 'application/json',
      ...signInternalRequest(this.o.secret, 'POST', path, body),
    };
    return (this.o.fetch ?? fetch)(url, {
      method: 'POST',
      headers,
      body,
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  }

  /**
   * Ask the control plane to admit a stream key for a room. Returns a grant (to verify like any
   * other), or null when the key is not the room's.
   */
  async admitStreamKey(room: string, streamKey: string): Promise<string | null> {
    const res = await this.#post(ADMIT_PATH, JSON.stringify({ room, streamKey }));
    if (res.status === 401 || res.status === 403 || res.status === 404) return null;
    if (!res.ok) throw new Error(`stream-key admission failed: HTTP ${res.status}`);
    return StreamKeyAdmitResponse.parse(await res.json()).token;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const draining = this.#draining;
    if (draining) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([draining, new Promise((r) => (timer = setTimeout(r, CLOSE_WAIT_MS)))]);
      clearTimeout(timer);
    }
    clearTimeout(this.#retryTimer);
    this.#wake?.();
    this.#queue.length = 0;
  }
}
