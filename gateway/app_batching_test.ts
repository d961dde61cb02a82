/**
 * The gateway app with dynamic batching on (`batch` in {@linkcode createApp}), through `app.request(...)` with the
 * real onnxruntime-node runner: concurrent offloads give the same logits as the unbatched app, and a failing batch is
 * a 500 problem for its own requests only.
 */
import assert from "node:assert/strict";
import { PROBLEM_CONTENT_TYPE } from "../shared/problem.ts";
import type { SegmentRunner } from "../shared/tensor.ts";
import {
  createOffloadRequest,
  decodeOffloadRequest,
  decodeOffloadResponse,
  encodeOffloadRequest,
} from "../shared/wire/mod.ts";
import { createApp, type GatewayDeps } from "./app.ts";
import { loadNodeRunner } from "./runtime/onnx.ts";

const MODEL_DIR = new URL("../models/sentiment/", import.meta.url).pathname;
const runner = await loadNodeRunner(MODEL_DIR, { preload: "all", intraOpThreads: 1 });
const manifest = runner.manifest;
const D = manifest.hiddenSize;
const MODEL = { id: manifest.id, version: manifest.version };

function app(overrides: Partial<GatewayDeps> = {}) {
  return createApp({
    models: [{ runner, model: manifest }],
    provider: "cpu",
    auth: { mode: "insecure-local" },
    log: () => {},
    ...overrides,
  });
}

function body(splitLayer: number, tokens: number, seed: number): Uint8Array<ArrayBuffer> {
  return encodeOffloadRequest(createOffloadRequest({
    model: MODEL,
    splitLayer,
    dims: [tokens, D],
    hidden: Float32Array.from({ length: tokens * D }, (_, i) => Math.sin(i * 0.37 + seed) * 0.8),
  }));
}

function post(target: ReturnType<typeof app>, bytes: Uint8Array<ArrayBuffer>): Promise<Response> {
  return Promise.resolve(target.request("/v1/complete", {
    method: "POST",
    body: bytes,
    headers: { "content-type": "application/msgpack" },
  }));
}

Deno.test("with batching on, concurrent offloads of different lengths and splits equal the unbatched app", async () => {
  const plain = app();
  const batched = app({ batch: { maxBatch: 16, waitMs: 5 } });
  const bodies = [
    ...[9, 14, 25, 31, 20, 3].map((t, i) => body(1, t, i)),
    ...[7, 12, 30].map((t, i) => body(6, t, 10 + i)),
  ];
  const got = await Promise.all(bodies.map(async (b) => {
    const res = await post(batched, b);
    assert.equal(res.status, 200, await res.clone().text());
    assert.match(res.headers.get("server-timing") ?? "", /^compute;dur=\d+\.\d{3}$/);
    return decodeOffloadResponse(new Uint8Array(await res.arrayBuffer()));
  }));
  for (const [i, b] of bodies.entries()) {
    const want = decodeOffloadResponse(new Uint8Array(await (await post(plain, b)).arrayBuffer()));
    assert.ok(Number.isFinite(got[i]!.computeMs) && got[i]!.computeMs >= 0);
    want.logits.forEach((x, c) =>
      assert.ok(Math.abs(x - got[i]!.logits[c]!) <= 1e-5, `request ${i} logit ${c}: ${got[i]!.logits[c]} vs ${x}`)
    );
  }
});

Deno.test("with batching on, a failing batch is a 500 problem for its requests only", async () => {
  const failing: SegmentRunner = {
    layers: runner.layers,
    embed: (ids, types) => runner.embed(ids, types),
    layer: (k, h, m) => k === 3 ? Promise.reject(new Error("layer 3 exploded")) : runner.layer(k, h, m),
    dispose: () => Promise.resolve(),
  };
  const logged: string[] = [];
  const gateway = app({
    models: [{ runner: failing, model: manifest }],
    batch: { maxBatch: 16, waitMs: 5 },
    log: (m, e) => logged.push(`${m} ${e}`),
  });
  // Split 1 runs layer 3 and fails; split 6 never does.
  const res = await Promise.all([body(1, 5, 1), body(1, 6, 2), body(6, 5, 3)].map((b) => post(gateway, b)));
  assert.deepEqual(res.map((r) => r.status), [500, 500, 200]);
  for (const r of res.slice(0, 2)) {
    assert.equal(r.headers.get("content-type"), PROBLEM_CONTENT_TYPE);
    assert.ok(!(await r.text()).includes("exploded"), "the cause is logged, not revealed");
  }
  await res[2]!.arrayBuffer();
  assert.equal(logged.length, 2);
});

Deno.test("with batching on, each model gets its own batcher: concurrent offloads never share a batch", async () => {
  const rows = { a: 0, b: 0 };
  const counting = (key: "a" | "b"): SegmentRunner => ({
    layers: runner.layers,
    embed: (ids, types) => runner.embed(ids, types),
    layer: (k, h, m) => {
      if (k === 2) rows[key] += h.dims[0]!;
      return runner.layer(k, h, m);
    },
    dispose: () => Promise.resolve(),
  });
  const other = { ...manifest, id: "other-en" };
  const gateway = app({
    models: [{ runner: counting("a"), model: manifest }, { runner: counting("b"), model: other }],
    batch: { maxBatch: 16, waitMs: 5 },
  });
  const forOther = (b: Uint8Array<ArrayBuffer>) => {
    const req = decodeOffloadRequest(b);
    return encodeOffloadRequest({ ...req, model: { id: other.id, version: other.version } });
  };
  const bodies = [body(1, 5, 1), body(1, 6, 2), body(1, 7, 3)];
  const res = await Promise.all([...bodies.map((b) => post(gateway, b)), post(gateway, forOther(bodies[0]!))]);
  const out = await Promise.all(res.map(async (r) => {
    assert.equal(r.status, 200, await r.clone().text());
    return decodeOffloadResponse(new Uint8Array(await r.arrayBuffer()));
  }));
  assert.deepEqual(rows, { a: 3, b: 1 });
  assert.deepEqual(out.map((o) => o.model.id), [manifest.id, manifest.id, manifest.id, other.id]);
  out[3]!.logits.forEach((x, i) => assert.ok(Math.abs(x - out[0]!.logits[i]!) <= 1e-5, `logit ${i}`));
});
