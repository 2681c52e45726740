import type { Registry } from '@fusionflow/kit';
import type { HttpApp } from './http-app.js';

/** One group of Prometheus scrape targets (HTTP service discovery's format). */
export interface ScrapeTargets {
  targets: string[];
  labels: Record<string, string>;
}

/**
 * Liveness (`/healthz`), readiness (`/readyz`: the database answers and, when the control plane
 * runs the SFU itself, the SFU is running — its state and restarts are in the body), Prometheus `/metrics`, and
 * `/metrics/targets`: the SFU processes to scrape, for Prometheus's `http_sd_configs` (the embedded
 * SFU's port is picked at start-up, so only this process knows it).
 */
export function registerHealthRoutes(
  app: HttpApp,
  o: {
    metrics: Registry;
    ready: () => Promise<void>;
    targets: () => ScrapeTargets[] | Promise<ScrapeTargets[]>;
    /** The embedded SFU's status, when this process runs one. */
    sfu?: () => { state: string } | undefined;
  },
): void {
  // Probes hit these every few seconds: log them only when something is wrong.
  const quiet = { logLevel: app.log.level === 'silent' ? 'silent' : 'warn', schema: { hide: true } } as const;
  app.get('/healthz', quiet, async () => ({ status: 'ok' }));
  app.get('/readyz', quiet, async (request, reply) => {
    try {
      await o.ready();
    } catch (err) {
      request.log.warn({ err }, 'not ready');
      return reply.code(503).send({ status: 'unavailable' });
    }
    const sfu = o.sfu?.();
    if (!sfu) return { status: 'ready' };
    if (sfu.state !== 'running') return reply.code(503).send({ status: 'unavailable', sfu });
    return { status: 'ready', sfu };
  });
  app.get('/metrics', quiet, async (_request, reply) => {
    reply.header('content-type', o.metrics.contentType);
    return o.metrics.metrics();
  });
  app.get('/metrics/targets', quiet, async (_request, reply) => {
    reply.header('cache-control', 'no-store');
    return o.targets();
  });
}
