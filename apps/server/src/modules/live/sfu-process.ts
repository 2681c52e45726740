import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Logger } from '@fusionflow/kit';

const here = dirname(fileURLToPath(import.meta.url));
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 8000;

/** Settings of the control plane that the SFU must never see. */
const PRIVATE_ENV = ['DATABASE_URL', 'ACCESS_TOKEN_SECRET', 'GRANT_PRIVATE_KEY', 'CONFIG_FILE', 'SFU_INTERNAL_SECRET'];

/** The SFU's entry point: the build next to this one, or its TypeScript source under `npm run dev`. */
export function sfuEntry(): { command: string; args: string[] } {
  const fromSource = import.meta.url.endsWith('.ts');
  const appsDir = resolve(here, '../../../..');
  if (fromSource) {
    return {
      command: process.execPath,
      args: ['--import', 'tsx', '--conditions=source', join(appsDir, 'sfu/src/bin.ts')],
    };
  }
  return { command: process.execPath, args: [join(appsDir, 'sfu/dist/bin.js')] };
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

  async start(): Promise<string> {
    const { command, args } = sfuEntry();
    if (!existsSync(args.at(-1)!)) throw new Error(`the SFU is not built: ${args.at(-1)} is missing (npm run build)`);
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(this.o.env)) if (v !== undefined && !PRIVATE_ENV.includes(k)) env[k] = v;
    Object.assign(env, {
      SFU_HOST: '127.0.0.1',
      SFU_PORT: '0',
      CONTROL_URL: this.o.controlUrl,
      INTERNAL_SECRET: this.o.secret,
      JWKS: this.o.jwks,
      // Only the control plane's forwarder (on loopback) may say who the client is; it sends the address it computed.
      SFU_TRUST_PROXY: 'loopback',
      ...(this.o.configFile ? { CONFIG_FILE: this.o.configFile } : {}),
    });
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
