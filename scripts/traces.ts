/**
 * `deno task traces [--jaeger http://localhost:16686] [--service splitee-edge] [--limit 200] [--since 1h]`
 *
 * Reads recent traces from Jaeger's query API v3 (`GET /api/v3/traces`, OTLP/JSON under `result.resourceSpans`) and
 * prints the measured cost of the edge -> gateway hop: p50/p95 of the communication time (`splitee.comm_ms`: round
 * trip minus the gateway's own compute time), round trip, gateway compute and payload bytes of the offload spans, per
 * wire dtype, and the offload rate (offloaded classify spans / all classify spans). Span and attribute names come
 * from shared/tracing.ts. Percentiles interpolate linearly between ranks.
 * @module
 */

import { ATTR, SPAN } from "../shared/tracing.ts";
import { cliExitCode, errorLine } from "./cli.ts";

/** Command-line options. */
export interface TracesOptions {
  /** Jaeger query base URL. @default "http://localhost:16686" */
  readonly jaeger: string;
  /** Service whose traces are searched (traces come back whole, gateway spans included). @default "splitee-edge" */
  readonly service: string;
  /** Most traces to fetch (`query.search_depth`). @default 200 */
  readonly limit: number;
  /** How far back to look, in milliseconds (`--since 15m`, `1h`, `2d`, `90s`). @default 1 hour */
  readonly sinceMs: number;
}

/** One span, flattened from OTLP/JSON. */
export interface FlatSpan {
  readonly service: string | undefined;
  readonly traceId: string;
  readonly name: string;
  readonly durationMs: number;
  readonly error: boolean;
  readonly attributes: Readonly<Record<string, unknown>>;
}

/** p50/p95 of a sample. */
export interface Stat {
  readonly n: number;
  readonly p50: number;
  readonly p95: number;
}

/** Offload costs of one wire dtype. */
export interface HopRow {
  readonly dtype: string;
  readonly offloads: number;
  readonly failed: number;
  readonly commMs: Stat | null;
  readonly roundTripMs: Stat | null;
  readonly gatewayComputeMs: Stat | null;
  readonly payloadBytes: Stat | null;
}

/** What `deno task traces` prints. */
export interface TraceSummary {
  readonly traces: number;
  readonly classify: number;
  readonly offloaded: number;
  /** `offloaded / classify`; `null` with no classify spans. */
  readonly offloadRate: number | null;
  readonly hops: readonly HopRow[];
  /** Duration of the gateway's layer spans. */
  readonly gatewayLayersMs: Stat | null;
}

/** How to start a local Jaeger (the README's "Tracing with Jaeger"). */
export const JAEGER_HINT =
  "start Jaeger with: docker run --rm -d --name jaeger -p 16686:16686 -p 4318:4318 jaegertracing/jaeger:latest, " +
  "then run the services with OTEL_DENO=true OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318";

/** The `--help` text. */
export const USAGE = `Usage: deno task traces [--jaeger URL] [--service NAME] [--limit N] [--since 15m|1h|2d]

Reads recent traces from Jaeger's query API v3 and prints the measured cost of the edge -> gateway hop
(p50/p95 communication ms, round trip, gateway compute, payload bytes per wire dtype) and the offload rate.

  --jaeger URL     Jaeger's query service (the UI's URL)          (default: http://localhost:16686)
  --service NAME   service whose traces are read                  (default: splitee-edge)
  --limit N        most traces to read, 1..10000                  (default: 200)
  --since D        how far back: 90s, 15m, 1h, 2d                 (default: 1h)

No Jaeger running? ${JAEGER_HINT.replace("start Jaeger", "Start one")}.
Exit codes: 0 done, 1 Jaeger unreachable or answering an error, 2 bad arguments.`;

/** @throws {Error} naming every bad argument. */
export function parseArgs(args: readonly string[]): TracesOptions {
  const values: Record<string, string> = {};
  const problems: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const m = /^--(jaeger|service|limit|since)(?:=(.*))?$/.exec(args[i]!);
    if (!m) {
      problems.push(`unknown argument ${args[i]}`);
      continue;
    }
    const value = m[2] ?? args[++i];
    if (value === undefined) problems.push(`--${m[1]} needs a value`);
    else values[m[1]!] = value;
  }
  const jaeger = values.jaeger ?? "http://localhost:16686";
  if (!URL.canParse(jaeger) || !/^https?:$/.test(new URL(jaeger).protocol)) {
    problems.push(`--jaeger: not an http(s) URL: ${jaeger}`);
  }
  const limit = Number(values.limit ?? 200);
  if (!Number.isInteger(limit) || limit < 1 || limit > 10_000) problems.push(`--limit must be an integer in 1..10000`);
  const sinceMs = parseDuration(values.since ?? "1h");
  if (sinceMs === null) problems.push(`--since must look like 90s, 15m, 1h or 2d, got ${values.since}`);
  if (problems.length > 0) {
    throw new Error(`${problems.join("; ")} (\`deno task traces --help\` prints the usage)`);
  }
  return { jaeger: jaeger.replace(/\/+$/, ""), service: values.service ?? "splitee-edge", limit, sinceMs: sinceMs! };
}

/** `"90s"`, `"15m"`, `"1h"`, `"2d"` (or plain seconds) in milliseconds; `null` when malformed or not positive. */
export function parseDuration(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  if (!m) return null;
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] ?? "s"]!;
  const ms = Number(m[1]) * unit;
  return ms > 0 ? ms : null;
}

/** The v3 search URL for `options` ending at `now`. */
export function tracesUrl(options: TracesOptions, now: Date): URL {
  const url = new URL(`${options.jaeger}/api/v3/traces`);
  url.searchParams.set("query.service_name", options.service);
  url.searchParams.set("query.start_time_min", new Date(now.getTime() - options.sinceMs).toISOString());
  url.searchParams.set("query.start_time_max", now.toISOString());
  url.searchParams.set("query.search_depth", String(options.limit));
  return url;
}

/**
 * Whether a 404 body is Jaeger's own "no trace matches" answer (`{"error": {"httpCode": 404, ...}}` from the v3 HTTP
 * API, or a gRPC-gateway status with code 5 NOT_FOUND) rather than a server that has no such path.
 */
export function isJaegerNotFound(body: string): boolean {
  try {
    // deno-lint-ignore no-explicit-any
    const doc = JSON.parse(body) as any;
    return doc?.error?.httpCode === 404 || doc?.code === 5;
  } catch {
    return false;
  }
}

/**
 * Fetches and flattens the spans of recent traces. Jaeger's own 404 (nothing matches) is no spans.
 * @throws {Error} when nothing answers (with how to start Jaeger), on another HTTP error (a 404 that is not Jaeger's
 * included) or a body that is not OTLP/JSON.
 */
export async function fetchSpans(options: TracesOptions, fetchFn: typeof fetch, now: Date): Promise<FlatSpan[]> {
  const url = tracesUrl(options, now);
  let res: Response;
  try {
    res = await fetchFn(url, { headers: { accept: "application/json" }, signal: AbortSignal.timeout(30_000) });
  } catch (e) {
    const why = e instanceof Error && e.name === "TimeoutError" ? "no answer in 30 s" : "nothing answers there";
    throw new Error(`${why}; ${JAEGER_HINT}`);
  }
  const text = await res.text();
  if (res.status === 404 && isJaegerNotFound(text)) return [];
  if (res.status === 404) {
    throw new Error(
      `${url.origin}${url.pathname} answered 404: not Jaeger's query API v3 (Jaeger >= 1.35; --jaeger is the UI's URL, ` +
        `port 16686)`,
    );
  }
  if (!res.ok) throw new Error(`Jaeger answered ${res.status} for ${url.pathname}: ${text.slice(0, 300)}`);
  return jsonDocuments(text).flatMap((doc) => flattenOtlp((doc as { result?: unknown }).result ?? doc));
}

/** Jaeger may stream several `{"result": ...}` documents back to back; splits them (ignoring braces in strings). */
export function jsonDocuments(text: string): unknown[] {
  const docs: unknown[] = [];
  let depth = 0, start = -1, inString = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (inString) {
      if (ch === "\\") i++;
      else if (ch === '"') inString = false;
    } else if (ch === '"') inString = true;
    else if (ch === "{") {
      if (depth++ === 0) start = i;
    } else if (ch === "}" && --depth === 0) docs.push(JSON.parse(text.slice(start, i + 1)));
  }
  if (depth !== 0 || inString) throw new Error("Jaeger's response is not complete JSON");
  return docs;
}

/** Spans of an OTLP/JSON `TracesData` (`{resourceSpans: [...]}`). */
export function flattenOtlp(data: unknown): FlatSpan[] {
  const out: FlatSpan[] = [];
  // deno-lint-ignore no-explicit-any
  for (const rs of (data as any)?.resourceSpans ?? []) {
    const resource = attributes(rs?.resource?.attributes);
    for (const ss of rs?.scopeSpans ?? []) {
      for (const s of ss?.spans ?? []) {
        const start = Number(s.startTimeUnixNano ?? 0), end = Number(s.endTimeUnixNano ?? 0);
        const status = s.status?.code;
        out.push({
          service: typeof resource["service.name"] === "string" ? resource["service.name"] : undefined,
          traceId: String(s.traceId ?? ""),
          name: String(s.name ?? ""),
          durationMs: end > start ? (end - start) / 1e6 : 0,
          error: status === 2 || status === "STATUS_CODE_ERROR",
          attributes: attributes(s.attributes),
        });
      }
    }
  }
  return out;
}

function attributes(list: unknown): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!Array.isArray(list)) return out;
  for (const a of list) if (typeof a?.key === "string") out[a.key] = anyValue(a.value);
  return out;
}

function anyValue(v: Record<string, unknown> | undefined): unknown {
  if (!v || typeof v !== "object") return undefined;
  if ("intValue" in v) return Number(v.intValue);
  if ("doubleValue" in v) return Number(v.doubleValue);
  if ("boolValue" in v) return v.boolValue === true || v.boolValue === "true";
  if ("stringValue" in v) return v.stringValue;
  return undefined;
}

/** Linear-interpolation percentile (`q` in [0, 1]) of a sorted sample. */
export function percentile(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

function stat(values: readonly unknown[]): Stat | null {
  const xs = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v)).sort((a, b) => a - b);
  return xs.length === 0 ? null : { n: xs.length, p50: percentile(xs, 0.5), p95: percentile(xs, 0.95) };
}

/** Offload costs per dtype, offload rate and gateway layer time of a set of spans. */
export function summarize(spans: readonly FlatSpan[]): TraceSummary {
  const classify = spans.filter((s) => s.name === SPAN.classify);
  const offloads = spans.filter((s) => s.name === SPAN.offload);
  const tracesWithOffload = new Set(offloads.map((s) => s.traceId));
  const offloaded =
    classify.filter((s) =>
      typeof s.attributes[ATTR.offloaded] === "boolean"
        ? s.attributes[ATTR.offloaded]
        : tracesWithOffload.has(s.traceId)
    ).length;
  const byDtype = new Map<string, FlatSpan[]>();
  for (const s of offloads) {
    const dtype = String(s.attributes[ATTR.dtype] ?? "float32");
    byDtype.set(dtype, [...(byDtype.get(dtype) ?? []), s]);
  }
  const hops = [...byDtype.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([dtype, group]): HopRow => {
    const ok = group.filter((s) => !s.error);
    return {
      dtype,
      offloads: group.length,
      failed: group.length - ok.length,
      commMs: stat(ok.map((s) => s.attributes[ATTR.commMs])),
      roundTripMs: stat(ok.map((s) => s.attributes[ATTR.roundTripMs] ?? s.durationMs)),
      gatewayComputeMs: stat(ok.map((s) => s.attributes[ATTR.computeMs])),
      payloadBytes: stat(group.map((s) => s.attributes[ATTR.payloadBytes])),
    };
  });
  return {
    traces: new Set(spans.map((s) => s.traceId)).size,
    classify: classify.length,
    offloaded,
    offloadRate: classify.length > 0 ? offloaded / classify.length : null,
    hops,
    gatewayLayersMs: stat(spans.filter((s) => s.name === SPAN.gatewayLayers).map((s) => s.durationMs)),
  };
}

/** The printed report. */
export function formatSummary(summary: TraceSummary, options: TracesOptions): string {
  const since = `${options.sinceMs / 60_000} min`;
  const lines = [`${summary.traces} trace(s) of ${options.service} in the last ${since} from ${options.jaeger}`];
  if (summary.classify === 0 && summary.hops.length === 0) {
    lines.push(`no ${SPAN.classify} or ${SPAN.offload} spans found (is OTEL_DENO=true set on the edge?)`);
    return lines.join("\n");
  }
  const rate = summary.offloadRate === null ? "n/a" : `${(summary.offloadRate * 100).toFixed(1)}%`;
  lines.push(`offload rate: ${summary.offloaded}/${summary.classify} classify requests = ${rate}`);
  const f = (s: Stat | null, digits = 2) => (s ? `${s.p50.toFixed(digits)} / ${s.p95.toFixed(digits)}` : "-");
  const header = [
    "hop edge -> gateway",
    "offloads",
    "failed",
    "comm ms p50/p95",
    "rtt ms p50/p95",
    "gateway ms p50/p95",
    "bytes p50/p95",
  ];
  const rows = summary.hops.map((h) => [
    `dtype ${h.dtype}`,
    String(h.offloads),
    String(h.failed),
    f(h.commMs),
    f(h.roundTripMs),
    f(h.gatewayComputeMs),
    f(h.payloadBytes, 0),
  ]);
  const widths = header.map((col, i) => Math.max(col.length, ...rows.map((r) => r[i]!.length)));
  for (const r of [header, ...rows]) lines.push(r.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd());
  if (summary.gatewayLayersMs) lines.push(`gateway layer spans: ${f(summary.gatewayLayersMs)} ms p50/p95`);
  return lines.join("\n");
}

/** Runs the command; returns the exit code. */
export async function main(
  args: readonly string[],
  io: { fetch?: typeof fetch; now?: () => Date; print?: (line: string) => void; error?: (line: string) => void } = {},
): Promise<number> {
  const print = io.print ?? console.log, error = io.error ?? console.error;
  let options: TracesOptions;
  try {
    options = parseArgs(args);
  } catch (err) {
    error(errorLine("traces", err));
    return 2;
  }
  try {
    const spans = await fetchSpans(options, io.fetch ?? fetch, (io.now ?? (() => new Date()))());
    print(formatSummary(summarize(spans), options));
    return 0;
  } catch (err) {
    error(
      errorLine("traces", `cannot read traces from ${options.jaeger}: ${err instanceof Error ? err.message : err}`),
    );
    return 1;
  }
}

if (import.meta.main) Deno.exit(await cliExitCode("traces", USAGE, main, Deno.args));
