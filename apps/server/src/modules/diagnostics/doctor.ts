import { Gauge, type Logger, type ObjectStoreConfig, type Registry } from '@fusionflow/kit';
import type { DiagnosticCheck, DiagnosticsReport, SfuNetworkInfo } from '@fusionflow/protocol';
import type { Redis } from 'ioredis';
import type { DatabaseHandle } from '../../db/database.js';
import type { TranslationEngine } from '../chat/translation-engine.js';
import type { SfuAdminClient } from '../live/sfu-client.js';
import type { IceServerIssuer } from '../media/ice-server-issuer.js';
import type { LedgerAudit } from '../wallet/ledger-audit.js';
import { checkSfu, checkSfuIce } from './sfu-checks.js';
import { checkStorage } from './storage-check.js';
import {
  type ClockSource,
  checkClock,
  checkDatabase,
  checkLedger,
  checkRedis,
  checkTls,
  checkTranslation,
  databaseClock,
  type Finding,
  redisClock,
} from './system-checks.js';
import { checkTurn } from './turn-check.js';

/** A report this fresh is handed out again instead of running every check (the admin page polls). */
const REUSE_MS = 10_000;
const CHECK_TIMEOUT_MS = 15_000;

export interface DoctorOptions {
  /** Absent when another process holds it (the embedded database while the control plane runs). */
  database: DatabaseHandle | undefined;
  redis: Redis | undefined;
  /** The SFU node(s): today one, embedded or standalone (SFU_URL). */
  sfu: { url(): string | undefined; embedded: boolean; client: SfuAdminClient };
  ice: IceServerIssuer;
  turn: { urls: readonly string[]; realm: string | undefined; ttlSeconds: number };
  translation: { engine: TranslationEngine | undefined; breakerOpen(): boolean; timeoutMs: number };
  ledger: LedgerAudit | undefined;
  publicUrl: string | undefined;
  /** Extra trusted CA for TLS checks (tests; production trusts the system's, or NODE_EXTRA_CA_CERTS). */
  tlsCa?: string | Buffer;
  /** The recordings' bucket (S3_* settings); absent: recordings stay on the SFU's disk. */
  storage?: ObjectStoreConfig | undefined;
  /** Run the checks every this many seconds and publish them as metrics (0: only when asked). */
  intervalSeconds?: number;
  metrics?: Registry;
  /** Checks only some callers have (the command line checks the running control plane). */
  extra?: { id: string; title: string; run(): Promise<Finding> }[];
  logger: Logger;
}

const worst = (checks: DiagnosticCheck[]): DiagnosticsReport['status'] =>
  checks.some((c) => c.status === 'fail') ? 'fail' : checks.some((c) => c.status === 'warn') ? 'warn' : 'ok';

async function timed(title: { id: string; title: string }, run: () => Promise<Finding>): Promise<DiagnosticCheck> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    const finding = await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no result within ${CHECK_TIMEOUT_MS / 1000} s`)), CHECK_TIMEOUT_MS);
      }),
    ]);
    return { ...finding, durationMs: Math.round(performance.now() - started) };
  } catch (err) {
    return {
      ...title,
      status: 'fail',
      summary: `the check itself failed: ${(err as Error).message}`,
      durationMs: Math.round(performance.now() - started),
    };
  } finally {
    clearTimeout(timer);
  }
}

/**
 * The doctor: checks every dependency the platform needs the way it uses it (a query, a real TURN
 * allocation, a translation, a probe of each SFU) and says in plain words what is wrong and what
 * to change. Serves `GET /api/admin/diagnostics` and `npm run doctor`; with an interval it runs on
 * its own and publishes `diagnostics_check_failed{check}` and the certificates' expiry, so the
 * alerts catch a TURN server that silently stopped relaying.
 */
export class Doctor {
  #running: Promise<DiagnosticsReport> | undefined;
  #last: { at: number; report: DiagnosticsReport } | undefined;
  #timer: NodeJS.Timeout | undefined;
  readonly #failed: Gauge<'check'> | undefined;
  readonly #lastRun: Gauge | undefined;
  readonly #certificates: Gauge<'target'> | undefined;

  constructor(private readonly o: DoctorOptions) {
    if (o.metrics) {
      this.#failed = new Gauge({
        name: 'diagnostics_check_failed',
        help: 'The doctor’s last verdict per check: 1 failed, 0 ok, warned or skipped',
        labelNames: ['check'] as const,
        registers: [o.metrics],
      });
      this.#lastRun = new Gauge({
        name: 'diagnostics_last_run_timestamp_seconds',
        help: 'When the doctor last ran all its checks (unix seconds; 0 before the first)',
        registers: [o.metrics],
      });
      this.#lastRun.set(0);
      this.#certificates = new Gauge({
        name: 'tls_certificate_expiry_timestamp_seconds',
        help: 'When a TLS certificate the platform depends on expires (PUBLIC_URL, turns: servers), unix seconds',
        labelNames: ['target'] as const,
        registers: [o.metrics],
      });
    }
  }

  /** Every check now (or the report of a run that finished less than 10 s ago, or is running). */
  report(o: { fresh?: boolean } = {}): Promise<DiagnosticsReport> {
    if (this.#running) return this.#running;
    if (!o.fresh && this.#last && Date.now() - this.#last.at < REUSE_MS) return Promise.resolve(this.#last.report);
    const running = this.#run().finally(() => {
      this.#running = undefined;
    });
    this.#running = running;
    return running;
  }

  /** Only the translation check (the start-up banner says whether the engine is reachable). */
  translation(): Promise<DiagnosticCheck> {
    const o = this.o;
    return timed({ id: 'translation', title: 'Translation engine' }, () =>
      checkTranslation({
        engine: o.translation.engine,
        breakerOpen: o.translation.breakerOpen(),
        timeoutMs: o.translation.timeoutMs,
      }),
    );
  }

  async #run(): Promise<DiagnosticsReport> {
    const o = this.o;
    const sfuUrl = o.sfu.url();
    const network: Promise<SfuNetworkInfo | undefined> = sfuUrl
      ? o.sfu.client.network().catch(() => undefined)
      : Promise.resolve(undefined);
    const sfuClock: ClockSource = {
      name: 'SFU',
      read: async () => {
        const sentAt = Date.now();
        const info = await o.sfu.client.network();
        return { remote: new Date(info.time).getTime(), sentAt, receivedAt: Date.now() };
      },
    };
    const checks: Promise<DiagnosticCheck>[] = [
      ...(o.extra ?? []).map((c) => timed(c, () => c.run())),
      timed({ id: 'database', title: 'Database' }, async () =>
        o.database
          ? checkDatabase(o.database)
          : {
              id: 'database',
              title: 'Database',
              status: 'skipped',
              summary:
                'the embedded database belongs to the running control plane (its readiness is the control-plane check); Admin → Diagnostics in the web app checks it from inside',
            },
      ),
      timed({ id: 'redis', title: 'Redis' }, () => checkRedis(o.redis)),
      timed({ id: 'sfu', title: 'SFU' }, () =>
        checkSfu({ id: o.sfu.embedded ? 'embedded' : 'standalone', url: sfuUrl, embedded: o.sfu.embedded }),
      ),
      timed({ id: 'sfu-ice', title: 'ICE addresses the SFU advertises' }, async () => {
        const info = await network;
        if (!info) {
          return {
            id: 'sfu-ice',
            title: 'ICE addresses the SFU advertises',
            status: 'skipped',
            summary: 'the SFU’s admin API did not answer, so its ICE addresses are unknown (see the SFU check)',
          };
        }
        return checkSfuIce(info, { publicUrl: o.publicUrl, turnEnabled: o.ice.turnEnabled });
      }),
      ...this.#turnChecks(),
      this.translation(),
      timed({ id: 'storage', title: 'Object storage' }, () => checkStorage(o.storage)),
      timed({ id: 'clock', title: 'Clock' }, () =>
        checkClock([
          ...(o.database ? [databaseClock(o.database)] : []),
          redisClock(o.redis),
          ...(sfuUrl ? [sfuClock] : []),
        ]),
      ),
      timed({ id: 'tls', title: 'TLS certificate of PUBLIC_URL' }, () => checkTls(o.publicUrl, o.tlsCa)),
      ...(o.ledger ? [timed({ id: 'ledger', title: 'Ledger invariants' }, () => checkLedger(o.ledger!))] : []),
    ];
    const done = await Promise.all(checks);
    const report: DiagnosticsReport = { status: worst(done), checkedAt: new Date().toISOString(), checks: done };
    this.#last = { at: Date.now(), report };
    this.#publish(report);
    return report;
  }

  #turnChecks(): Promise<DiagnosticCheck>[] {
    const o = this.o;
    if (!o.ice.turnEnabled) {
      return [
        timed({ id: 'turn', title: 'TURN relay' }, async () => ({
          id: 'turn',
          title: 'TURN relay',
          status: o.turn.urls.length > 0 ? 'fail' : 'warn',
          summary:
            o.turn.urls.length > 0
              ? 'TURN_URLS is set but TURN_SECRET is not: no credentials can be minted, so browsers get no TURN server'
              : 'no TURN server: people behind strict firewalls or carrier NAT connect, but their media never flows',
          fix: 'Run coturn (deploy/coturn/turnserver.conf) and set TURN_URLS and TURN_SECRET.',
        })),
      ];
    }
    // Fresh credentials, minted exactly as browsers get them.
    const issued = o.ice.issue({ userId: 'doctor', isGuest: false }).iceServers.find((s) => s.username !== undefined);
    return o.turn.urls.map((url) =>
      timed({ id: `turn:${url}`, title: `TURN relay ${url}` }, () =>
        checkTurn({
          url,
          username: issued?.username ?? '',
          credential: issued?.credential ?? '',
          expectedRealm: o.turn.realm,
          ttlSeconds: o.turn.ttlSeconds,
          ...(o.tlsCa ? { ca: o.tlsCa } : {}),
        }),
      ),
    );
  }

  #publish(report: DiagnosticsReport): void {
    if (!this.#failed) return;
    this.#failed.reset();
    for (const c of report.checks) this.#failed.set({ check: c.id }, c.status === 'fail' ? 1 : 0);
    this.#lastRun?.set(Math.floor(Date.now() / 1000));
    for (const c of report.checks) {
      const expires = c.details?.certificateExpires;
      if (typeof expires === 'string') {
        this.#certificates?.set({ target: c.id }, Math.floor(new Date(expires).getTime() / 1000));
      }
    }
    const failed = report.checks.filter((c) => c.status === 'fail');
    if (failed.length > 0) {
      this.o.logger.warn(
        { failed: failed.map((c) => ({ id: c.id, summary: c.summary })) },
        'the doctor found problems',
      );
    }
  }

  /** Run every `intervalSeconds` (the first run a little after start-up). */
  start(): void {
    const seconds = this.o.intervalSeconds ?? 0;
    if (seconds <= 0 || this.#timer) return;
    const tick = () => {
      this.report({ fresh: true }).catch((err: unknown) => this.o.logger.warn({ err }, 'the doctor could not run'));
    };
    this.#timer = setTimeout(
      () => {
        tick();
        this.#timer = setInterval(tick, seconds * 1000);
        this.#timer.unref();
      },
      Math.min(30_000, seconds * 1000),
    );
    this.#timer.unref();
  }

  close(): void {
    clearTimeout(this.#timer);
    clearInterval(this.#timer);
    this.#timer = undefined;
  }
}
