import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const serverDir = fileURLToPath(new URL('..', import.meta.url));

export interface ServerProcess {
  child: ChildProcess;
  /** Everything the process wrote so far. */
  output(): string;
  /** Resolves with the exit code (128 when killed by a signal). */
  exited: Promise<number>;
  /** The exit code once the process has exited. */
  exitCode(): number | undefined;
}

/**
 * Run the real entry point (TypeScript through tsx) as an operator would, with only the given
 * environment. `wrap` runs it through another command (`ip netns exec <ns>`), which must exec it.
 */
export function startServerProcess(env: Record<string, string>, wrap: string[] = []): ServerProcess {
  let out = '';
  let exitCode: number | undefined;
  const argv = [...wrap, process.execPath, '--conditions=source', '--import', 'tsx', 'src/bin.ts'];
  const child = spawn(argv[0]!, argv.slice(1), {
    cwd: serverDir,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number>((resolve) =>
    child.on('exit', (code, signal) => {
      exitCode = code ?? (signal ? 128 : -1);
      resolve(exitCode);
    }),
  );
  return { child, output: () => out, exited, exitCode: () => exitCode };
}

export async function waitFor<T>(what: string, probe: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The base URL the process announced ("FusionFlow is running at …"). */
export function announcedUrl(server: ServerProcess, timeoutMs = 60_000): Promise<string> {
  return waitFor(
    'start-up',
    () => {
      const code = server.exitCode();
      if (code !== undefined) throw new Error(`the server exited (${code}) before starting:\n${server.output()}`);
      return /FusionFlow is running at (http:\/\/\S+)/.exec(server.output())?.[1];
    },
    timeoutMs,
  );
}

/** Run one of the server's command-line tools (src/cli/<name>.ts) with only the given environment. */
export function runServerTool(
  name: 'doctor' | 'backup' | 'restore',
  args: string[],
  env: Record<string, string>,
): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    let output = '';
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', `src/cli/${name}.ts`, ...args], {
      cwd: serverDir,
      env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d) => (output += d));
    child.stderr!.on('data', (d) => (output += d));
    child.on('exit', (code) => resolve({ code: code ?? -1, output }));
  });
}
