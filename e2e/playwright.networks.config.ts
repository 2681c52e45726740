import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/chromium.js';

/**
 * The network suite (networks/README.md): each person's Chromium in a network namespace behind a router
 * that blocks, drops, delays and switches networks; the platform on the router's uplink. Needs root.
 */
export default defineConfig({
  testDir: './networks',
  outputDir: './test-results/networks',
  globalSetup: './networks/support/setup.ts',
  globalTeardown: './networks/support/teardown.ts',
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 150_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    baseURL: process.env.FF_E2E_BASE_URL,
    browserName: 'chromium',
    locale: 'en-US',
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
});
