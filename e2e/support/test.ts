import { test as base, expect } from '@playwright/test';

/**
 * Chromium's own log lines for a request the network failed (a failed HTTP response, a WebSocket that could not
 * connect, e.g. while offline). They are not the app's errors: the app expects some (the 401 of restoring a session
 * when nobody is signed in; reconnect attempts while a network switch leaves the page offline).
 */
export const isNetworkFailureLog = (text: string): boolean =>
  text.startsWith('Failed to load resource') || /^WebSocket connection to '[^']*' failed/.test(text);

/**
 * Playwright's `test`, failing any test whose pages throw or log an error (a CSP violation, a React
 * warning raised as an error, an uncaught exception). Network failures (`isNetworkFailureLog`) are not.
 */
export const test = base.extend<{ pageErrors: undefined }>({
  pageErrors: [
    async ({ context }, use) => {
      const errors: string[] = [];
      context.on('weberror', (e) => errors.push(`uncaught: ${e.error().message}`));
      context.on('console', (message) => {
        if (message.type() === 'error' && !isNetworkFailureLog(message.text())) {
          errors.push(`console: ${message.text()}`);
        }
      });
      await use(undefined);
      expect(errors, 'errors in the page').toEqual([]);
    },
    { auto: true },
  ],
});

export { expect };
