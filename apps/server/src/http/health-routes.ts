import type { Registry } from '@fusionflow/kit';
import type { HttpApp } from './http-app.js';

/** Liveness (`/healthz`), readiness (`/readyz`: the database answers) and Prometheus `/metrics`. */
export function registerHealthRoutes(app: HttpApp, o: { metrics: Registry; ready: () => Promise<void> }): void {
  const quiet = { logLevel: 'warn' as const, schema: { hide: true } };
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
