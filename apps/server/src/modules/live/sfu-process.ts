import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Logger, Setting } from '@fusionflow/kit';

const here = dirname(fileURLToPath(import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 8000;

/** What a Node process needs of its environment to run at all (no setting of either app). */
const PROCESS_ENV = ['PATH', 'HOME', 'TMPDIR', 'TZ', 'LANG', 'LC_ALL', 'NODE_ENV', 'NODE_OPTIONS'];
/** Settings both read that name the control plane itself: the SFU keeps its own default (its traces say "fusionflow-sfu"). */
export const OWN_ENV = ['OTEL_SERVICE_NAME'];

/** SFU settings the control plane sets itself (below), so the operator's environment never does. */
const SET_BY_CONTROL_PLANE = [
  'SFU_HOST',
  'SFU_PORT',
  'CONTROL_URL',
  'JWKS_URL',
  'JWKS',
  'INTERNAL_SECRET',
  'SFU_TRUST_PROXY',
  'CONFIG_FILE',
];

/**
 * The SFU's entry point and its settings module: the build next to this one, or the TypeScript
 * sources under `npm run dev` and the tests.
 */
export function sfuEntry(): { command: string; args: string[]; settingsModule: string } {
  const fromSource = import.meta.url.endsWith('.ts');
  const appsDir = resolve(here, '../../../..');
  if (fromSource) {
    return {
      command: process.execPath,
      args: ['--import', 'tsx', '--conditions=source', join(appsDir, 'sfu/src/bin.ts')],
      settingsModule: join(appsDir, 'sfu/src/config.ts'),
    };
  }
  return {
    command: process.execPath,
    args: [join(appsDir, 'sfu/dist/bin.js')],
    settingsModule: join(appsDir, 'sfu/dist/config.js'),
  };
}

/**
 * The environment variables the embedded SFU may take from the control plane's environment: its
 * own settings as its config.ts declares them (read from the SFU's module, so the list cannot
 * drift), except its secrets — standalone credentials (ROOM_TOKENS, AUTH_TOKEN, JWT_SECRET,
 * TURN_SECRET) would bypass the control plane's grants — and those the control plane sets itself.
 * Everything else in the control plane's environment (its database, Redis, payment, TURN and
 * translation secrets) never reaches the media process.
 */
export async function sfuInheritedSettings(): Promise<string[]> {
  const module = (await import(pathToFileURL(sfuEntry().settingsModule).href)) as {
    sfuSettings: Record<string, Setting<unknown>>;
  };
  return Object.values(module.sfuSettings)
    .filter((s) => !s.secret && !SET_BY_CONTROL_PLANE.includes(s.env))
    .map((s) => s.env);
}

export interface EmbeddedSfuOptions {
  /** The environment the control plane was started with: the SFU reads its own settings from it. */
  env: Record<string, string | undefined>;
  controlUrl: string;
  secret: string;
  jwks: string;
  configFile: string | undefined;
  logger: Logger;
}

/**
 * The SFU as a child process of the control plane (`npm start`): on a free loopback port, told the
 * control plane's URL, the shared secret and the grant keys. Its JSON log lines pass through to
 * this process's stdout. If it dies it is started again (after a pause); `close()` stops it
 * (SIGTERM, then SIGKILL).
 */
export class EmbeddedSfu {
  #child: ChildProcess | undefined;
  #url: string | undefined;
  #closed = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #restarts = 0;

  constructor(private readonly o: EmbeddedSfuOptions) {}

  /** The SFU's base URL while it runs. */
  get url(): string | undefined {
    return this.#url;
  }

  /** The SFU process's id while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** The whole environment the SFU process starts with: an allow-list, never the control plane's secrets. */
  async environment(): Promise<Record<string, string>> {
    const allowed = new Set([...PROCESS_ENV, ...(await sfuInheritedSettings())]);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.o.env))
      if (v !== undefined && allowed.has(k) && !OWN_ENV.includes(k)) env[k] = v;
    return Object.assign(env, {
      SFU_HOST: '127.0.0.1',
      SFU_PORT: '0',
      CONTROL_URL: this.o.controlUrl,
      INTERNAL_SECRET: this.o.secret,
      JWKS: this.o.jwks,
      // Only the control plane's forwarder (on loopback) may say who the client is; it sends the address it computed.
      SFU_TRUST_PROXY: 'loopback',
      ...(this.o.configFile ? { CONFIG_FILE: this.o.configFile } : {}),
    });
  }

  async start(): Promise<string> {
    const { command, args } = sfuEntry();
    if (!existsSync(args.at(-1)!)) throw new Error(`the SFU is not built: ${args.at(-1)} is missing (npm run build)`);
    const env = await this.environment();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.#child = child;
    child.stderr?.pipe(process.stderr, { end: false });
    const url = await new Promise<string>((resolveUrl, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`the SFU did not start within ${START_TIMEOUT_MS} ms`)),
        START_TIMEOUT_MS,
      );
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the SFU exited during start-up (${signal ?? code})`));
      });
      // Its log lines pass through; readiness comes over the IPC channel (independent of LOG_LEVEL).
      createInterface({ input: child.stdout! }).on('line', (line) => process.stdout.write(`${line}\n`));
      child.once('message', (message: { type?: string; url?: string }) => {
        if (message?.type === 'ready' && typeof message.url === 'string') {
          clearTimeout(timer);
          resolveUrl(message.url);
        }
      });
    });
    child.removeAllListeners('exit');
    child.once('exit', (code, signal) => this.#exited(child, code, signal));
    this.#url = url;
    this.o.logger.info({ url, pid: child.pid }, 'embedded SFU started');
    return url;
  }

  #exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child) return;
    this.#url = undefined;
    this.#child = undefined;
    if (this.#closed) return;
    this.#restarts++;
    const wait = Math.min(1000 * this.#restarts, 10_000);
    this.o.logger.error({ code, signal, restartInMs: wait }, 'the embedded SFU exited; starting it again');
    this.#restartTimer = setTimeout(() => {
      this.start().catch((err: unknown) => this.o.logger.error({ err }, 'could not restart the SFU'));
    }, wait);
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#restartTimer);
    const child = this.#child;
    this.#child = undefined;
    this.#url = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((done) => {
      const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
      child.once('exit', () => {
        clearTimeout(timer);
        done();
      });
      child.kill('SIGTERM');
    });
  }
}
