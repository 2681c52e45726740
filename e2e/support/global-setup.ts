import { spawn } from 'node:child_process';
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { FullConfig } from '@playwright/test';
// The same check as the server's suites: exactly the pairs used, the missing Debian packages named.
import { apertiumFor } from '../../apps/server/src/modules/chat/test-apertium.js';
import { type Apertium, CHAT_PAIRS, startApertium } from './apertium.js';
import { type Coturn, type CoturnOptions, startCoturn } from './coturn.js';
import { startMailbox } from './mailbox.js';
import { E2E_ENV } from './server-env.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const serverEntry = join(repoRoot, 'apps/server/dist/bin.js');
const webIndex = join(repoRoot, 'apps/web/dist/index.html');
const READY_MESSAGE = 'FusionFlow is running';
const START_TIMEOUT_MS = 60_000;

/** Only what the server needs from this environment, so a developer's settings cannot leak in. */
function serverEnv(
  dataDir: string,
  turn: Coturn,
  apertium: Apertium | null,
  extra: Record<string, string>,
): NodeJS.ProcessEnv {
  const keep = ['PATH', 'HOME', 'TMPDIR', 'LANG', 'TZ'];
  const env: NodeJS.ProcessEnv = {};
  for (const key of keep) if (process.env[key] !== undefined) env[key] = process.env[key];
  return {
    ...env,
    PORT: '0',
    HOST: '127.0.0.1',
    DATA_DIR: dataDir,
    PASSWORD_HASH_COST: '10',
    // The demo admin decides payouts in the economy scenarios.
    DEMO_ACCOUNTS: 'true',
    LOG_LEVEL: process.env.FF_E2E_LOG_LEVEL ?? 'info',
    // Every scenario signs up, signs in and connects from 127.0.0.1; the per-address limits are tested in
    // the server's suite.
    LOGIN_RATE_PER_IP_PER_MINUTE: '1000',
    REGISTRATIONS_PER_IP_PER_HOUR: '10000',
    SIGNALING_MAX_CONNECTIONS_PER_IP: '10000',
    RATE_LIMIT_PER_MINUTE: '100000',
    // Calls: TURN credentials for the coturn started beside the server, and the test-only hooks.
    TURN_URLS: turn.urls.join(','),
    TURN_SECRET: turn.secret,
    TEST_HOOKS: 'true',
    // Private calls bill per started minute; an 8-second "minute" lets a scenario run out of tokens.
    TEST_CALL_MINUTE_SECONDS: '8',
    // The embedded SFU offers and checks loopback candidates only: all media stays on 127.0.0.1.
    ICE_ADDRESSES: '127.0.0.1',
    ICE_ONLY_ADDRESSES: 'true',
    // Chat: translated by the Apertium APy started beside the server (a loaded machine may be slow to answer).
    ...(apertium
      ? { TRANSLATION_ENGINE: 'apertium', TRANSLATION_URL: apertium.url, TRANSLATION_TIMEOUT_MS: '15000' }
      : { TRANSLATION_ENGINE: 'none' }),
    ...extra,
  };
}

/**
 * Apertium APy for the chat scenario, when apertium-apy and the pairs the scenario uses are installed.
 * A missing piece skips that scenario (the reason is handed to it), unless FF_REQUIRE_APERTIUM=1 (CI),
 * which makes it a failure.
 */
async function maybeStartApertium(logFile: string): Promise<Apertium | null> {
  const check = apertiumFor(CHAT_PAIRS);
  if (!check.ok) {
    process.env[E2E_ENV.translationSkipped] = check.reason;
    console.log(`e2e: the chat translation scenario is skipped: ${check.reason}`);
    return null;
  }
  return startApertium(logFile);
}

export interface PlatformSetup {
  /** Start Apertium APy for the chat translation scenario (when installed). */
  translation: boolean;
  /** More settings for the server (the gateway run sets PUBLIC_URL and TRUST_PROXY). */
  env?: Record<string, string>;
  /** Where coturn listens (the network suite puts it on its lab's uplink). */
  coturn?: CoturnOptions;
}

/**
 * Start the built control plane on a free port with a fresh embedded database, wait for its
 * "FusionFlow is running" log line and publish its URL (FF_E2E_BASE_URL) for the tests.
 * Its output goes to test-results/server.log.
 */
export default async function globalSetup(config: FullConfig): Promise<void> {
  await startPlatform(config, { translation: true });
}

/** The platform the scenarios run against (and coturn, and Apertium when asked), handed over in E2E_ENV. */
export async function startPlatform(config: FullConfig, setup: PlatformSetup): Promise<string> {
  for (const file of [serverEntry, webIndex]) {
    if (!existsSync(file)) throw new Error(`${file} is missing: build first (npm run build at the repository root)`);
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'ff-e2e-'));
  const outputDir = config.projects[0]?.outputDir ?? join(repoRoot, 'e2e/test-results');
  mkdirSync(outputDir, { recursive: true });
  const log = createWriteStream(join(outputDir, 'server.log'));
  const turn = await startCoturn(join(outputDir, 'coturn.log'), setup.coturn);
  process.env[E2E_ENV.turnPid] = String(turn.child.pid);
  process.env[E2E_ENV.turnDir] = turn.dir;
  process.env[E2E_ENV.turnUrls] = turn.urls.join(',');
  process.env[E2E_ENV.turnSecret] = turn.secret;
  let apertium: Apertium | null;
  try {
    apertium = setup.translation ? await maybeStartApertium(join(outputDir, 'apertium.log')) : null;
  } catch (err) {
    await turn.stop();
    throw err;
  }
  if (apertium) process.env[E2E_ENV.apertiumPid] = String(apertium.child.pid);
  process.env[E2E_ENV.translation] = apertium ? 'apertium' : 'none';

  // Account email (forgot password) goes to a real SMTP server process; the scenarios read its mails.
  const mailbox = await startMailbox();
  process.env[E2E_ENV.mailPid] = String(mailbox.child.pid);
  process.env[E2E_ENV.mailDir] = mailbox.dir;

  const child = spawn(process.execPath, [serverEntry], {
    cwd: repoRoot,
    env: serverEnv(dataDir, turn, apertium, { SMTP_URL: mailbox.url, ...(setup.env ?? {}) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // Never leave the server behind, even if the runner dies before the teardown.
  process.once('exit', () => child.kill('SIGKILL'));
  child.stderr.pipe(log, { end: false });

  const url = await new Promise<string>((resolve, reject) => {
    const recent: string[] = [];
    const fail = (why: string) => {
      clearTimeout(timer);
      reject(new Error(`the server did not start: ${why}\n--- last output ---\n${recent.join('\n')}`));
    };
    const timer = setTimeout(() => fail(`no "${READY_MESSAGE}" line within ${START_TIMEOUT_MS} ms`), START_TIMEOUT_MS);
    child.once('error', (err) => fail(err.message));
    child.once('exit', (code, signal) => fail(`it exited (${signal ?? code})`));
    createInterface({ input: child.stdout }).on('line', (line) => {
      log.write(`${line}\n`);
      const demo = /^\s+admin\s+admin@fusionflow\.test\s+(\S+)/.exec(line);
      if (demo) process.env[E2E_ENV.demoPassword] = demo[1];
      recent.push(line);
      if (recent.length > 40) recent.shift();
      if (!line.startsWith('{')) return;
      try {
        const entry = JSON.parse(line) as { msg?: unknown; url?: unknown };
        if (entry.msg === READY_MESSAGE && typeof entry.url === 'string') {
          clearTimeout(timer);
          resolve(entry.url);
        }
      } catch {
        // Not a log line.
      }
    });
  }).catch(async (err: unknown) => {
    child.kill('SIGKILL');
    mailbox.child.kill('SIGKILL');
    await turn.stop();
    await apertium?.stop();
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  });

  child.once('exit', (code, signal) => {
    if (process.env[E2E_ENV.serverPid]) console.error(`e2e: the server exited during the run (${signal ?? code})`);
  });
  process.env[E2E_ENV.baseUrl] = url;
  process.env[E2E_ENV.serverPid] = String(child.pid);
  process.env[E2E_ENV.dataDir] = dataDir;
  console.log(`e2e: server at ${url} (data in ${dataDir}, log in ${join(outputDir, 'server.log')})`);
  return url;
}
