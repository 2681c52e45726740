import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineProject } from 'vitest/config';

const fromHere = (path: string) => fileURLToPath(new URL(path, import.meta.url));

// The web app's component tests: React in happy-dom (a DOM for Node 20), run by the root `npm test`.
export default defineProject({
  plugins: [react()],
  resolve: {
    alias: {
      '@fusionflow/protocol': fromHere('../../packages/protocol/src/index.ts'),
      '@fusionflow/client': fromHere('../../packages/client/src/index.ts'),
    },
  },
  test: {
    name: 'web',
    root: fromHere('.'),
    include: ['src/**/*.test.tsx', 'src/**/*.test.ts'],
    environment: 'happy-dom',
    setupFiles: ['src/test-setup.ts'],
  },
});
