import { collectDefaultMetrics, Registry } from 'prom-client';

export type { Registry } from 'prom-client';
export { Counter, Gauge, Histogram } from 'prom-client';

/**
 * One registry per process (not the global one), so several app instances in one test process
 * never collide. Modules register their own metrics on it.
 */
export function createMetricsRegistry(options: { defaultMetrics?: boolean; labels?: Record<string, string> } = {}) {
  const registry = new Registry();
  if (options.labels) registry.setDefaultLabels(options.labels);
  if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: registry });
  return registry;
}

/** Latency buckets in seconds for request-style histograms (1 ms … 10 s). */
export const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
