import { fileURLToPath } from 'node:url';
import { ConfigError, closeOnSignals, createLogger, Lifecycle } from '@fusionflow/kit';
import { loadSfuConfig, type SfuConfig } from './config.js';
import { defaultWorkerCount, WorkerSupervisor } from './workers/worker-supervisor.js';

/** Process entry of the SFU (media plane): configuration, tracing, the SFU, signals. */
async function run(): Promise<void> {
  let config: SfuConfig;
  try {
    config = loadSfuConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  const workers = config.workers ?? defaultWorkerCount(config);
  if (workers > 1) return supervise(config, workers);
  // Tracing patches http, so it starts before Fastify is loaded.
  const tracing = config.otelEndpoint
    ? await (await import('@fusionflow/kit/tracing')).startTracing(config.otelEndpoint, config.otelServiceName)
    : undefined;
  const { createSfu } = await import('./main.js');
  const sfu = await createSfu(config);
  const lifecycle = new Lifecycle(sfu.logger);
  if (tracing) lifecycle.add('tracing', () => tracing.shutdown());
  lifecycle.add('sfu', (reason) => sfu.close(reason));
  const url = await sfu.listen();
  // A close that hangs (a peer that never finishes) must not keep the process; and a parent that
  // went away (a closed stdout pipe) must not turn the shutdown's log lines into a crash loop.
  const deadline = () => setTimeout(() => process.exit(0), 10_000);
  process.prependOnceListener('SIGTERM', deadline);
  process.prependOnceListener('SIGINT', deadline);
  process.stdout.on('error', () => {});
  closeOnSignals(lifecycle, sfu.logger);
  // Draining (SIGUSR2 or POST /api/admin/drain): no new sessions; close as on SIGTERM once empty or at the deadline.
  process.on('SIGUSR2', () => sfu.startDrain());
  sfu.drain.on('done', () => {
    deadline();
    void lifecycle.close('drained').then(() => process.exit(0));
  });
  // The control plane that spawned this process closes it; if that parent dies, do not linger.
  if (process.send) {
    process.on('disconnect', () => {
      deadline();
      void lifecycle.close('parent gone').then(() => process.exit(0));
    });
  }
  sfu.logger.info({ url, auth: sfu.auth.describe() }, 'SFU is running');
  // Started by the control plane: tell it where we listen, whatever the log level (the start-up
  // lines are written by now: the logger writes synchronously).
  process.send?.({ type: 'ready', url });
}

/** SFU_WORKERS > 1: this process only supervises one worker process per core (each runs `run` with one worker). */
async function supervise(config: SfuConfig, count: number): Promise<void> {
  const logger = createLogger({ name: 'sfu-supervisor', level: config.logLevel });
  const supervisor = new WorkerSupervisor({
    config,
    count,
    entry: fileURLToPath(import.meta.url),
    execArgv: process.execArgv,
    logger,
  });
  supervisor.start();
  let stopping = false;
  const stop = (reason: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'stopping the workers');
    void supervisor.stop().then(() => process.exit(0));
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  process.stdout.on('error', () => {});
  // Drain every worker; the supervisor exits when they all have.
  process.on('SIGUSR2', () => {
    supervisor.drain();
    const check = setInterval(() => {
      if (supervisor.idle) {
        clearInterval(check);
        stop('drained');
      }
    }, 500);
  });
  logger.info({ workers: count, pids: supervisor.pids }, 'SFU workers are running');
}

run().catch((err) => {
  console.error('SFU failed to start:', err);
  process.exit(1);
});
