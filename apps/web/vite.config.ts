import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const fromHere = (path: string) => fileURLToPath(new URL(path, import.meta.url));
/** The control plane the dev server forwards API calls to (`npm run dev` starts it on PORT, 8080 by default). */
const controlPlane = `http://127.0.0.1:${process.env.PORT || 8080}`;

export default defineConfig({
  plugins: [react()],
  resolve: {
    // The workspace packages' TypeScript sources, so the web build needs no prior `tsc -b`.
    alias: {
      '@fusionflow/protocol': fromHere('../../packages/protocol/src/index.ts'),
      '@fusionflow/client': fromHere('../../packages/client/src/index.ts'),
    },
  },
  server: {
    host: '127.0.0.1',
    port: 5173,
    proxy: {
      '/api': { target: controlPlane, changeOrigin: false },
      '/.well-known': { target: controlPlane },
      '/socket.io': { target: controlPlane, ws: true },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: true,
  },
});
