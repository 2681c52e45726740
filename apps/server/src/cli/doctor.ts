import { createLogger, createMetricsRegistry, objectStoreConfigOf } from '@fusionflow/kit';
import type { DiagnosticCheck, DiagnosticsReport } from '@fusionflow/protocol';
import { Redis } from 'ioredis';
import { pgliteDir } from '../db/data-dirs.js';
import { type DatabaseHandle, openDatabase } from '../db/database.js';
import { readServerKey } from '../db/server-keys.js';
import { engineFromConfig } from '../modules/chat/engine-from-config.js';
import { Doctor } from '../modules/diagnostics/doctor.js';
import type { Finding } from '../modules/diagnostics/system-checks.js';
import { SfuAdminClient } from '../modules/live/sfu-client.js';
import { IceServerIssuer } from '../modules/media/ice-server-issuer.js';
import { LedgerAudit } from '../modules/wallet/ledger-audit.js';
import { controlPlaneUrl } from './control-plane.js';
import { loadConfigOrExit } from './load-config.js';
import { runTool } from './run-tool.js';

const MARK: Record<DiagnosticCheck['status'], string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL', skipped: 'skip' };

/** The running control plane answers, and tells where its (embedded) SFU listens. */
async function checkControlPlane(url: string): Promise<{ finding: Finding; sfuUrl: string | undefined }> {
  const base = { id: 'control-plane', title: 'Control plane' };
  try {
    const ready = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(3000) });
    const targets = (await fetch(`${url}/metrics/targets`, { signal: AbortSignal.timeout(3000) })
      .then((r) => r.json())
      .catch(() => [])) as { targets?: string[] }[];
    const sfu = targets[0]?.targets?.[0];
    return {
      finding: ready.ok
        ? { ...base, status: 'ok', summary: `${url} is up and ready` }
        : {
            ...base,
            status: 'fail',
            summary: `${url} answers but is not ready (HTTP ${ready.status}): its database or Redis does not answer`,
            fix: 'See the database and Redis checks below.',
          },
      sfuUrl: sfu ? `http://${sfu}` : undefined,
    };
  } catch (err) {
    return {
      finding: {
        ...base,
        status: 'fail',
        summary: `nothing answers at ${url}: ${(err as Error).message}`,
        fix: 'Start the control plane (systemctl start fusionflow-server), or run the doctor with the same settings (HOST, PORT) it runs with.',
      },
      sfuUrl: undefined,
    };
  }
}

function print(report: DiagnosticsReport): void {
  console.log(`\nFusionFlow doctor, ${report.checkedAt}: ${report.status.toUpperCase()}\n`);
  for (const c of report.checks) {
    console.log(`  ${MARK[c.status]}  ${c.title}: ${c.summary}`);
    if (c.fix && c.status !== 'ok') console.log(`        → ${c.fix}`);
  }
  console.log('');
}

/**
 * `npm run doctor`: the doctor from the command line, with the control plane's settings (the same
 * environment or CONFIG_FILE). It reads the database but never changes it (no migrations, no
 * keys). `--json` prints the report as JSON. Exits 1 when a check fails.
 */
async function run(): Promise<number> {
  const config = loadConfigOrExit();
  const logger = createLogger({ level: 'silent', name: 'doctor' });
  const controlPlane = await checkControlPlane(controlPlaneUrl(config));
  // The embedded database is a directory one process may open: while the control plane runs, it is its.
  const database: DatabaseHandle | undefined =
    config.databaseUrl || controlPlane.finding.status === 'fail'
      ? await openDatabase({ url: config.databaseUrl, dataDir: pgliteDir(config.dataDir), poolSize: 2 })
      : undefined;
  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => null })
    : undefined;
  redis?.on('error', () => {});
  try {
    await redis?.connect().catch(() => undefined);
    const sfuUrl = config.sfuUrl?.replace(/\/$/, '') ?? controlPlane.sfuUrl;
    const secret =
      config.sfuInternalSecret ??
      (database ? await readServerKey(database.db, 'sfu_internal_secret').catch(() => undefined) : undefined) ??
      '';
    const engine = engineFromConfig(config);
    const doctor = new Doctor({
      database,
      redis,
      storage: objectStoreConfigOf(config),
      sfu: {
        url: () => sfuUrl,
        embedded: !config.sfuUrl,
        client: new SfuAdminClient({ url: () => sfuUrl, secret, logger }),
      },
      ice: new IceServerIssuer({
        stunUrls: config.stunUrls,
        turnUrls: config.turnUrls,
        turnSecret: config.turnSecret,
        ttlSeconds: config.turnTtlSeconds,
      }),
      turn: { urls: config.turnUrls, realm: config.turnRealm, ttlSeconds: config.turnTtlSeconds },
      translation: { engine, breakerOpen: () => false, timeoutMs: config.translationTimeoutMs },
      ledger: database
        ? new LedgerAudit({
            db: database.db,
            metrics: createMetricsRegistry({ defaultMetrics: false }),
            intervalSeconds: 0,
            logger,
          })
        : undefined,
      publicUrl: config.publicUrl,
      extra: [{ id: 'control-plane', title: 'Control plane', run: async () => controlPlane.finding }],
      logger,
    });
    const report = await doctor.report();
    if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
    else print(report);
    return report.status === 'fail' ? 1 : 0;
  } finally {
    redis?.disconnect();
    await database?.close();
  }
}

runTool(run);
