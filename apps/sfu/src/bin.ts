import { ConfigError, closeOnSignals, Lifecycle } from '@fusionflow/kit';
import { loadSfuConfig, type SfuConfig } from './config.js';

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

run().catch((err) => {
  console.error('SFU failed to start:', err);
  process.exit(1);
});
