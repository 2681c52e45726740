import { Counter, Histogram, type Registry } from '@fusionflow/kit';
import type { MediaReport } from '@fusionflow/protocol';

/** Join times as people feel them: a call's first picture usually comes within a second or two, a relayed one later. */
const JOIN_BUCKETS = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 5, 10, 30, 60];

/**
 * Media quality as the clients see it (their media reports): the seeds' join time and connection success, ICE
 * failures and freezes. Each label is a closed enum of the protocol (kind, candidate type, failure reason), so no
 * report can add a series; every value is bounded by the report's schema before it gets here.
 */
export class MediaReportMetrics {
  readonly #reports: Counter<'kind'>;
  readonly #callJoin: Histogram;
  readonly #watchJoin: Histogram;
  readonly #candidates: Counter<'kind' | 'type'>;
  readonly #failures: Counter<'kind' | 'reason'>;
  readonly #freezes: Counter<'kind'>;

  constructor(metrics: Registry) {
    this.#reports = new Counter({
      name: 'media_reports_total',
      help: 'Media reports clients sent (a call or watch session sends one when it plays and one when it ends, a studio one when it stops)',
      labelNames: ['kind'] as const,
      registers: [metrics],
    });
    this.#callJoin = new Histogram({
      name: 'call_join_seconds',
      help: 'Calls: from the click on Join to the first video frame decoded, as the browser measured it',
      buckets: JOIN_BUCKETS,
      registers: [metrics],
    });
    this.#watchJoin = new Histogram({
      name: 'watch_join_seconds',
      help: 'Live viewers: from the player starting to the first video frame decoded, as the browser measured it',
      buckets: JOIN_BUCKETS,
      registers: [metrics],
    });
    this.#candidates = new Counter({
      name: 'ice_candidate_type_total',
      help: 'Client peer connections that came up, by the local candidate type of their selected pair (relay: TURN)',
      labelNames: ['kind', 'type'] as const,
      registers: [metrics],
    });
    this.#failures = new Counter({
      name: 'ice_failures_total',
      help: 'ICE failures clients reported, by reason: connect_timeout, failed, restart_failed',
      labelNames: ['kind', 'reason'] as const,
      registers: [metrics],
    });
    this.#freezes = new Counter({
      name: 'media_freezes_total',
      help: 'Video freezes clients reported (no new frame decoded for at least a second while video was expected)',
      labelNames: ['kind'] as const,
      registers: [metrics],
    });
  }

  /** Count one (validated) report. */
  record(report: MediaReport): void {
    const kind = report.kind;
    this.#reports.inc({ kind });
    if (report.joinSeconds !== undefined && kind !== 'publish') {
      (kind === 'call' ? this.#callJoin : this.#watchJoin).observe(report.joinSeconds);
    }
    for (const [type, n] of Object.entries(report.candidateTypes ?? {})) {
      if (n) this.#candidates.inc({ kind, type }, n);
    }
    for (const [reason, n] of Object.entries(report.iceFailures ?? {})) {
      if (n) this.#failures.inc({ kind, reason }, n);
    }
    if (report.freezes) this.#freezes.inc({ kind }, report.freezes);
  }
}
