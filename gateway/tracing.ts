/**
 * The gateway's tracer and one helper. Deno's built-in OpenTelemetry (`OTEL_DENO=true`) registers the global tracer
 * provider and context manager, creates the server span for each request from the incoming W3C `traceparent`, and
 * exports over OTLP; without it these spans are no-ops. Names come from shared/tracing.ts.
 * @module
 */

import { type Attributes, type Span, SpanStatusCode, trace, type Tracer } from "@opentelemetry/api";

/** The gateway's tracer from the global provider. */
export function gatewayTracer(): Tracer {
  return trace.getTracer("splitee-gateway", "0.1.0");
}

/** Runs `fn` in an active span that ends when it settles; a thrown error is recorded on the span and rethrown. */
export function inSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T>,
): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.name : "error" });
      throw err;
    } finally {
      span.end();
    }
  });
}
