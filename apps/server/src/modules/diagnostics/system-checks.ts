import type { DiagnosticCheck } from '@fusionflow/protocol';
import type { Redis } from 'ioredis';
import { sql } from 'kysely';
import { type DatabaseHandle, pendingMigrations } from '../../db/database.js';
import type { TranslationEngine } from '../chat/translation-engine.js';
import type { LedgerAudit } from '../wallet/ledger-audit.js';
import { certificateFinding, readCertificate } from './certificate-expiry.js';

/** A check before its duration is added. */
export type Finding = Omit<DiagnosticCheck, 'durationMs'>;

/** Beyond this, signed control-plane ↔ SFU requests are refused (INTERNAL_SIGNATURE.maxSkewSeconds). */
const CLOCK_FAIL_MS = 30_000;
const CLOCK_WARN_MS = 2000;

export async function checkDatabase(database: DatabaseHandle): Promise<Finding> {
  const base = { id: 'database', title: 'Database' };
  const started = performance.now();
  try {
    await database.ping();
  } catch (err) {
    return {
      ...base,
      status: 'fail',
      summary: `the database does not answer: ${(err as Error).message}`,
      fix:
        database.kind === 'postgres'
          ? 'Check that PostgreSQL runs and that DATABASE_URL (host, port, user, password, database) is right: psql "$DATABASE_URL" -c "select 1".'
          : 'The embedded database (DATA_DIR/pglite) could not be read: check the disk and the directory’s owner.',
    };
  }
  const pingMs = Math.round(performance.now() - started);
  const details: Record<string, unknown> = { kind: database.kind, pingMs };
  if (database.kind === 'postgres') {
    const version = await sql<{ server_version: string }>`show server_version`.execute(database.db);
    details.version = version.rows[0]?.server_version;
  }
  const pending = await pendingMigrations(database);
  if (pending.length > 0) {
    return {
      ...base,
      status: 'warn',
      summary: `${pending.length} migration(s) not applied yet: ${pending.join(', ')}`,
      fix: 'Start (or restart) the control plane: it applies migrations on start.',
      details: { ...details, pending },
    };
  }
  const summary =
    database.kind === 'postgres'
      ? `PostgreSQL ${String(details.version)} answers in ${pingMs} ms; the schema is up to date`
      : `the embedded database (PGlite) answers in ${pingMs} ms; the schema is up to date`;
  return { ...base, status: 'ok', summary, details };
}

export async function checkRedis(redis: Redis | undefined): Promise<Finding> {
  const base = { id: 'redis', title: 'Redis' };
  if (!redis) {
    return {
      ...base,
      status: 'skipped',
      summary: 'not configured: call state lives in this process’s memory (one control-plane process only)',
    };
  }
  const started = performance.now();
  try {
    await redis.ping();
    const info = await redis.info('server');
    const version = /redis_version:(\S+)/.exec(info)?.[1];
    const pingMs = Math.round(performance.now() - started);
    return {
      ...base,
      status: 'ok',
      summary: `Redis ${version ?? ''} answers in ${pingMs} ms`.replace('  ', ' '),
      details: { version, pingMs },
    };
  } catch (err) {
    return {
      ...base,
      status: 'fail',
      summary: `Redis does not answer: ${(err as Error).message}`,
      fix: 'Check that Redis runs and that REDIS_URL is right (redis-cli -u "$REDIS_URL" ping). Calls in progress drop while it is down.',
    };
  }
}

export interface ClockSource {
  name: string;
  /** The other side's clock, and when (locally) it was read. */
  read(): Promise<{ remote: number; sentAt: number; receivedAt: number } | undefined>;
}

/** This machine's clock against the database's, Redis's and the SFU's. */
export async function checkClock(sources: ClockSource[]): Promise<Finding> {
  const base = { id: 'clock', title: 'Clock' };
  const skews: Record<string, number> = {};
  const unreadable: string[] = [];
  for (const source of sources) {
    try {
      const r = await source.read();
      if (!r) continue;
      skews[source.name] = Math.round(r.remote - (r.sentAt + r.receivedAt) / 2);
    } catch {
      unreadable.push(source.name);
    }
  }
  const worst = Object.entries(skews).sort((a, b) => Math.abs(b[1]) - Math.abs(a[1]))[0];
  const details = { skewMs: skews, now: new Date().toISOString(), ...(unreadable.length ? { unreadable } : {}) };
  if (!worst) {
    return {
      ...base,
      status: 'ok',
      summary: 'nothing to compare this machine’s clock with (all on one machine)',
      details,
    };
  }
  const [name, skew] = worst;
  const fix =
    'Run time synchronisation on every machine (timedatectl set-ntp true, or chrony). Grants, TURN credentials and signed SFU requests all carry times.';
  if (Math.abs(skew) > CLOCK_FAIL_MS) {
    return {
      ...base,
      status: 'fail',
      summary: `the ${name} clock is ${Math.round(skew / 1000)} s off this machine's: signed requests between the control plane and the SFU are refused beyond 30 s`,
      fix,
      details,
    };
  }
  if (Math.abs(skew) > CLOCK_WARN_MS) {
    return { ...base, status: 'warn', summary: `the ${name} clock is ${skew} ms off this machine's`, fix, details };
  }
  return {
    ...base,
    status: 'ok',
    summary: `clocks agree within ${Math.abs(skew)} ms (${Object.keys(skews).join(', ')})`,
    details,
  };
}

export function databaseClock(database: DatabaseHandle): ClockSource {
  return {
    name: 'database',
    read: async () => {
      // PGlite runs in this process: the same clock.
      if (database.kind !== 'postgres') return undefined;
      const sentAt = Date.now();
      const r = await sql<{ now: Date }>`select now() as now`.execute(database.db);
      return { remote: new Date(r.rows[0]!.now).getTime(), sentAt, receivedAt: Date.now() };
    },
  };
}

export function redisClock(redis: Redis | undefined): ClockSource {
  return {
    name: 'redis',
    read: async () => {
      if (!redis) return undefined;
      const sentAt = Date.now();
      const [seconds, micros] = await redis.time();
      return { remote: Number(seconds) * 1000 + Math.floor(Number(micros) / 1000), sentAt, receivedAt: Date.now() };
    },
  };
}

/** The certificate browsers see at PUBLIC_URL. */
export async function checkTls(publicUrl: string | undefined, ca?: string | Buffer): Promise<Finding> {
  const base = { id: 'tls', title: 'TLS certificate of PUBLIC_URL' };
  if (!publicUrl) {
    return {
      ...base,
      status: 'skipped',
      summary: 'PUBLIC_URL is not set, so the public address (and its certificate) is unknown',
      fix: 'Set PUBLIC_URL=https://live.example.com (the address users open) when running behind nginx.',
    };
  }
  const url = new URL(publicUrl);
  if (url.protocol !== 'https:') {
    const local = ['localhost', '127.0.0.1', '[::1]'].includes(url.hostname);
    return {
      ...base,
      status: local ? 'skipped' : 'warn',
      summary: local
        ? `${publicUrl} is this machine: no certificate needed`
        : `${publicUrl} is plain HTTP: browsers allow camera and microphone only over HTTPS`,
      ...(local
        ? {}
        : {
            fix: 'Serve the platform through nginx with TLS (deploy/nginx/fusionflow.conf) and set PUBLIC_URL to its https:// address.',
          }),
    };
  }
  try {
    const cert = await readCertificate(url.hostname, Number(url.port || 443), { ...(ca ? { ca } : {}) });
    const finding = certificateFinding(cert.valid_to, `the certificate of ${url.host}`);
    return {
      ...base,
      status: finding.status,
      summary: finding.summary,
      ...(finding.fix ? { fix: finding.fix } : {}),
      details: { certificateExpires: finding.expires, subject: cert.subject?.CN, issuer: cert.issuer?.CN },
    };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return {
      ...base,
      status: 'fail',
      summary: `no trusted TLS connection to ${url.host}: ${(err as Error).message}${code ? ` (${code})` : ''}`,
      fix: 'Check that nginx runs with a valid certificate for this name (nginx -t; certbot certificates) and that 443/tcp is open.',
    };
  }
}

/** The translation engine answers, knows pairs, and translates; the breaker is closed. */
export async function checkTranslation(o: {
  engine: TranslationEngine | undefined;
  breakerOpen: boolean;
  timeoutMs: number;
}): Promise<Finding> {
  const base = { id: 'translation', title: 'Translation engine' };
  if (!o.engine) {
    return {
      ...base,
      status: 'skipped',
      summary: 'no translation engine: chat is shown as written',
      fix: 'To translate chat, run LibreTranslate or Apertium APy and set TRANSLATION_ENGINE and TRANSLATION_URL.',
    };
  }
  const signal = AbortSignal.timeout(o.timeoutMs);
  const name = o.engine.name;
  try {
    const started = performance.now();
    const pairs = await o.engine.pairs(signal);
    if (pairs.length === 0) {
      return {
        ...base,
        status: 'fail',
        summary: `${name} answers but offers no language pairs: nothing can be translated`,
        fix:
          name === 'apertium'
            ? 'Install language pairs (apt-get install apertium-eng-spa …) and restart APy.'
            : 'Start LibreTranslate with the languages you need (--load-only en,es,fr,…).',
      };
    }
    const pair = pairs.find((p) => p.source === 'en' && p.target === 'es') ?? pairs[0]!;
    const text = await o.engine.translate('Hello, welcome to the stream.', pair, signal);
    const ms = Math.round(performance.now() - started);
    const details = { engine: name, pairs: pairs.length, sample: `${pair.source}→${pair.target}: ${text}`, ms };
    if (o.breakerOpen) {
      return {
        ...base,
        status: 'warn',
        summary: `${name} answers now, but the circuit breaker is open after recent failures: chat stays untranslated until it lets a trial through`,
        fix: 'Look at the engine’s load and logs; raise TRANSLATION_TIMEOUT_MS if it is just slow.',
        details,
      };
    }
    return {
      ...base,
      status: 'ok',
      summary: `${name} translates ${pairs.length} language pairs (a sample took ${ms} ms)`,
      details,
    };
  } catch (err) {
    return {
      ...base,
      status: 'fail',
      summary: `${name} does not translate: ${(err as Error).message}`,
      fix: 'Check that the engine runs at TRANSLATION_URL (curl it) and has CPU to spare. Chat keeps working, untranslated.',
    };
  }
}

export async function checkLedger(audit: LedgerAudit): Promise<Finding> {
  const base = { id: 'ledger', title: 'Ledger invariants' };
  const r = await audit.run();
  if (r.total === 0 && r.drifted === 0 && r.negative === 0) {
    return {
      ...base,
      status: 'ok',
      summary: 'the ledger sums to zero and every balance matches its entries',
      details: { ...r },
    };
  }
  return {
    ...base,
    status: 'fail',
    summary: `the ledger is broken: off by ${r.total} tokens, ${r.drifted} account(s) whose balance is not the sum of their entries, ${r.negative} below zero`,
    fix: 'Stop payouts, find the cause (a manual edit, a partial restore) and restore from the last good backup; never edit ledger tables by hand.',
    details: { ...r },
  };
}
