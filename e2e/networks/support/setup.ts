import type { FullConfig } from '@playwright/test';
import { startPlatform } from '../../support/global-setup.js';
import { E2E_ENV } from '../../support/server-env.js';
import { createLab, destroyLab, labUnavailable, PLATFORM_IP } from './lab.js';

/**
 * The network suite's setup: build the lab (namespaces, router, uplink), then start the platform and coturn
 * on the uplink address, where the people's browsers reach them through the router. Without root, iproute2,
 * iptables or python3 the suite is skipped with the reason; FF_REQUIRE_NETNS=1 (CI) makes that a failure.
 */
export default async function networksSetup(config: FullConfig): Promise<void> {
  const missing = labUnavailable();
  if (missing) {
    if (process.env.FF_REQUIRE_NETNS === '1') throw new Error(`FF_REQUIRE_NETNS=1 but ${missing}`);
    process.env[E2E_ENV.networksSkip] = missing;
    console.log(`e2e networks: skipped, ${missing}`);
    return;
  }
  createLab();
  // Never leave namespaces behind, even if the runner dies before the teardown.
  process.once('exit', destroyLab);
  try {
    await startPlatform(config, {
      translation: false,
      env: {
        HOST: PLATFORM_IP,
        // The SFU offers and checks the uplink address only: media goes through the router like everything else.
        ICE_ADDRESSES: PLATFORM_IP,
      },
      coturn: { ip: PLATFORM_IP },
    });
  } catch (err) {
    destroyLab();
    throw err;
  }
}
