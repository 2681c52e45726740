import { Counter, Histogram, type Registry } from '@fusionflow/kit';
import { SessionSeconds } from '../../observability/session-seconds.js';

/** WHEP answers waiting for their viewer's media to connect (ICE_CONNECT_TIMEOUT_SECONDS is 30 by default). */
const PENDING_MS = 120_000;
const PENDING_MAX = 10_000;
const JOIN_BUCKETS = [0.1, 0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30];

export type JoinAttemptResult = 'answered' | 'refused' | 'failed';

/**
 * Live viewers' join success and join time, and watch time, from the server's view (browsers do
 * not report their own yet): every WHEP play request the forwarder passes to the SFU is an
 * attempt; the SFU's `subscriber_joined` event (ICE and DTLS up) is a join, and the time from the
 * offer reaching the forwarder to that event is the join time. With several control-plane
 * processes an attempt and its join may be counted by different ones: rates summed over processes
 * stay right; join times are observed where both ends were seen.
 */
export class ViewerMetrics {
  readonly #attempts: Counter<'result'>;
  readonly #joins: Counter;
  readonly #joinTime: Histogram;
  readonly #watch: SessionSeconds<never>;
  readonly #pending = new Map<string, number>();

  constructor(
    metrics: Registry,
    private readonly now: () => number = Date.now,
  ) {
    this.#attempts = new Counter({
      name: 'viewer_join_attempts_total',
      help: 'WHEP play requests forwarded to the SFU, by result: answered (201), refused (4xx: no ticket, banned, no publisher…), failed (5xx, SFU unreachable)',
      labelNames: ['result'] as const,
      registers: [metrics],
    });
    this.#joins = new Counter({
      name: 'viewer_joins_total',
      help: 'Viewers whose media connected (the SFU reported subscriber_joined)',
      registers: [metrics],
    });
    this.#joinTime = new Histogram({
      name: 'viewer_join_seconds',
      help: 'From a WHEP offer reaching the control plane to the viewer’s media connecting on the SFU',
      buckets: JOIN_BUCKETS,
      registers: [metrics],
    });
    const watch: SessionSeconds<never> = new SessionSeconds<never>(
      new Counter({
        name: 'viewer_watch_seconds_total',
        help: 'Time viewers spent watching live rooms (÷ 60: watch minutes)',
        registers: [metrics],
        collect: (): void => watch.flush(),
      }),
      now,
    );
    this.#watch = watch;
  }

  /** A WHEP play request came back from the SFU (or did not). */
  attempt(result: JoinAttemptResult): void {
    this.#attempts.inc({ result });
  }

  /** The SFU answered a play offer that arrived at `offeredAt` with this session. */
  answered(sessionId: string, offeredAt: number): void {
    if (this.#pending.size >= PENDING_MAX) this.#pending.delete(this.#pending.keys().next().value!);
    this.#pending.set(sessionId, offeredAt);
  }

  joined(sessionId: string): void {
    this.#joins.inc();
    this.#watch.start(sessionId, {});
    const offeredAt = this.#pending.get(sessionId);
    this.#pending.delete(sessionId);
    const now = this.now();
    if (offeredAt !== undefined && now - offeredAt < PENDING_MS) this.#joinTime.observe((now - offeredAt) / 1000);
  }

  left(sessionId: string): void {
    this.#pending.delete(sessionId);
    this.#watch.stop(sessionId);
  }

  close(): void {
    this.#watch.close();
    this.#pending.clear();
  }
}
