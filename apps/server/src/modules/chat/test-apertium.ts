import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

/** Where Debian's Apertium packages put their modes (one per installed pair direction). */
export const APERTIUM_MODES_DIR = '/usr/share/apertium/modes';

export interface Apertium {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** Is Debian's apertium-apy installed? */
export function hasApertium(): boolean {
  return spawnSync('sh', ['-c', 'command -v apertium-apy'], { stdio: 'ignore' }).status === 0;
}

/**
 * Apertium for tests: whether to run the suites that need it. Missing apertium-apy skips them,
 * unless FF_REQUIRE_APERTIUM=1 (CI), which makes it a failure.
 */
export function apertiumAvailable(): boolean {
  const ok = hasApertium();
  if (!ok && process.env.FF_REQUIRE_APERTIUM === '1') {
    throw new Error(
      'FF_REQUIRE_APERTIUM=1 but apertium-apy is not installed (apt-get install apertium-apy apertium-eng-spa)',
    );
  }
  return ok;
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
