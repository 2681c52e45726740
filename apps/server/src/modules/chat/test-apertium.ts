import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where Debian's Apertium packages put their modes (one per installed pair direction). */
export const APERTIUM_MODES_DIR = '/usr/share/apertium/modes';

export interface Apertium {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The Debian package behind each pair direction the tests use, and the mode file it installs
 * (APy serves one pair per mode file in APERTIUM_MODES_DIR). A test names the directions it uses.
 */
const PAIRS: Readonly<Record<string, { mode: string; pkg: string }>> = {
  'en|es': { mode: 'eng-spa', pkg: 'apertium-eng-spa' },
  'es|en': { mode: 'spa-eng', pkg: 'apertium-eng-spa' },
  'en|ca': { mode: 'eng-cat', pkg: 'apertium-eng-cat' },
  'ca|en': { mode: 'cat-eng', pkg: 'apertium-eng-cat' },
  'es|pt': { mode: 'es-pt', pkg: 'apertium-es-pt' },
  'pt|es': { mode: 'pt-es', pkg: 'apertium-es-pt' },
  'fr|es': { mode: 'fr-es', pkg: 'apertium-fr-es' },
  'es|fr': { mode: 'es-fr', pkg: 'apertium-fr-es' },
};

export interface ApertiumCheck {
  /** apertium-apy and every pair asked for are installed. */
  ok: boolean;
  /** Why not, naming the Debian packages to install ('' when ok). */
  reason: string;
}

export interface ApertiumCheckOptions {
  modesDir?: string;
  /** FF_REQUIRE_APERTIUM=1 (CI) turns a missing piece into a failure. */
  env?: Record<string, string | undefined>;
  /** Whether the apertium-apy program is there (looked up on PATH by default). */
  hasApy?: boolean;
}

/** Is Debian's apertium-apy installed? */
export function hasApertium(): boolean {
  return spawnSync('sh', ['-c', 'command -v apertium-apy'], { stdio: 'ignore' }).status === 0;
}

/**
 * Can a test use Apertium APy with exactly these pair directions (`en|es`)? Missing pieces make
 * the test skip with a message naming the Debian packages, unless FF_REQUIRE_APERTIUM=1 (CI),
 * where this throws instead.
 */
export function apertiumFor(pairs: readonly string[], o: ApertiumCheckOptions = {}): ApertiumCheck {
  const modesDir = o.modesDir ?? APERTIUM_MODES_DIR;
  const env = o.env ?? process.env;
  const wanted = pairs.map((pair) => {
    const known = PAIRS[pair];
    if (!known) throw new Error(`test-apertium: no Debian package known for the pair ${pair}; add it to PAIRS`);
    return { pair, ...known };
  });
  const packages = [...new Set(wanted.map((w) => w.pkg))];
  let reason = '';
  if (!(o.hasApy ?? hasApertium())) {
    reason = `apertium-apy is not installed (apt-get install apertium-apy ${packages.join(' ')})`;
  } else {
    const missing = wanted.filter((w) => !existsSync(join(modesDir, `${w.mode}.mode`)));
    if (missing.length > 0) {
      const names = [...new Set(missing.map((m) => m.pkg))];
      reason = `Apertium pair ${missing.map((m) => m.pair).join(', ')} is not installed (apt-get install ${names.join(' ')})`;
    }
  }
  if (reason !== '' && env.FF_REQUIRE_APERTIUM === '1') throw new Error(`FF_REQUIRE_APERTIUM=1 but ${reason}`);
  if (reason !== '') console.warn(`skipped: ${reason}`);
  return { ok: reason === '', reason };
}

/** A TCP port nothing listens on now (APy binds every interface, so ask for one on all of them). */
export async function freeTcpPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/**
 * Start Debian's Apertium APy with every installed pair on a free port and wait until it lists
 * its pairs. stop() kills it (and the translation pipelines it started).
 */
export async function startApertium(options: { timeoutMs?: number } = {}): Promise<Apertium> {
  const port = await freeTcpPort();
  const child = spawn('apertium-apy', ['-p', String(port), '-j', '1', APERTIUM_MODES_DIR], {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  let output = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  });
  const url = `http://127.0.0.1:${port}`;
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    try {
      // The whole process group: APy and the apertium pipelines it spawned.
      process.kill(-child.pid!, 'SIGTERM');
    } catch {
      child.kill('SIGTERM');
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {}
    }, 3000);
    await exited;
    clearTimeout(timer);
  };
  const deadline = Date.now() + (options.timeoutMs ?? 30_000);
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`apertium-apy exited with ${child.exitCode}: ${output}`);
    try {
      const res = await fetch(`${url}/listPairs`, { signal: AbortSignal.timeout(1000) });
      if (res.ok) return { url, child, stop };
    } catch {}
    await sleep(200);
  }
  await stop();
  throw new Error(`apertium-apy did not answer on ${url} in time: ${output}`);
}
