import { expect } from "expect";
import { PROBLEM_CONTENT_TYPE, ProblemError } from "../shared/problem.ts";
import { type AppDeps, createApp } from "./app.ts";
import type { Classification, ClassifyInput } from "./classifier.ts";
import { testConfig } from "./testing.ts";

const MANIFEST = {
  id: "sentiment-en",
  version: "0123456789abcdef",
  task: "single" as const,
  labels: ["negative", "positive"],
  layers: 12,
  maxSplit: 12,
  maxTokens: 256,
  timingOnly: false,
};
const NLI = {
  id: "entailment-en",
  version: "fedcba9876543210",
  task: "pair" as const,
  labels: ["entailment", "neutral", "contradiction"],
  layers: 12,
  maxSplit: 6,
  maxTokens: 128,
  timingOnly: false,
};

const RESULT: Classification = {
  label: "positive",
  labelIndex: 1,
  probabilities: [0.1, 0.9],
  scores: [{ label: "negative", score: 0.1 }, { label: "positive", score: 0.9 }],
  splitLayer: 4,
  pinned: false,
  exitLayer: 4,
  answeredBy: "edge",
  degraded: false,
  degradedReason: null,
  exitConfidences: [0.6, 0.6, 0.7, 0.9],
  tokens: 7,
  costs: {
    lambdaUnits: 0.4,
    lambda: 0.1,
    o: 0.5,
    measured: { edgeMs: 3, commMs: null, gatewayMs: null, payloadBytes: null },
  },
  traceId: null,
  modelId: "sentiment-en",
};

function app(env: Record<string, string> = {}, overrides: Partial<AppDeps> = {}) {
  const seen: ClassifyInput[] = [];
  const errors: unknown[] = [];
  let t = 0;
  const a = createApp({
    models: [MANIFEST, NLI],
    http: testConfig(env).http,
    classify: (input) => {
      seen.push(input);
      return Promise.resolve(RESULT);
    },
    policy: (model) => ({ chosenArm: 4, model: model ?? null }),
    health: () => ({ gatewayBreaker: "closed" }),
    logError: (e) => errors.push(e),
    now: () => t,
    ...overrides,
  });
  return { app: a, seen, errors, advance: (ms: number) => (t += ms) };
}

const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: "POST",
  headers: { "content-type": "application/json", ...headers },
  body: typeof body === "string" ? body : JSON.stringify(body),
});

async function problem(res: Response, status: number, slug: string) {
  expect(res.status).toBe(status);
  expect(res.headers.get("content-type")).toBe(PROBLEM_CONTENT_TYPE);
  const body = await res.json();
  expect(body.type).toBe(`https://splitee.dev/problems/${slug}`);
  expect(body.status).toBe(status);
  return body;
}

Deno.test("POST /v1/classify returns the classification for a valid text", async () => {
  const t = app();
  const res = await t.app.request("/v1/classify", json({ text: "great film", model: "sentiment-en" }));
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual(RESULT);
  expect(t.seen).toEqual([{ text: "great film", model: "sentiment-en" }]);
});

Deno.test("POST /v1/classify routes a pair to the pair model it names and refuses a pair for a single-text model", async () => {
  const t = app();
  const res = await t.app.request("/v1/classify", json({ model: "entailment-en", text: "a", textPair: "b" }));
  expect(res.status).toBe(200);
  expect(t.seen).toEqual([{ text: "a", textPair: "b", model: "entailment-en" }]);
  const wrong = await problem(
    await t.app.request("/v1/classify", json({ text: "a", textPair: "b" })),
    422,
    "invalid-request",
  );
  expect(wrong.detail).toContain("Model sentiment-en classifies single texts");
  expect(t.seen).toHaveLength(1);
});

Deno.test("POST /v1/classify answers bad input with problem+json 4xx and never calls the pipeline", async () => {
  const t = app({ EDGE_MAX_TEXT_CHARS: "20" });
  await problem(
    await t.app.request("/v1/classify", json({ text: "x" }, { "content-type": "text/plain" })),
    415,
    "unsupported-media-type",
  );
  await problem(
    await t.app.request("/v1/classify", json({ text: "x" }, { "content-type": "application/json; charset=latin1" })),
    415,
    "unsupported-media-type",
  );
  await problem(await t.app.request("/v1/classify", { method: "POST", body: "{}" }), 415, "unsupported-media-type");
  await problem(await t.app.request("/v1/classify", json('{"text": ')), 400, "malformed-json");
  await problem(
    await t.app.request("/v1/classify", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: new Uint8Array([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]),
    }),
    400,
    "invalid-utf8",
  );
  for (
    const [body, field] of [
      [{}, "text"],
      [{ text: "" }, "text"],
      [{ text: "  \n\t " }, "text"],
      [{ text: 42 }, "text"],
      [{ text: ["a"] }, "text"],
      [{ text: "ok", extra: 1 }, "extra"],
      [{ text: "ok", textPair: "no" }, "textPair"],
      [{ text: "ok", model: "other" }, "model"],
      [[{ text: "ok" }], ""],
      [null, ""],
      ["just a string", ""],
    ] as const
  ) {
    const p = await problem(await t.app.request("/v1/classify", json(JSON.stringify(body))), 422, "invalid-request");
    expect(p.errors.map((e: { field: string }) => e.field)).toContain(field);
  }
  const long = await problem(await t.app.request("/v1/classify", json({ text: "x".repeat(21) })), 413, "text-too-long");
  expect(long.limit).toBe(20);
  expect(t.seen).toHaveLength(0);
});

Deno.test("POST /v1/classify rejects bodies over the limit, declared or streamed", async () => {
  const t = app({ EDGE_BODY_LIMIT_BYTES: "100" });
  await problem(await t.app.request("/v1/classify", json({ text: "y".repeat(200) })), 413, "body-too-large");
  const stream = new ReadableStream({
    start(c) {
      c.enqueue(new TextEncoder().encode(`{"text":"${"z".repeat(300)}"}`));
      c.close();
    },
  });
  const req = new Request("http://edge.test/v1/classify", {
    method: "POST",
    headers: { "content-type": "application/json", "transfer-encoding": "chunked" },
    body: stream,
  });
  await problem(await t.app.fetch(req), 413, "body-too-large");
  expect(t.seen).toHaveLength(0);
});

Deno.test("unknown routes are 404 and wrong methods 405, both as problems", async () => {
  const t = app();
  await problem(await t.app.request("/nope"), 404, "not-found");
  const res = await t.app.request("/v1/classify");
  await problem(res, 405, "method-not-allowed");
  expect(res.headers.get("allow")).toBe("POST");
});

Deno.test("a failure inside the pipeline is a generic 500 problem that leaks nothing", async () => {
  const t = app({}, { classify: () => Promise.reject(new Error("secret internals at /srv/x.ts:12")) });
  const res = await t.app.request("/v1/classify", json({ text: "fine" }));
  const body = await problem(res, 500, "internal");
  expect(JSON.stringify(body)).not.toContain("secret");
  expect(t.errors).toHaveLength(1);
});

Deno.test("API keys, when configured, guard /v1/* and accept Bearer or X-API-Key", async () => {
  const t = app({ EDGE_API_KEYS: "k-one,k-two" });
  const missing = await t.app.request("/v1/classify", json({ text: "a" }));
  await problem(missing, 401, "unauthorized");
  expect(missing.headers.get("www-authenticate")).toContain("Bearer");
  const wrong = await problem(
    await t.app.request("/v1/classify", json({ text: "a" }, { authorization: "Bearer k-three" })),
    401,
    "unauthorized",
  );
  expect(JSON.stringify(wrong)).not.toContain("k-three");
  expect((await t.app.request("/v1/classify", json({ text: "a" }, { authorization: "Bearer k-two" }))).status).toBe(
    200,
  );
  expect((await t.app.request("/v1/classify", json({ text: "a" }, { "x-api-key": "k-one" }))).status).toBe(200);
  await problem(await t.app.request("/v1/policy"), 401, "unauthorized");
  expect((await t.app.request("/healthz")).status).toBe(200);
  expect((await t.app.request("/openapi.json")).status).toBe(200);
});

Deno.test("the rate limit answers 429 with Retry-After per client and refills over time", async () => {
  const t = app({ EDGE_RATE_LIMIT_RPS: "2", EDGE_RATE_LIMIT_BURST: "3" });
  for (let i = 0; i < 3; i++) expect((await t.app.request("/v1/classify", json({ text: "a" }))).status).toBe(200);
  const limited = await t.app.request("/v1/classify", json({ text: "a" }));
  await problem(limited, 429, "rate-limited");
  expect(limited.headers.get("retry-after")).toBe("1");
  // With API keys off a made-up key is not another client: same address, same bucket. Another address is.
  expect((await t.app.request("/v1/classify", json({ text: "a" }, { "x-api-key": "other" }))).status).toBe(429);
  const elsewhere = { remoteAddr: { hostname: "192.0.2.1", port: 1, transport: "tcp" } };
  expect((await t.app.request("/v1/classify", json({ text: "a" }), elsewhere)).status).toBe(200);
  t.advance(500); // one token back
  expect((await t.app.request("/v1/classify", json({ text: "a" }))).status).toBe(200);
  expect((await t.app.request("/v1/classify", json({ text: "a" }))).status).toBe(429);
});

Deno.test("the rate limit charges a batch one request per input, all or nothing", async () => {
  const t = app({ EDGE_RATE_LIMIT_RPS: "1", EDGE_RATE_LIMIT_BURST: "5" });
  const batch = (n: number) => json({ inputs: Array.from({ length: n }, () => ({ text: "a" })) });
  expect((await t.app.request("/v1/classify", batch(3))).status).toBe(200); // 5 -> 2 tokens
  const refused = await t.app.request("/v1/classify", batch(3)); // needs 3, has 2: refused whole, 1 token left
  await problem(refused, 429, "rate-limited");
  expect(t.seen.length).toBe(3);
  expect((await t.app.request("/v1/classify", json({ text: "a" }))).status).toBe(200);
  expect((await t.app.request("/v1/classify", json({ text: "a" }))).status).toBe(429);
  t.advance(10_000); // full bucket again
  const tooBig = await t.app.request("/v1/classify", batch(6));
  await problem(tooBig, 429, "rate-limited");
  expect(t.seen.length).toBe(4);
});

Deno.test("CORS headers are sent for configured origins only, preflight included", async () => {
  const t = app({ EDGE_CORS_ORIGINS: "https://ui.example" });
  const ok = await t.app.request("/v1/classify", json({ text: "a" }, { origin: "https://ui.example" }));
  expect(ok.headers.get("access-control-allow-origin")).toBe("https://ui.example");
  const other = await t.app.request("/v1/classify", json({ text: "a" }, { origin: "https://evil.example" }));
  expect(other.headers.get("access-control-allow-origin")).toBeNull();
  const pre = await t.app.request("/v1/classify", {
    method: "OPTIONS",
    headers: { origin: "https://ui.example", "access-control-request-method": "POST" },
  });
  expect(pre.status).toBe(204);
  expect(pre.headers.get("access-control-allow-methods")).toContain("POST");
  expect((await app().app.request("/healthz", { headers: { origin: "https://ui.example" } })).headers.get(
    "access-control-allow-origin",
  )).toBeNull();
});

Deno.test("GET /healthz, /v1/policy, /openapi.json and /docs describe the service", async () => {
  const t = app();
  expect(await (await t.app.request("/healthz")).json()).toEqual({
    status: "ok",
    modelId: "sentiment-en",
    modelVersion: "0123456789abcdef",
    models: [
      { id: "sentiment-en", version: "0123456789abcdef", task: "single", labels: ["negative", "positive"] },
      { id: "entailment-en", version: "fedcba9876543210", task: "pair", labels: NLI.labels },
    ],
    gatewayBreaker: "closed",
  });
  expect(await (await t.app.request("/v1/policy")).json()).toEqual({ chosenArm: 4, model: null });
  expect(await (await t.app.request("/v1/policy?model=entailment-en")).json()).toEqual({
    chosenArm: 4,
    model: "entailment-en",
  });
  const unknown = await problem(await t.app.request("/v1/policy?model=nope"), 404, "unknown-model");
  expect(unknown.detail).toContain("this edge serves sentiment-en, entailment-en");
  const doc = await (await t.app.request("/openapi.json")).json();
  expect(doc.openapi).toBe("3.1.0");
  expect(Object.keys(doc.paths)).toEqual([
    "/v1/classify",
    "/v1/models",
    "/v1/policy",
    "/healthz",
    "/openapi.json",
    "/docs",
  ]);
  expect(doc.components.schemas.ClassifyResponse.required).toContain("traceId");
  expect(doc.components.schemas.ClassifyRequest.properties.model.enum).toEqual(["sentiment-en", "entailment-en"]);
  const docs = await t.app.request("/docs");
  expect(docs.headers.get("content-type")).toContain("text/html");
  const html = await docs.text();
  expect(html).toContain("/v1/classify");
  expect(html).not.toMatch(/<script|<link|src="http/);
});

Deno.test("/openapi.json describes a body for every status of every route, 405 included", async () => {
  const doc = await (await app().app.request("/openapi.json")).json();
  for (const [path, ops] of Object.entries(doc.paths as Record<string, Record<string, { responses: object }>>)) {
    for (const [method, op] of Object.entries(ops)) {
      const responses = op.responses as Record<string, { content?: Record<string, { schema?: unknown }> }>;
      expect([path, method, "405" in responses]).toEqual([path, method, true]);
      for (const [status, r] of Object.entries(responses)) {
        const bodies = Object.values(r.content ?? {});
        expect([path, status, bodies.length > 0 && bodies.every((b) => b.schema !== undefined)]).toEqual([
          path,
          status,
          true,
        ]);
      }
    }
  }
  // Every $ref resolves.
  const refs = JSON.stringify(doc).match(/#\/components\/schemas\/\w+/g) ?? [];
  for (const ref of new Set(refs)) expect(doc.components.schemas[ref.split("/").pop()!]).toBeDefined();
  expect(doc.paths["/v1/policy"].get.responses["200"].content["application/json"].schema.$ref).toBe(
    "#/components/schemas/PolicyView",
  );
  expect(doc.components.schemas.BatchRequest.properties.inputs.maxItems).toBe(32);
  expect(doc.components.schemas.ClassifyResponse.required).toEqual(expect.arrayContaining(["scores", "pinned"]));
});

Deno.test("GET /docs renders every route, status and schema, with curl examples for this origin that wrap", async () => {
  const res = await app().app.request("http://edge.example:8000/docs");
  const html = await res.text();
  for (const path of ["/v1/classify", "/v1/models", "/v1/policy", "/healthz"]) {
    expect(html).toContain(`<code>${path}</code>`);
  }
  expect(html).toContain("curl -s -X POST http://edge.example:8000/v1/classify \\");
  expect(html).toContain("-d &#39;{&quot;inputs&quot;:"); // the batch example, shell-quoted and HTML-escaped
  expect(html).toContain("curl -s http://edge.example:8000/v1/models");
  expect(html).toContain('id="schema-ClassifyResponse"');
  expect(html).toContain("<code>405</code>");
  expect(html).toMatch(/pre\{[^}]*white-space:pre-wrap/);
  expect(html).not.toMatch(/https?:\/\/(?!edge\.example|splitee\.dev)/); // nothing outside the edge
});

Deno.test("GET /v1/models lists the served models with layers and the edge's maximum split", async () => {
  const res = await app().app.request("/v1/models");
  expect(res.status).toBe(200);
  expect(await res.json()).toEqual({
    models: [{ ...MANIFEST, default: true }, { ...NLI, default: false }],
  });
});

Deno.test("other methods on the GET routes get a 405 problem with Allow", async () => {
  for (const path of ["/v1/models", "/v1/policy", "/healthz", "/openapi.json", "/docs"]) {
    const res = await app().app.request(path, { method: "DELETE" });
    const p = await problem(res, 405, "method-not-allowed");
    expect([path, res.headers.get("allow"), p.detail]).toEqual([path, "GET, HEAD", "Use GET, HEAD."]);
    expect((await app().app.request(path, { method: "HEAD" })).status).toBe(200);
  }
  expect((await app().app.request("/v1/classify", { method: "GET" })).headers.get("allow")).toBe("POST");
});

Deno.test("POST /v1/classify answers a batch in order, with a problem in the place of each bad input", async () => {
  const seen: ClassifyInput[] = [];
  const t = app({ EDGE_MAX_BATCH: "4" }, {
    classify: (input) => {
      seen.push(input);
      if (input.text === "nothing") {
        return Promise.reject(new ProblemError({ status: 422, slug: "invalid-request", title: "Invalid request" }));
      }
      if (input.text === "boom") return Promise.reject(new Error("bug"));
      return Promise.resolve({ ...RESULT, label: input.text });
    },
  });
  const res = await t.app.request(
    "/v1/classify",
    json({ inputs: [{ text: "first" }, { text: 3 }, { text: "nothing" }, { text: "last", split: 2 }] }),
  );
  expect(res.status).toBe(200);
  const { results } = await res.json();
  expect(results.map((r: { label?: string; status?: number; index?: number }) => r.label ?? [r.status, r.index]))
    .toEqual(["first", [422, 1], [422, 2], "last"]);
  expect(results[1].detail).toBe("inputs[1]: text: Must be a string, not a number");
  expect(seen).toEqual([{ text: "first" }, { text: "nothing" }, { text: "last", split: 2 }]);
  // An unexpected failure of one input is a generic 500 problem in its place, logged, never its message.
  const crash = await t.app.request("/v1/classify", json({ inputs: [{ text: "boom" }, { text: "ok" }] }));
  const body = await crash.json();
  expect([body.results[0].status, body.results[0].slug, body.results[0].index]).toEqual([500, undefined, 0]);
  expect(JSON.stringify(body)).not.toContain("bug");
  expect(body.results[1].label).toBe("ok");
  expect(t.errors).toHaveLength(1);
  // Too many inputs: 413 for the whole batch, nothing classified.
  const before = seen.length;
  const big = await problem(
    await t.app.request("/v1/classify", json({ inputs: Array.from({ length: 5 }, () => ({ text: "a" })) })),
    413,
    "batch-too-large",
  );
  expect([big.limit, seen.length]).toEqual([4, before]);
  await problem(await t.app.request("/v1/classify", json({ inputs: [] })), 422, "invalid-request");
});
