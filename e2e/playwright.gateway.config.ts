import { defineConfig } from '@playwright/test';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from './support/chromium.js';

/**
 * The gateway subset: the built platform behind nginx (deploy/nginx/fusionflow.conf) on
 * https://localhost:PORT with a test CA's certificate, which the browser is told to accept.
 * Sign in, an admin page, go live and watch, chat, a call — everything through nginx.
 */
export default defineConfig({
  testDir: './gateway',
  outputDir: './test-results/gateway',
  globalSetup: './support/gateway-setup.ts',
  globalTeardown: './support/gateway-teardown.ts',
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 90_000,
  expect: { timeout: 15_000 },
  reporter: [['list']],
  use: {
    baseURL: process.env.FF_E2E_BASE_URL,
    ignoreHTTPSErrors: true,
    browserName: 'chromium',
    locale: 'en-US',
    launchOptions: { executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
});
