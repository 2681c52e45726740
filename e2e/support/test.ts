import { test as base, expect } from '@playwright/test';

/**
 * Playwright's `test`, failing any test whose pages throw or log an error (a CSP violation, a React
 * warning raised as an error, an uncaught exception). Failed HTTP responses are not errors here:
 * the app expects some (e.g. the 401 of restoring a session when nobody is signed in).
 */
export const test = base.extend<{ pageErrors: undefined }>({
  pageErrors: [
    async ({ context }, use) => {
      const errors: string[] = [];
      context.on('weberror', (e) => errors.push(`uncaught: ${e.error().message}`));
      context.on('console', (message) => {
        if (message.type() === 'error' && !message.text().startsWith('Failed to load resource')) {
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
