/**
 * The edge's only tracing helper: a tracer from `npm:@opentelemetry/api` (Deno registers its built-in providers
 * when `OTEL_DENO=true`; otherwise every span is a no-op), `withSpan` and the active trace id. Span and attribute
 * names live in shared/tracing.ts.
 * @module
 */

import { type Attributes, type Span, SpanStatusCode, trace } from "@opentelemetry/api";

/** The edge's tracer. */
export const tracer = trace.getTracer("splitee-edge");

/**
 * Runs `fn` inside an active span named `name` with `attributes`; records a thrown error on the span and rethrows.
 * The span always ends.
 */
export function withSpan<T>(name: string, attributes: Attributes, fn: (span: Span) => Promise<T>): Promise<T> {
  return tracer.startActiveSpan(name, { attributes }, async (span) => {
    try {
      return await fn(span);
    } catch (error) {
      recordSpanError(span, error);
      throw error;
    } finally {
      span.end();
    }
  });
}

/** Marks a span as failed with `error`. */
export function recordSpanError(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

/** The active span's trace id, or `null` when tracing is off (no recording span). */
export function activeTraceId(): string | null {
  const ctx = trace.getActiveSpan()?.spanContext();
  if (!ctx || /^0+$/.test(ctx.traceId)) return null;
  return ctx.traceId;
}
