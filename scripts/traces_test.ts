import assert from "node:assert/strict";
import { ATTR, SPAN } from "../shared/tracing.ts";
import { cliExitCode } from "./cli.ts";
import { isJaegerNotFound, jsonDocuments, main, parseArgs, parseDuration, percentile, USAGE } from "./traces.ts";

const NOW = new Date("2026-11-29T12:00:00.000Z");
const T0 = BigInt(NOW.getTime() - 600_000) * 1_000_000n;

type Attr = { key: string; value: Record<string, unknown> };
function attr(key: string, v: string | number | boolean): Attr {
  if (typeof v === "string") return { key, value: { stringValue: v } };
  if (typeof v === "boolean") return { key, value: { boolValue: v } };
  // OTLP/JSON writes int64 as a decimal string.
  return { key, value: Number.isInteger(v) ? { intValue: String(v) } : { doubleValue: v } };
}

let spanCounter = 0;
function span(trace: number, name: string, durationMs: number, attrs: Attr[], error = false) {
  const start = T0 + BigInt(trace) * 1_000_000_000n;
  return {
    traceId: trace.toString(16).padStart(32, "0"),
    spanId: (++spanCounter).toString(16).padStart(16, "0"),
    name,
    kind: 1,
    startTimeUnixNano: String(start),
    endTimeUnixNano: String(start + BigInt(durationMs * 1e6)),
    attributes: attrs,
    status: error ? { code: 2, message: "gateway 503" } : {},
  };
}

function resource(service: string, spans: unknown[]) {
  return {
    resource: { attributes: [attr("service.name", service), attr("telemetry.sdk.language", "deno-rust")] },
    scopeSpans: [{ scope: { name: service }, spans }],
  };
}

/** Ten classify requests: four offloaded as float32, two as float16 (one failed), four answered on the edge. */
function jaegerBody(): string {
  const edge: unknown[] = [], gateway: unknown[] = [];
  const f32 = [[4, 10000, 10], [6, 12000, 12], [8, 14000, 14], [10, 16000, 16]];
  for (let t = 0; t < 10; t++) {
    const offloaded = t < 6;
    edge.push(span(t, SPAN.classify, 30, [attr(ATTR.offloaded, offloaded), attr(ATTR.splitLayer, 4)]));
    if (t < 4) {
      const [comm, bytes, rtt] = f32[t]!;
      edge.push(span(t, SPAN.offload, rtt!, [
        attr(ATTR.dtype, "float32"),
        attr(ATTR.commMs, comm! + 0.0),
        attr(ATTR.payloadBytes, bytes!),
        attr(ATTR.roundTripMs, rtt! + 0.5),
        attr(ATTR.computeMs, 6.5),
      ]));
    } else if (offloaded) {
      const failed = t === 5;
      edge.push(span(t, SPAN.offload, 9, [
        attr(ATTR.dtype, "float16"),
        attr(ATTR.commMs, failed ? 100.5 : 3.5),
        attr(ATTR.payloadBytes, t === 4 ? 5000 : 6000),
        attr(ATTR.computeMs, 5.5),
      ], failed));
    }
    if (offloaded) gateway.push(span(t, SPAN.gatewayLayers, 5 + t, [attr(ATTR.layersRun, 8)]));
  }
  // Jaeger streams one {"result": ...} document per chunk; send two, with a brace inside a string for good measure.
  edge.push(span(0, "GET /x{y}", 1, [attr("note", 'a "quoted} brace')]));
  return JSON.stringify({ result: { resourceSpans: [resource("splitee-edge", edge)] } }) +
    JSON.stringify({ result: { resourceSpans: [resource("splitee-gateway", gateway)] } });
}

function fakeJaeger(
  handler: (url: URL) => Response,
): { url: string; seen: URL[]; close(): Promise<void> } {
  const seen: URL[] = [];
  const server = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, (req) => {
    const url = new URL(req.url);
    seen.push(url);
    return handler(url);
  });
  return { url: `http://127.0.0.1:${server.addr.port}`, seen, close: () => server.shutdown() };
}

Deno.test("deno task traces queries Jaeger's v3 API and prints comm cost, bytes and offload rate", async () => {
  const jaeger = fakeJaeger(() => new Response(jaegerBody(), { headers: { "content-type": "application/json" } }));
  try {
    const out: string[] = [];
    const code = await main(["--jaeger", `${jaeger.url}/`, "--limit", "50", "--since=1h"], {
      now: () => NOW,
      print: (l) => out.push(l),
      error: (l) => out.push(`ERR ${l}`),
    });
    assert.equal(code, 0, out.join("\n"));
    const q = jaeger.seen[0]!;
    assert.equal(q.pathname, "/api/v3/traces");
    assert.deepEqual(Object.fromEntries(q.searchParams), {
      "query.service_name": "splitee-edge",
      "query.start_time_min": "2026-11-29T11:00:00.000Z",
      "query.start_time_max": "2026-11-29T12:00:00.000Z",
      "query.search_depth": "50",
    });
    const text = out.join("\n");
    assert.match(text, /^10 trace\(s\) of splitee-edge in the last 60 min/);
    assert.match(text, /offload rate: 6\/10 classify requests = 60\.0%/);
    // float32: comm [4,6,8,10] -> p50 7, p95 9.7; rtt [10.5..16.5] -> 13.5 / 16.2; bytes -> 13000 / 15700.
    assert.match(text, /dtype float16\s+2\s+1\s+3\.50 \/ 3\.50\s+9\.00 \/ 9\.00\s+5\.50 \/ 5\.50\s+5500 \/ 5950/);
    assert.match(text, /dtype float32\s+4\s+0\s+7\.00 \/ 9\.70\s+13\.50 \/ 16\.20\s+6\.50 \/ 6\.50\s+13000 \/ 15700/);
    // Gateway layer spans last 5..10 ms.
    assert.match(text, /gateway layer spans: 7\.50 \/ 9\.75 ms p50\/p95/);
  } finally {
    await jaeger.close();
  }
});

Deno.test("deno task traces runs as a CLI and reports nothing found when Jaeger answers 404", async () => {
  const jaeger = fakeJaeger(() =>
    Response.json({ error: { httpCode: 404, message: "trace not found" } }, { status: 404 })
  );
  try {
    const { code, stdout } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", new URL("./traces.ts", import.meta.url).pathname, "--jaeger", jaeger.url, "--service", "x"],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(stdout);
    assert.equal(code, 0, text);
    assert.match(text, /0 trace\(s\) of x/);
    assert.match(text, /no splitee\.classify or splitee\.offload spans found/);
    assert.equal(jaeger.seen[0]!.searchParams.get("query.service_name"), "x");
  } finally {
    await jaeger.close();
  }
});

Deno.test("deno task traces fails with exit 1 on a Jaeger error and exit 2 on bad arguments", async () => {
  const jaeger = fakeJaeger(() => new Response("boom", { status: 500 }));
  try {
    const errors: string[] = [];
    assert.equal(await main(["--jaeger", jaeger.url], { error: (l) => errors.push(l), print: () => {} }), 1);
    assert.match(errors[0]!, /Jaeger answered 500 for \/api\/v3\/traces: boom/);
  } finally {
    await jaeger.close();
  }
  const errors: string[] = [];
  assert.equal(
    await main(["--limit", "0", "--since", "soon", "--jaeger", "ftp://x", "--bogus"], { error: (l) => errors.push(l) }),
    2,
  );
  for (
    const what of [
      /unknown argument --bogus/,
      /--limit must be/,
      /--since must look like/,
      /--jaeger: not an http/,
      /`deno task traces --help` prints the usage/,
    ]
  ) {
    assert.match(errors[0]!, what);
  }
});

Deno.test("parseArgs(), parseDuration(), percentile() and jsonDocuments() handle their edge cases", () => {
  assert.deepEqual(parseArgs([]), {
    jaeger: "http://localhost:16686",
    service: "splitee-edge",
    limit: 200,
    sinceMs: 3_600_000,
  });
  assert.deepEqual([parseDuration("90s"), parseDuration("15m"), parseDuration("2d"), parseDuration("0h")], [
    90_000,
    900_000,
    172_800_000,
    null,
  ]);
  assert.equal(percentile([1], 0.95), 1);
  assert.equal(percentile([1, 2, 3, 4, 5], 0.5), 3);
  assert.ok(Math.abs(percentile([10, 20], 0.95) - 19.5) < 1e-12);
  assert.deepEqual(jsonDocuments('{"a":"}{"}\n{"b":[{"c":1}]}'), [{ a: "}{" }, { b: [{ c: 1 }] }]);
  assert.throws(() => jsonDocuments('{"a":'), /not complete JSON/);
});

Deno.test("deno task traces: --help prints the usage; a 404 that is not Jaeger's and no Jaeger at all are errors", async () => {
  const printed: string[] = [];
  assert.equal(await cliExitCode("traces", USAGE, main, ["--help"], { print: (l) => printed.push(l) }), 0);
  assert.match(printed.join("\n"), /^Usage: deno task traces/);
  assert.match(printed.join("\n"), /docker run .*jaegertracing\/jaeger/);

  // A web server without Jaeger's API: its 404 page is an error, not "0 trace(s)".
  const other = fakeJaeger(() => new Response("<h1>Not Found</h1>", { status: 404 }));
  try {
    const errors: string[] = [];
    assert.equal(await main(["--jaeger", other.url], { error: (l) => errors.push(l), print: () => {} }), 1);
    assert.equal(errors.length, 1);
    assert.match(errors[0]!, /^traces: cannot read traces from .*answered 404: not Jaeger's query API v3/);
  } finally {
    await other.close();
  }

  // Nothing listening: the error says how to start Jaeger.
  const closed = fakeJaeger(() => new Response("unused"));
  const url = closed.url;
  await closed.close();
  const errors: string[] = [];
  assert.equal(await main(["--jaeger", url], { error: (l) => errors.push(l), print: () => {} }), 1);
  assert.equal(errors.length, 1);
  assert.match(errors[0]!, /nothing answers there; start Jaeger with: docker run .*jaegertracing\/jaeger:latest/);
});

Deno.test("isJaegerNotFound() accepts Jaeger's own not-found bodies only", () => {
  assert.equal(isJaegerNotFound(JSON.stringify({ error: { httpCode: 404, message: "trace not found" } })), true);
  assert.equal(isJaegerNotFound(JSON.stringify({ code: 5, message: "trace not found" })), true);
  assert.equal(isJaegerNotFound("404 page not found"), false);
  assert.equal(isJaegerNotFound(JSON.stringify({ detail: "Not Found" })), false);
});
