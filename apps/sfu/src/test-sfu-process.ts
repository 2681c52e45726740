import { type ChildProcessByStdio, spawn } from 'node:child_process';
import type { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('./bin.ts', import.meta.url));

export interface SfuProcess {
  child: ChildProcessByStdio<null, Readable, Readable>;
  /** Everything it has written (stdout and stderr) so far. */
  output(): string;
  /** Its exit code, once it exits. */
  exited: Promise<number | null>;
}

/** The SFU's process entry (bin.ts, from source) with exactly `env` (and PATH), its output collected. */
export function spawnSfuProcess(env: Record<string, string>): SfuProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', '--conditions=source', bin], {
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  const collect = (chunk: Buffer) => {
    out += chunk;
  };
  child.stdout.on('data', collect);
  child.stderr.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => out, exited };
}
