import { ConfigError, closeOnSignals, Lifecycle } from '@fusionflow/kit';
import { loadSfuConfig, type SfuConfig } from './config.js';
import { createSfu } from './main.js';

/** Process entry of the SFU (media plane): configuration, the SFU, signals. */
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
  const sfu = await createSfu(config);
  const lifecycle = new Lifecycle(sfu.logger);
  lifecycle.add('sfu', (reason) => sfu.close(reason));
  const url = await sfu.listen();
  // Exit once closed; a close that hangs (a peer that never finishes) must not keep the process.
  closeOnSignals(lifecycle, sfu.logger);
  process.once('SIGTERM', () => setTimeout(() => process.exit(0), 10_000).unref());
  process.once('SIGINT', () => setTimeout(() => process.exit(0), 10_000).unref());
  // The control plane that spawned this process closes it; if that parent dies, do not linger.
  if (process.send) process.on('disconnect', () => void lifecycle.close('parent gone').then(() => process.exit(0)));
  sfu.logger.info({ url, auth: sfu.auth.describe() }, 'SFU is running');
}

run().catch((err) => {
  console.error('SFU failed to start:', err);
  process.exit(1);
});
