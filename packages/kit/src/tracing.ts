import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { registerInstrumentations } from '@opentelemetry/instrumentation';
import { HttpInstrumentation } from '@opentelemetry/instrumentation-http';
import { PgInstrumentation } from '@opentelemetry/instrumentation-pg';
import { UndiciInstrumentation } from '@opentelemetry/instrumentation-undici';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { NodeTracerProvider } from '@opentelemetry/sdk-trace-node';

/** Probes and scrapes are not worth a span each. */
const QUIET_PATHS = new Set(['/healthz', '/readyz', '/metrics']);

/**
 * OpenTelemetry tracing for a FusionFlow process, on only when OTEL_EXPORTER_OTLP_ENDPOINT is set:
 * HTTP server and client spans (node:http, and undici/fetch, which the WHIP/WHEP forwarder uses),
 * PostgreSQL queries, and the spans the code opens itself; exported over OTLP/HTTP. W3C trace
 * context (`traceparent`) is read from incoming requests and sent on outgoing ones, so a WHEP play
 * is one trace across the control plane and the SFU. Must start before http and pg are loaded:
 * import this module dynamically (`@fusionflow/kit/tracing`), never from the kit's index.
 */
export async function startTracing(endpoint: string, serviceName: string): Promise<{ shutdown(): Promise<void> }> {
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/$/, '')}/v1/traces` });
  const provider = new NodeTracerProvider({
    resource: resourceFromAttributes({ 'service.name': serviceName }),
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: 1000 })],
  });
  provider.register();
  const unregister = registerInstrumentations({
    tracerProvider: provider,
    instrumentations: [
      new HttpInstrumentation({
        ignoreIncomingRequestHook: (req) => QUIET_PATHS.has((req.url ?? '').split('?')[0]!),
        // The OTLP exporter's own requests would otherwise trace themselves.
        ignoreOutgoingRequestHook: (req) => (req.path ?? '').startsWith('/v1/traces'),
      }),
      new UndiciInstrumentation(),
      new PgInstrumentation(),
    ],
  });
  return {
    shutdown: async () => {
      unregister();
      await provider.shutdown();
    },
  };
}
