import type { Registry } from '@fusionflow/kit';
import type { HttpApp } from './http-app.js';

/** Liveness (`/healthz`), readiness (`/readyz`: the database answers) and Prometheus `/metrics`. */
export function registerHealthRoutes(app: HttpApp, o: { metrics: Registry; ready: () => Promise<void> }): void {
  // Probes hit these every few seconds: log them only when something is wrong.
  const quiet = { logLevel: app.log.level === 'silent' ? 'silent' : 'warn', schema: { hide: true } } as const;
  app.get('/healthz', quiet, async () => ({ status: 'ok' }));
  app.get('/readyz', quiet, async (request, reply) => {
    try {
      await o.ready();
      return { status: 'ready' };
    } catch (err) {
      request.log.warn({ err }, 'not ready');
      return reply.code(503).send({ status: 'unavailable' });
    }
  });
  app.get('/metrics', quiet, async (_request, reply) => {
    reply.header('content-type', o.metrics.contentType);
    return o.metrics.metrics();
  });
}
