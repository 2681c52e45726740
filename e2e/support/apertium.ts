import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where Debian's Apertium packages put their modes (one per installed pair direction). */
const MODES_DIR = '/usr/share/apertium/modes';
const START_TIMEOUT_MS = 60_000;
/**
 * The pairs the chat scenario uses: checked before the run (global-setup.ts), and started once here
 * so its first messages do not wait for them.
 */
export const CHAT_PAIRS = ['en|es', 'es|en'] as const;

export interface Apertium {
  url: string;
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** A TCP port nothing listens on now, on any interface (APy binds all of them). */
async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no free TCP port');
  return address.port;
}

/** Is the process group (APy and the pipelines it started) still there? */
function groupAlive(pid: number): boolean {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Stop APy's whole process group: SIGTERM, then SIGKILL after a grace period. Safe to call twice. */
export async function stopApertiumGroup(pid: number, graceMs = 5000): Promise<void> {
  if (!(pid > 0) || !groupAlive(pid)) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (groupAlive(pid) && Date.now() < deadline) await sleep(100);
  if (groupAlive(pid)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone meanwhile.
    }
  }
}

/**
 * Start Debian's Apertium APy with every installed pair on a free port (its own process group, so
 * the translation pipelines it spawns stop with it), wait until it lists its pairs, and start the
 * English⇄Spanish pipelines with one translation each. Its output goes to `logFile`.
 */
export async function startApertium(logFile: string): Promise<Apertium> {
  const port = await freeTcpPort();
  const log = createWriteStream(logFile);
  const child = spawn('apertium-apy', ['-p', String(port), '-j', '1', MODES_DIR], {
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: true,
  });
  child.stdout!.pipe(log);
  child.stderr!.pipe(log);
  // Never leave it behind, even if the runner dies before the teardown.
  process.once('exit', () => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // Already gone.
    }
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = () => stopApertiumGroup(child.pid!);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    const failed = await Promise.race([spawnError, sleep(200).then(() => undefined)]);
    if (failed) throw new Error(`could not start apertium-apy (apt-get install apertium-apy): ${failed.message}`);
    if (child.exitCode !== null) throw new Error(`apertium-apy exited (${child.exitCode}); see ${logFile}`);
    try {
      const res = await fetch(`${url}/listPairs`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) {
        await warm(url);
        return { url, port, child, stop };
      }
    } catch {
      // Not listening yet.
    }
  }
  await stop();
  throw new Error(`apertium-apy did not answer on ${url} within ${START_TIMEOUT_MS} ms; see ${logFile}`);
}

/** One translation per pair the scenario uses (best effort: the scenario itself waits longer). */
async function warm(url: string): Promise<void> {
  await Promise.all(
    CHAT_PAIRS.map((pair) =>
      fetch(`${url}/translate?langpair=${encodeURIComponent(pair)}&q=hello`, {
        signal: AbortSignal.timeout(20_000),
      }).then(
        (res) => res.body?.cancel(),
        () => undefined,
      ),
    ),
  );
}
