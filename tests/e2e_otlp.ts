/**
 * A minimal OTLP/HTTP JSON receiver for tests (`OTEL_EXPORTER_OTLP_PROTOCOL=http/json`): accepts `POST /v1/traces`
 * (and ignores logs and metrics), and flattens every span with its service name and attributes.
 * @module
 */

/** One received span. */
export interface OtlpSpan {
  readonly service: string;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string;
  readonly name: string;
  readonly attributes: Record<string, string | number | boolean>;
}

interface AnyValue {
  stringValue?: string;
  intValue?: string | number;
  doubleValue?: number;
  boolValue?: boolean;
}
interface KeyValue {
  key: string;
  value: AnyValue;
}

function value(v: AnyValue): string | number | boolean {
  if (v.stringValue !== undefined) return v.stringValue;
  if (v.intValue !== undefined) return Number(v.intValue);
  if (v.doubleValue !== undefined) return v.doubleValue;
  if (v.boolValue !== undefined) return v.boolValue;
  return "";
}

function attrs(list: KeyValue[] | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map((kv) => [kv.key, value(kv.value)]));
}

/** Flattens an OTLP JSON `ExportTraceServiceRequest`. */
export function flattenSpans(body: unknown): OtlpSpan[] {
  const out: OtlpSpan[] = [];
  const resourceSpans = (body as { resourceSpans?: unknown[] }).resourceSpans ?? [];
  for (const rs of resourceSpans as Array<{ resource?: { attributes?: KeyValue[] }; scopeSpans?: unknown[] }>) {
    const service = String(attrs(rs.resource?.attributes)["service.name"] ?? "");
    for (const ss of (rs.scopeSpans ?? []) as Array<{ spans?: unknown[] }>) {
      for (const s of (ss.spans ?? []) as Array<Record<string, unknown>>) {
        out.push({
          service,
          traceId: String(s.traceId ?? ""),
          spanId: String(s.spanId ?? ""),
          parentSpanId: String(s.parentSpanId ?? ""),
          name: String(s.name ?? ""),
          attributes: attrs(s.attributes as KeyValue[] | undefined),
        });
      }
    }
  }
  return out;
}

/** Starts a receiver on a free loopback port. */
export function startOtlpReceiver() {
  const spans: OtlpSpan[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    const body = await req.text();
    if (new URL(req.url).pathname === "/v1/traces") {
      try {
        spans.push(...flattenSpans(JSON.parse(body)));
      } catch {
        return new Response("bad json", { status: 400 });
      }
    }
    return Response.json({});
  });
  return {
    port: server.addr.port,
    spans,
    /** Resolves with every span once `done(spans)` holds; rejects after `timeoutMs`. */
    async waitFor(done: (all: OtlpSpan[]) => boolean, timeoutMs: number): Promise<OtlpSpan[]> {
      const until = Date.now() + timeoutMs;
      while (!done(spans)) {
        if (Date.now() > until) {
          throw new Error(`OTLP receiver: condition not met after ${timeoutMs} ms (${spans.length} spans)`);
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      return spans;
    },
    close: () => server.shutdown(),
  };
}
