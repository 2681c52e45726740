import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

const src = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// Tests run against the workspace packages' TypeScript sources, without a build step.
export default defineConfig({
  resolve: {
    alias: {
      '@fusionflow/kit/tracing': src('./packages/kit/src/tracing.ts'),
      '@fusionflow/protocol': src('./packages/protocol/src/index.ts'),
      '@fusionflow/kit': src('./packages/kit/src/index.ts'),
      '@fusionflow/client': src('./packages/client/src/index.ts'),
    },
  },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'node',
          include: [
            'packages/*/src/**/*.test.ts',
            'apps/*/src/**/*.test.ts',
            'bench/**/*.test.ts',
            'deploy/**/*.test.ts',
          ],
          exclude: ['**/node_modules/**', '**/dist/**', 'apps/web/**'],
          environment: 'node',
          testTimeout: 20_000,
          hookTimeout: 60_000,
          // Integration suites bind their own ports and databases; files run in parallel processes.
          pool: 'forks',
          globalSetup: ['test/global-setup.ts'],
        },
      },
      // The web app's component tests (React, happy-dom).
      'apps/web/vitest.config.ts',
    ],
  },
});
