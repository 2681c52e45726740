import { type Attributes, type Span, SpanStatusCode, trace } from '@opentelemetry/api';

/**
 * Run `fn` inside a span of its own (a child of the active one, e.g. the HTTP request's), ended
 * when `fn` settles; a thrown error marks the span failed. Without tracing (no
 * OTEL_EXPORTER_OTLP_ENDPOINT) the OpenTelemetry API is a no-op and this costs next to nothing.
 */
export function inSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return trace.getTracer('fusionflow').startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}
