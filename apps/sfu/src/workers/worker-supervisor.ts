import { type ChildProcess, fork } from 'node:child_process';
import { availableParallelism, hostname } from 'node:os';
import type { Logger } from '@fusionflow/kit';
import type { SfuConfig } from '../config.js';

/** How many workers a machine runs when SFU_WORKERS is not set. */
export function defaultWorkerCount(config: Pick<SfuConfig, 'controlUrl' | 'internalSecret'>): number {
  return config.controlUrl && config.internalSecret ? availableParallelism() : 1;
}

/** The settings that differ per worker: its node id, its HTTP port, its slice of the ICE ports, its URL. */
export function workerEnv(config: SfuConfig, index: number, count: number): Record<string, string> {
  const env: Record<string, string> = {
    SFU_WORKERS: '1',
    // Stable across restarts: a restarted worker takes its own place in the directory again.
    SFU_NODE_ID: `${
      config.nodeId?.slice(0, 56) ??
      (hostname()
        .replace(/[^A-Za-z0-9_.-]/g, '-')
        .slice(0, 48) ||
        'sfu')
    }-w${index}`,
    SFU_PORT: String(config.port === 0 ? 0 : config.port + index),
  };
  if (config.icePortRange) {
    const [low, high] = config.icePortRange;
    const size = Math.floor((high - low + 1) / count);
    if (size < 1) throw new Error(`ICE_PORT_RANGE ${low}-${high} has fewer ports than SFU_WORKERS (${count})`);
    env.ICE_PORT_RANGE = `${low + index * size}-${low + (index + 1) * size - 1}`;
  }
  if (config.advertisedUrl) {
    const url = new URL(config.advertisedUrl);
    url.port = String(Number(url.port || (url.protocol === 'https:' ? 443 : 80)) + index);
    env.SFU_ADVERTISED_URL = url.toString().replace(/\/$/, '');
  }
  return env;
}

/** A worker that stays up this long has its restart backoff forgotten. */
const STABLE_MS = 60_000;
/** A worker not gone this long after SIGTERM is killed. */
const STOP_DEADLINE_MS = 12_000;

interface Worker {
  index: number;
  child: ChildProcess | undefined;
  startedAt: number;
  restarts: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * One media worker process per core (SFU_WORKERS): each is a whole SFU and a node of its own in the control plane's
 * directory, so placement fills workers and relays join a room across them as across machines. The supervisor only
 * starts them, restarts one that dies (with backoff), passes drain (SIGUSR2) on, and stops them all on SIGTERM.
 */
export class WorkerSupervisor {
  readonly #workers: Worker[] = [];
  #stopping = false;
  /** Draining: a worker that exits (empty, or at its deadline) is not restarted. */
  #draining = false;

  constructor(
    private readonly o: {
      config: SfuConfig;
      count: number;
      /** The SFU's entry script (bin.ts or its build). */
      entry: string;
      execArgv: string[];
      logger: Logger;
    },
  ) {}

  get pids(): number[] {
    return this.#workers.flatMap((w) => (w.child?.pid ? [w.child.pid] : []));
  }

  start(): void {
    for (let i = 0; i < this.o.count; i++) {
      const w: Worker = { index: i, child: undefined, startedAt: 0, restarts: 0, timer: undefined };
      this.#workers.push(w);
      this.#spawn(w);
    }
  }

  #spawn(w: Worker): void {
    const env = { ...process.env, ...workerEnv(this.o.config, w.index, this.o.count) };
    const child = fork(this.o.entry, [], { env, execArgv: this.o.execArgv, stdio: 'inherit' });
    w.child = child;
    w.startedAt = performance.now();
    this.o.logger.info({ worker: w.index, pid: child.pid, nodeId: env.SFU_NODE_ID }, 'worker started');
    child.on('exit', (code, signal) => {
      if (w.child !== child) return;
      w.child = undefined;
      if (this.#stopping || this.#draining) return;
      if (performance.now() - w.startedAt > STABLE_MS) w.restarts = 0;
      const delay = Math.min(30_000, 500 * 2 ** w.restarts++);
      this.o.logger.error({ worker: w.index, code, signal, restartInMs: delay }, 'worker died; restarting it');
      w.timer = setTimeout(() => {
        w.timer = undefined;
        if (!this.#stopping) this.#spawn(w);
      }, delay);
    });
  }

  /** Drain every worker (each exits once empty or at its deadline; the supervisor then stops). */
  drain(): void {
    this.#draining = true;
    for (const w of this.#workers) w.child?.kill('SIGUSR2');
  }

  /** Whether every worker has exited on its own (drained) and none is restarting. */
  get idle(): boolean {
    return this.#workers.every((w) => !w.child && !w.timer);
  }

  /** SIGTERM to every worker; resolves when all have exited (killed at the deadline). */
  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(
      this.#workers.map(async (w) => {
        clearTimeout(w.timer);
        const child = w.child;
        if (!child || child.exitCode !== null) return;
        const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
        child.kill('SIGTERM');
        const deadline = setTimeout(() => child.kill('SIGKILL'), STOP_DEADLINE_MS);
        await gone;
        clearTimeout(deadline);
      }),
    );
  }
}
