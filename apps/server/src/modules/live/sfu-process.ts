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

/**
 * Secrets the embedded SFU does take: the recordings bucket's keys, which both processes hold for
 * the same bucket (the SFU uploads, the control plane presigns and deletes). Without them an
 * S3_ENDPOINT/S3_BUCKET passed on would be refused by the SFU's all-or-nothing check.
 */
export const INHERITED_SECRETS = ['S3_ACCESS_KEY_ID', 'S3_SECRET_ACCESS_KEY'];

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
  'SFU_WORKERS',
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
 * TURN_SECRET) would bypass the control plane's grants — except the recordings bucket's keys
 * (INHERITED_SECRETS), and those the control plane sets itself.
 * Everything else in the control plane's environment (its database, Redis, payment, TURN and
 * translation secrets) never reaches the media process.
 */
export async function sfuInheritedSettings(): Promise<string[]> {
  const module = (await import(pathToFileURL(sfuEntry().settingsModule).href)) as {
    sfuSettings: Record<string, Setting<unknown>>;
  };
  return Object.values(module.sfuSettings)
    .filter((s) => (!s.secret || INHERITED_SECRETS.includes(s.env)) && !SET_BY_CONTROL_PLANE.includes(s.env))
    .map((s) => s.env);
}

/** Where the embedded SFU is: `/readyz` reports it, and is not ready unless it is `running`. */
export interface EmbeddedSfuStatus {
  state: 'stopped' | 'starting' | 'running' | 'restarting' | 'closed';
  /** Restarts since the SFU last ran steadily (for a minute). */
  restarts: number;
  pid?: number;
  /** Why it last stopped or failed to start. */
  lastError?: string;
  /** When the next start is due (state `restarting`). */
  nextStartAt?: string;
}

export interface EmbeddedSfuOptions {
  /** The environment the control plane was started with: the SFU reads its own settings from it. */
  env: Record<string, string | undefined>;
  controlUrl: string;
  secret: string;
  jwks: string;
  configFile: string | undefined;
  /** Where the SFU writes recordings (the control plane's RECORDINGS_DIR), so local replays can be served. */
  recordingsDir?: string;
  logger: Logger;
  /** Wait before the first restart, doubled on each restart that follows (1 s), up to `restartMaxMs` (30 s). */
  restartFirstMs?: number;
  restartMaxMs?: number;
  /** What to run (tests); the SFU's entry point by default. */
  entry?: () => { command: string; args: string[] };
}

/** A child that stays up this long ran steadily: the next crash starts the backoff over. */
const STEADY_MS = 60_000;

/**
 * The SFU as a child process of the control plane (`npm start`): on a free loopback port, told the
 * control plane's URL, the shared secret and the grant keys. Its JSON log lines pass through to
 * this process's stdout. If it dies it is started again with backoff (1 s, 2 s, 4 s… up to 30 s),
 * also when a restart fails during start-up, until `close()` stops it (SIGTERM, then SIGKILL).
 * A child that failed is never kept: `pid` and `url` are those of a running SFU only.
 */
export class EmbeddedSfu {
  #child: ChildProcess | undefined;
  /** The child being started (not yet ready). */
  #starting: ChildProcess | undefined;
  #url: string | undefined;
  #closed = false;
  #restartTimer: NodeJS.Timeout | undefined;
  #restarts = 0;
  #state: EmbeddedSfuStatus['state'] = 'stopped';
  #lastError: string | undefined;
  #nextStartAt: number | undefined;
  #startedAt = 0;

  constructor(private readonly o: EmbeddedSfuOptions) {}

  /** The SFU's base URL while it runs. */
  get url(): string | undefined {
    return this.#url;
  }

  /** The SFU process's id while it runs. */
  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get status(): EmbeddedSfuStatus {
    return {
      state: this.#state,
      restarts: this.#restarts,
      ...(this.#child?.pid !== undefined ? { pid: this.#child.pid } : {}),
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
      ...(this.#state === 'restarting' && this.#nextStartAt !== undefined
        ? { nextStartAt: new Date(this.#nextStartAt).toISOString() }
        : {}),
    };
  }

  /** The whole environment the SFU process starts with: an allow-list, never the control plane's secrets. */
  async environment(): Promise<Record<string, string>> {
    const allowed = new Set([...PROCESS_ENV, ...(await sfuInheritedSettings())]);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.o.env))
      if (v !== undefined && allowed.has(k) && !OWN_ENV.includes(k)) env[k] = v;
    // The one SFU the control plane runs is its static node: nothing to place, so it does not report
    // itself unless the operator asks for it (SFU_REPORT_INTERVAL_SECONDS).
    env.SFU_REPORT_INTERVAL_SECONDS ??= '0';
    return Object.assign(env, {
      SFU_HOST: '127.0.0.1',
      SFU_PORT: '0',
      // One process: the control plane's static node (several workers are several nodes: run the SFU on its own).
      SFU_WORKERS: '1',
      CONTROL_URL: this.o.controlUrl,
      INTERNAL_SECRET: this.o.secret,
      JWKS: this.o.jwks,
      // Only the control plane's forwarder (on loopback) may say who the client is; it sends the address it computed.
      SFU_TRUST_PROXY: 'loopback',
      ...(this.o.configFile ? { CONFIG_FILE: this.o.configFile } : {}),
      ...(this.o.recordingsDir ? { RECORDINGS_DIR: this.o.recordingsDir } : {}),
    });
  }

  /** Start the SFU; resolves with its URL once it is ready. A failure leaves no child behind. */
  async start(): Promise<string> {
    if (this.#closed) throw new Error('the embedded SFU is closed');
    this.#state = 'starting';
    try {
      return await this.#spawn();
    } catch (err) {
      this.#lastError = err instanceof Error ? err.message : String(err);
      if (!this.#closed) this.#state = 'stopped';
      throw err;
    }
  }

  async #spawn(): Promise<string> {
    const { command, args } = (this.o.entry ?? sfuEntry)();
    if (!existsSync(args.at(-1)!)) throw new Error(`the SFU is not built: ${args.at(-1)} is missing (npm run build)`);
    const env = await this.environment();
    const child = spawn(command, args, { env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    this.#starting = child;
    child.stderr?.pipe(process.stderr, { end: false });
    const ready = new Promise<string>((resolveUrl, reject) => {
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
    let url: string;
    try {
      url = await ready;
    } catch (err) {
      this.#starting = undefined;
      // Never keep a child that did not come up (a timeout leaves it running).
      child.removeAllListeners('exit');
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      throw err;
    }
    this.#starting = undefined;
    child.removeAllListeners('exit');
    if (this.#closed) {
      child.kill('SIGTERM');
      throw new Error('the embedded SFU was closed while it started');
    }
    child.once('exit', (code, signal) => this.#exited(child, code, signal));
    this.#child = child;
    this.#url = url;
    this.#state = 'running';
    this.#startedAt = Date.now();
    this.o.logger.info({ url, pid: child.pid }, 'embedded SFU started');
    return url;
  }

  #exited(child: ChildProcess, code: number | null, signal: NodeJS.Signals | null): void {
    if (this.#child !== child) return;
    this.#url = undefined;
    this.#child = undefined;
    if (this.#closed) return;
    if (Date.now() - this.#startedAt >= STEADY_MS) this.#restarts = 0;
    this.#lastError = `exited (${signal ?? code})`;
    this.o.logger.error({ code, signal }, 'the embedded SFU exited; starting it again');
    this.#scheduleRestart();
  }

  /** The next start after a backoff; a start that fails schedules the one after it. */
  #scheduleRestart(): void {
    const first = this.o.restartFirstMs ?? 1000;
    const wait = Math.min(first * 2 ** this.#restarts, this.o.restartMaxMs ?? 30_000);
    this.#restarts++;
    this.#state = 'restarting';
    this.#nextStartAt = Date.now() + wait;
    this.o.logger.warn({ restartInMs: wait, restarts: this.#restarts }, 'embedded SFU restart scheduled');
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      this.#restartTimer = undefined;
      if (this.#closed) return;
      this.start().catch((err: unknown) => {
        if (this.#closed) return;
        this.o.logger.error({ err }, 'could not restart the SFU');
        this.#scheduleRestart();
      });
    }, wait);
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#state = 'closed';
    clearTimeout(this.#restartTimer);
    if (this.#starting && this.#starting.exitCode === null) this.#starting.kill('SIGKILL');
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
