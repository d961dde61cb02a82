/**
 * The gateway app through `app.request(...)` (no network) with the real onnxruntime-node runner over
 * models/sentiment: results equal a direct run of the same layers, and every kind of bad input is a 4xx problem.
 */
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import type { Attributes, Span, SpanOptions, Tracer } from "@opentelemetry/api";
import { float32Tensor, runLayers } from "../shared/model_io.ts";
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE } from "../shared/problem.ts";
import type { Float32Tensor, SegmentRunner } from "../shared/tensor.ts";
import { ATTR, SPAN } from "../shared/tracing.ts";
import {
  createOffloadRequest,
  decodeOffloadResponse,
  encodeOffloadRequest,
  type OffloadRequestInit,
  type WireDtype,
} from "../shared/wire/mod.ts";
import { createApp, type GatewayDeps } from "./app.ts";
import { loadNodeRunner } from "./runtime/onnx.ts";

const MODEL_DIR = new URL("../models/sentiment/", import.meta.url).pathname;
const TOKEN = "test-token-0123456789abcdef";
const runner = await loadNodeRunner(MODEL_DIR, { preload: "all", intraOpThreads: 1 });
const manifest = runner.manifest;
const MODEL = { id: manifest.id, version: manifest.version };
const L = manifest.layers;
const D = manifest.hiddenSize;

interface ParityCase {
  dims: [number, number, number];
  inputIds: number[][];
  tokenTypeIds: number[][];
}
/** Token ids of real sentences (the PyTorch parity inputs of the export). */
const parity: { cases: ParityCase[] } = JSON.parse(
  await Deno.readTextFile(`${MODEL_DIR}parity.json`),
);

/** Hidden state after layer `split` for parity case 1's sentence (one row, no padding), run on the runner. */
async function edgeHidden(split: number): Promise<{ hidden: Float32Array; tokens: number }> {
  const c = parity.cases[1]!;
  const tokens = c.dims[1];
  const dims = [1, tokens];
  const embedded = await runner.embed(
    { dtype: "int64", dims, data: BigInt64Array.from(c.inputIds[0]!, BigInt) },
    { dtype: "int64", dims, data: BigInt64Array.from(c.tokenTypeIds[0]!, BigInt) },
  );
  const mask = float32Tensor(new Float32Array(tokens).fill(1), dims);
  const { hidden } = await runLayers(runner, embedded, mask, 1, split);
  return { hidden: hidden.data, tokens };
}

/** Final logits of layers split+1..L run directly on the runner. */
async function directLogits(hidden: Float32Array, tokens: number, split: number): Promise<Float32Array> {
  const h: Float32Tensor = float32Tensor(hidden, [1, tokens, D]);
  const mask = float32Tensor(new Float32Array(tokens).fill(1), [1, tokens]);
  return (await runLayers(runner, h, mask, split + 1, L)).logits.at(-1)!.data;
}

function app(overrides: Partial<GatewayDeps> = {}) {
  return createApp({
    models: [{ runner, model: manifest }],
    provider: "cpu",
    auth: { mode: "token", token: TOKEN },
    log: () => {},
    ...overrides,
  });
}

function only(other: SegmentRunner): Pick<GatewayDeps, "models"> {
  return { models: [{ runner: other, model: manifest }] };
}

function post(
  target: ReturnType<typeof app>,
  body: BodyInit | null,
  headers: Record<string, string> = {},
): Promise<Response> {
  return Promise.resolve(target.request("/v1/complete", {
    method: "POST",
    body,
    headers: { "content-type": "application/msgpack", authorization: `Bearer ${TOKEN}`, ...headers },
  }));
}

function request(init: Partial<OffloadRequestInit> & { tokens?: number } = {}): Uint8Array<ArrayBuffer> {
  const tokens = init.tokens ?? 4;
  return encodeOffloadRequest(createOffloadRequest({
    model: MODEL,
    splitLayer: 6,
    dims: [tokens, D],
    hidden: Float32Array.from({ length: tokens * D }, (_, i) => Math.sin(i) * 0.5),
    ...init,
  }));
}

/** A valid request as a plain object, to break one field at a time. */
function raw(overrides: Record<string, unknown>): Uint8Array<ArrayBuffer> {
  const tokens = 2;
  return encode({
    v: 1,
    model: MODEL,
    splitLayer: 6,
    dtype: "float32",
    dims: [tokens, D],
    hidden: new Uint8Array(new Float32Array(tokens * D).fill(0.25).buffer),
    attentionMask: Uint8Array.of(1, 1),
    ...overrides,
  }, { ignoreUndefined: true }) as Uint8Array<ArrayBuffer>;
}

async function expectProblem(
  res: Response,
  status: number,
  slug: string,
  detail: RegExp,
): Promise<Record<string, unknown>> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.equal(res.headers.get("content-type"), PROBLEM_CONTENT_TYPE);
  const body = JSON.parse(text);
  assert.equal(body.type, `${PROBLEM_TYPE_BASE}${slug}`);
  assert.equal(body.status, status);
  assert.equal(typeof body.title, "string");
  assert.match(body.detail, detail);
  assert.ok(!/\bat .*\.ts:\d+/.test(text) && !text.includes(TOKEN), `leaks a stack or the token: ${text}`);
  return body;
}

Deno.test("POST /v1/complete equals running layers i+1..L directly, for every split layer", async () => {
  const gateway = app();
  for (let split = 1; split < L; split++) {
    const { hidden, tokens } = await edgeHidden(split);
    const res = await post(gateway, request({ splitLayer: split, dims: [tokens, D], hidden }));
    assert.equal(res.status, 200, await res.clone().text());
    const body = decodeOffloadResponse(new Uint8Array(await res.arrayBuffer()), { model: MODEL, exitLayer: L });
    const expected = await directLogits(hidden, tokens, split);
    assert.equal(body.logits.length, expected.length);
    body.logits.forEach((x, i) => assert.ok(Math.abs(x - expected[i]!) <= 1e-5, `split ${split} logit ${i}`));
  }
});

Deno.test("POST /v1/complete reports its compute time in the body and in Server-Timing", async () => {
  let clock = 1000;
  const gateway = app({ now: () => (clock += 2.5) });
  const res = await post(gateway, request(), { "content-type": "application/x-msgpack" });
  assert.equal(res.status, 200);
  assert.equal(res.headers.get("content-type"), "application/msgpack");
  assert.equal(res.headers.get("server-timing"), "compute;dur=2.500");
  const body = decodeOffloadResponse(new Uint8Array(await res.arrayBuffer()));
  assert.equal(body.computeMs, 2.5);
  assert.deepEqual(body.model, MODEL);
  assert.equal(body.exitLayer, L);
});

Deno.test("POST /v1/complete accepts float16 and int8 hidden states with small logit error", async () => {
  const gateway = app();
  const { hidden, tokens } = await edgeHidden(4);
  const expected = await directLogits(hidden, tokens, 4);
  for (const [dtype, tol] of [["float16", 5e-3], ["int8", 5e-2]] as Array<[WireDtype, number]>) {
    const res = await post(gateway, request({ splitLayer: 4, dims: [tokens, D], hidden, dtype }));
    assert.equal(res.status, 200, dtype);
    const body = decodeOffloadResponse(new Uint8Array(await res.arrayBuffer()));
    body.logits.forEach((x, i) => assert.ok(Math.abs(x - expected[i]!) <= tol, `${dtype} logit ${i}: ${x}`));
  }
});

Deno.test("POST /v1/complete serves concurrent requests with the same results as sequential ones", async () => {
  const gateway = app();
  const bodies = [2, 5, 9, 11].map((split) => request({ splitLayer: split, tokens: 3 + split }));
  const sequential = [];
  for (const b of bodies) sequential.push(new Uint8Array(await (await post(gateway, b)).arrayBuffer()));
  const concurrent = await Promise.all(
    bodies.map(async (b) => new Uint8Array(await (await post(gateway, b)).arrayBuffer())),
  );
  sequential.forEach((s, i) => {
    assert.deepEqual(decodeOffloadResponse(concurrent[i]!).logits, decodeOffloadResponse(s).logits);
  });
});

Deno.test("POST /v1/complete records a layer span with split layer, layers run, payload bytes and model id", async () => {
  const tracer = new RecordingTracer();
  const body = request({ splitLayer: 3, tokens: 5 });
  const res = await post(app({ tracer }), body);
  assert.equal(res.status, 200);
  await res.body?.cancel();
  assert.deepEqual(tracer.spans.map((s) => [s.name, s.ended]), [[SPAN.gatewayLayers, true]]);
  assert.deepEqual(tracer.spans[0]!.attributes, {
    [ATTR.modelId]: MODEL.id,
    [ATTR.modelVersion]: MODEL.version,
    [ATTR.splitLayer]: 3,
    [ATTR.exitLayer]: L,
    [ATTR.layersRun]: L - 3,
    [ATTR.tokens]: 5,
    [ATTR.dtype]: "float32",
    [ATTR.payloadBytes]: body.byteLength,
  });
});

Deno.test("GET /healthz names the model, provider and auth mode without authentication", async () => {
  const res = await app().request("/healthz");
  assert.equal(res.status, 200);
  const { models, ...rest } = await res.json();
  assert.deepEqual(rest, { status: "ok", model: MODEL, layers: L, provider: "cpu", auth: "token" });
  assert.deepEqual(models, [{ ...MODEL, layers: L }]);
});

Deno.test("bad bodies get 400 and schema violations 422, each naming what is wrong", async () => {
  const gateway = app();
  const good = request();
  const nan = new Float32Array(2 * D).fill(0.5);
  nan[D + 3] = NaN;
  const inf = new Float32Array(2 * D).fill(0.5);
  inf[7] = -Infinity;
  const cases: Array<[string, Uint8Array | string, number, string, RegExp]> = [
    ["JSON body", '{"v":1,"splitLayer":3}', 400, "malformed-msgpack", /not one complete msgpack value/],
    ["empty body", "", 400, "malformed-msgpack", /Empty body/],
    ["truncated msgpack", good.subarray(0, good.length - 100), 400, "malformed-msgpack", /Insufficient data/],
    ["random bytes", Uint8Array.of(0xc1, 0x00, 0xff), 400, "malformed-msgpack", /msgpack/],
    ["an array", encode([1, 2]), 422, "invalid-offload-request", /message must be a map/],
    ["wire version 2", raw({ v: 2 }), 422, "unsupported-wire-version", /Unsupported wire version number 2/],
    ["unknown dtype", raw({ dtype: "bfloat16" }), 422, "unknown-dtype", /Unknown dtype "bfloat16"/],
    ["dims vs bytes", raw({ dims: [3, D] }), 422, "size-mismatch", /need 1536 bytes .* but hidden has 1024 bytes/],
    ["hidden size", raw({ dims: [4, D / 2] }), 422, "invalid-dims", /Hidden size 64 does not match the model's 128/],
    ["too many tokens", raw({ dims: [manifest.maxLength + 1, D] }), 422, "invalid-dims", /out of range 1..256/],
    ["NaN", raw({ hidden: new Uint8Array(nan.buffer) }), 422, "non-finite-values", /token 1, dim 3\) is NaN/],
    ["-Infinity", raw({ hidden: new Uint8Array(inf.buffer) }), 422, "non-finite-values", /is -Infinity/],
    ["split 0", raw({ splitLayer: 0 }), 422, "split-layer-out-of-range", /splitLayer 0 is out of range 1..11/],
    ["split L", raw({ splitLayer: L }), 422, "split-layer-out-of-range", /splitLayer 12 is out of range/],
    ["mask length", raw({ attentionMask: Uint8Array.of(1) }), 422, "mask-length-mismatch", /1 entries but dims say 2/],
    ["hidden as floats", raw({ hidden: [0.1, 0.2] }), 422, "invalid-offload-request", /hidden must be bin/],
    ["extra field", raw({ debug: true }), 422, "invalid-offload-request", /Unknown field "debug"/],
    ["missing field", raw({ splitLayer: undefined }), 422, "invalid-offload-request", /Missing field "splitLayer"/],
  ];
  for (const [name, body, status, slug, detail] of cases) {
    const res = await post(gateway, body as BodyInit);
    const problem = await expectProblem(res, status, slug, detail);
    assert.ok(typeof problem.code === "string", name);
    assert.equal(problem.instance, "/v1/complete");
  }
});

Deno.test("a request for another model version gets 409 naming both versions", async () => {
  const res = await post(app(), raw({ model: { id: MODEL.id, version: "0123456789abcdef" } }));
  const body = await expectProblem(res, 409, "model-mismatch", /0123456789abcdef but this side serves/);
  assert.deepEqual([body.code, body.served], ["model_mismatch", [MODEL]]);
});

Deno.test("extreme finite hidden states get finite logits, and non-finite model output is a 422, not a 500", async () => {
  const extreme = Float32Array.from({ length: 2 * D }, (_, i) => (i % 2 ? 3e38 : -3e38));
  const res = await post(app(), raw({ hidden: new Uint8Array(extreme.buffer) }));
  assert.equal(res.status, 200);
  assert.ok(decodeOffloadResponse(new Uint8Array(await res.arrayBuffer())).logits.every(Number.isFinite));
  const overflowing: SegmentRunner = {
    layers: L,
    embed: () => Promise.reject(new Error("unused")),
    dispose: () => Promise.resolve(),
    layer: async (k, h, m) => {
      const out = await runner.layer(k, h, m);
      return { hidden: out.hidden, logits: float32Tensor(Float32Array.of(NaN, 1), [1, 2]) };
    },
  };
  await expectProblem(
    await post(app(only(overflowing)), raw({})),
    422,
    "non-finite-output",
    /layers 7..12 on this hidden state gives logit 0 = NaN/,
  );
});

Deno.test("wrong content types get 415 and oversized bodies 413 without being read", async () => {
  const gateway = app({ maxBodyBytes: 4096 });
  await expectProblem(
    await post(gateway, request(), { "content-type": "application/json" }),
    415,
    "unsupported-media-type",
    /application\/msgpack, not "application\/json"/,
  );
  const noType = await gateway.request("/v1/complete", {
    method: "POST",
    body: new Blob([request()]).stream(),
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  await expectProblem(noType, 415, "unsupported-media-type", /not no type/);
  const big = new Uint8Array(10_000);
  await expectProblem(
    await post(gateway, big, { "content-length": "10000" }),
    413,
    "body-too-large",
    /10000 bytes; the limit is 4096/,
  );
  await expectProblem(await post(gateway, big), 413, "body-too-large", /exceeds the limit of 4096 bytes/);
  let pulled = 0;
  const endless = new ReadableStream<Uint8Array>({
    pull(controller) {
      pulled++;
      controller.enqueue(new Uint8Array(1024));
    },
  });
  await expectProblem(await post(gateway, endless), 413, "body-too-large", /exceeds the limit of 4096 bytes/);
  assert.ok(pulled <= 8, `read ${pulled} chunks of an endless body`);
});

Deno.test("missing or malformed credentials get 401 with a challenge, a wrong token 403", async () => {
  const gateway = app();
  const missing = await gateway.request("/v1/complete", {
    method: "POST",
    body: request(),
    headers: { "content-type": "application/msgpack" },
  });
  assert.equal(missing.headers.get("www-authenticate"), 'Bearer realm="splitee-gateway"');
  await expectProblem(missing, 401, "unauthenticated", /Authorization: Bearer <token>/);
  await expectProblem(
    await post(gateway, request(), { authorization: `Basic ${btoa("a:b")}` }),
    401,
    "unauthenticated",
    /not of the form/,
  );
  await expectProblem(
    await post(gateway, request(), { authorization: "Bearer " }),
    401,
    "unauthenticated",
    /not of the form/,
  );
  await expectProblem(
    await post(gateway, request(), { authorization: `Bearer ${TOKEN}x` }),
    403,
    "forbidden",
    /not the one/,
  );
  await expectProblem(
    await post(gateway, request(), { authorization: "Bearer short" }),
    403,
    "forbidden",
    /not the one/,
  );
  // Authentication comes first: an unauthenticated caller learns nothing about the body.
  await expectProblem(await post(gateway, "junk", { authorization: "" }), 401, "unauthenticated", /Bearer/);
});

Deno.test("insecure local mode needs no token", async () => {
  const res = await post(app({ auth: { mode: "insecure-local" } }), request(), { authorization: "" });
  assert.equal(res.status, 200);
  await res.body?.cancel();
});

Deno.test("unknown routes get 404 and other methods on /v1/complete 405, as problem+json", async () => {
  const gateway = app();
  await expectProblem(
    await gateway.request("/v1/nope", { headers: { authorization: `Bearer ${TOKEN}` } }),
    404,
    "not-found",
    /GET \/v1\/nope/,
  );
  const get = await gateway.request("/v1/complete", { headers: { authorization: `Bearer ${TOKEN}` } });
  assert.equal(get.headers.get("allow"), "POST");
  await expectProblem(get, 405, "method-not-allowed", /Use POST/);
});

Deno.test("a runner failure is a generic 500 problem that is logged but not revealed", async () => {
  const logged: unknown[] = [];
  const broken: SegmentRunner = {
    layers: L,
    embed: () => Promise.reject(new Error("unused")),
    layer: () => Promise.reject(new Error("CUDA out of memory at /secret/path")),
    dispose: () => Promise.resolve(),
  };
  const res = await post(app({ ...only(broken), log: (_m, e) => logged.push(e) }), request());
  const body = await expectProblem(res, 500, "internal", /failure has been logged/);
  assert.ok(!JSON.stringify(body).includes("secret"));
  assert.equal(logged.length, 1);
  assert.match(String(logged[0]), /CUDA out of memory/);
});

/** Records spans started through `startActiveSpan` (all the gateway uses). */
class RecordingTracer implements Tracer {
  readonly spans: Array<{ name: string; attributes: Attributes; ended: boolean }> = [];

  startSpan(name: string, options: SpanOptions = {}): Span {
    const record = { name, attributes: { ...options.attributes }, ended: false };
    this.spans.push(record);
    const span = {
      setAttribute: (k: string, v: unknown) => ((record.attributes[k] = v as never), span),
      setAttributes: (a: Attributes) => (Object.assign(record.attributes, a), span),
      setStatus: () => span,
      recordException: () => {},
      end: () => void (record.ended = true),
      isRecording: () => true,
      spanContext: () => ({ traceId: "0".repeat(32), spanId: "0".repeat(16), traceFlags: 1 }),
    };
    return span as unknown as Span;
  }

  startActiveSpan<F extends (span: Span) => unknown>(name: string, ...args: unknown[]): ReturnType<F> {
    const fn = args.at(-1) as F;
    const options = (args.length > 1 ? args[0] : {}) as SpanOptions;
    return fn(this.startSpan(name, options)) as ReturnType<F>;
  }
}
