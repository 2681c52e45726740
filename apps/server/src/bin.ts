import { ConfigError } from '@fusionflow/kit';
import { loadServerConfig, type ServerConfig } from './config.js';
import { startupBanner } from './startup-banner.js';

/** Process entry of the control plane: configuration, tracing, the platform, signals. */
async function run(): Promise<void> {
  let config: ServerConfig;
  try {
    config = loadServerConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(err.message);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
  // Tracing patches http and pg, so it starts before they are loaded.
  const tracing = config.otelEndpoint
    ? await (await import('@fusionflow/kit/tracing')).startTracing(config.otelEndpoint, config.otelServiceName)
    : undefined;
  const { createPlatform } = await import('./main.js');
  const { closeOnSignals, Lifecycle } = await import('@fusionflow/kit');
  const platform = await createPlatform(config, { env: process.env });
  const lifecycle = new Lifecycle(platform.logger);
  if (tracing) lifecycle.add('tracing', () => tracing.shutdown());
  lifecycle.add('platform', (reason) => platform.close(reason));
  const url = await platform.listen();
  closeOnSignals(lifecycle, platform.logger);
  platform.logger.info({ url, database: platform.database.kind }, 'FusionFlow is running');
  const banner = startupBanner({
    url,
    config,
    embeddedDatabase: platform.database.kind === 'pglite',
    demoAccounts: platform.demoAccounts,
    devProvider: platform.services.wallet.providers.includes('dev'),
    turnEnabled: platform.services.ice.turnEnabled,
    translation: await platform.services.doctor.translation(),
  });
  for (const warning of banner.warnings) platform.logger.warn({ host: config.host }, warning);
  // The banner comes last: after every start-up log line (the logger writes synchronously).
  process.stdout.write(`${banner.text}\n`);
}

run().catch((err) => {
  console.error('FusionFlow failed to start:', err);
  process.exit(1);
});
