import { defineConfig } from '@playwright/test';

/** Debian's Chromium with the flags that work here (see DESIGN.md, "Testing against the real thing"). */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
  '--allow-loopback-in-peer-connection',
];

/**
 * Browser scenarios against the built platform. The global setup starts `apps/server/dist/bin.js`
 * on a free port with a fresh database and publishes its URL as FF_E2E_BASE_URL before the workers
 * (which load this file again) start. Build first: `npm run test:e2e` at the root does.
 */
export default defineConfig({
  testDir: './tests',
  outputDir: './test-results',
  globalSetup: './support/global-setup.ts',
  globalTeardown: './support/global-teardown.ts',
  workers: 1,
  fullyParallel: false,
  forbidOnly: Boolean(process.env.CI),
  retries: 0,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list']],
  use: {
    baseURL: process.env.FF_E2E_BASE_URL,
    browserName: 'chromium',
    locale: 'en-US',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: CHROMIUM_ARGS,
    },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
});
