/**
 * One gateway app serving two models, through `app.request(...)`: each offload is answered by the layers of the model
 * its `model.id` names, with that model's decode limits; an unknown id or another version is a 409 listing the served
 * models. Model A is models/sentiment on onnxruntime-node; model B is a 6-layer model made of A's first 6 layers (so
 * its final exit is A's exit 6) with a smaller token limit.
 */
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { float32Tensor, runLayers } from "../shared/model_io.ts";
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE } from "../shared/problem.ts";
import type { SegmentRunner } from "../shared/tensor.ts";
import { createOffloadRequest, decodeOffloadResponse, encodeOffloadRequest } from "../shared/wire/mod.ts";
import { createApp, type ModelEntry, type ServedModel } from "./app.ts";
import { loadNodeRunner } from "./runtime/onnx.ts";

const runner = await loadNodeRunner(new URL("../models/sentiment/", import.meta.url).pathname, {
  preload: "all",
  intraOpThreads: 1,
});
const A: ServedModel = runner.manifest;
const D = A.hiddenSize;
const B: ServedModel = { id: "half-en", version: "0123456789abcdef", layers: 6, hiddenSize: D, maxLength: 32 };
const half: SegmentRunner = {
  layers: 6,
  embed: (ids, types) => runner.embed(ids, types),
  layer: (k, h, m) => k <= 6 ? runner.layer(k, h, m) : Promise.reject(new RangeError(`no layer ${k}`)),
  dispose: () => Promise.resolve(),
};
const MODELS: ModelEntry[] = [{ runner, model: A }, { runner: half, model: B }];
const refOf = (m: ServedModel) => ({ id: m.id, version: m.version });

function app() {
  return createApp({ models: MODELS, provider: "cpu", auth: { mode: "insecure-local" }, log: () => {} });
}

function post(target: ReturnType<typeof app>, body: Uint8Array): Promise<Response> {
  return Promise.resolve(target.request("/v1/complete", {
    method: "POST",
    body: body as Uint8Array<ArrayBuffer>,
    headers: { "content-type": "application/msgpack" },
  }));
}

function hidden(tokens: number): Float32Array {
  return Float32Array.from({ length: tokens * D }, (_, i) => Math.sin(i * 0.37) * 0.8);
}

function request(model: ServedModel, splitLayer: number, tokens = 4): Uint8Array<ArrayBuffer> {
  return encodeOffloadRequest(
    createOffloadRequest({ model: refOf(model), splitLayer, dims: [tokens, D], hidden: hidden(tokens) }),
  );
}

async function expectProblem(res: Response, status: number, slug: string, detail: RegExp) {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.equal(res.headers.get("content-type"), PROBLEM_CONTENT_TYPE);
  const body = JSON.parse(text);
  assert.equal(body.type, `${PROBLEM_TYPE_BASE}${slug}`);
  assert.match(body.detail, detail);
  return body;
}

Deno.test("two models: each offload is answered by the layers of the model its id names", async () => {
  const gateway = app();
  const tokens = 4, split = 3;
  const mask = float32Tensor(new Float32Array(tokens).fill(1), [1, tokens]);
  const h = float32Tensor(hidden(tokens), [1, tokens, D]);
  const direct = (await runLayers(runner, h, mask, split + 1, A.layers)).logits;
  const expected = { [A.id]: direct.at(-1)!.data, [B.id]: direct[B.layers - split - 1]!.data };
  const answers = await Promise.all([A, B].map(async (model) => {
    const res = await post(gateway, request(model, split, tokens));
    assert.equal(res.status, 200, await res.clone().text());
    const body = decodeOffloadResponse(new Uint8Array(await res.arrayBuffer()), {
      model: refOf(model),
      exitLayer: model.layers,
    });
    body.logits.forEach((x, i) => assert.ok(Math.abs(x - expected[model.id]![i]!) <= 1e-5, `${model.id} ${i}`));
    return body.logits;
  }));
  assert.ok(answers[0]!.some((x, i) => Math.abs(x - answers[1]![i]!) > 1e-3), "A and B gave the same logits");
});

Deno.test("two models: decode limits (layers, tokens) are the routed model's", async () => {
  const gateway = app();
  const okA = await post(gateway, request(A, 8));
  assert.equal(okA.status, 200);
  await okA.body?.cancel();
  await expectProblem(
    await post(gateway, request(B, 8)),
    422,
    "split-layer-out-of-range",
    /splitLayer 8 is out of range 1..5 \(the model has 6 layers\)/,
  );
  const longA = await post(gateway, request(A, 2, 40));
  assert.equal(longA.status, 200);
  await longA.body?.cancel();
  await expectProblem(await post(gateway, request(B, 2, 40)), 422, "invalid-dims", /Token count 40 .* 1..32/);
});

Deno.test("two models: an unknown id or another version is a 409 listing the served models", async () => {
  const gateway = app();
  const raw = (model: unknown) =>
    encode({
      v: 1,
      model,
      splitLayer: 2,
      dtype: "float32",
      dims: [1, D],
      hidden: new Uint8Array(4 * D),
      attentionMask: Uint8Array.of(1),
    });
  const unknown = await expectProblem(
    await post(gateway, raw({ id: "sentiment-de", version: A.version })),
    409,
    "model-mismatch",
    new RegExp(`"sentiment-de", which this gateway does not serve; it serves ${A.id}@${A.version}, half-en@`),
  );
  assert.equal(unknown.code, "model_mismatch");
  assert.equal(unknown.field, "model.id");
  assert.deepEqual(unknown.served, [refOf(A), refOf(B)]);
  const version = await expectProblem(
    await post(gateway, raw({ id: B.id, version: "fedcba9876543210" })),
    409,
    "model-mismatch",
    /half-en@fedcba9876543210 but this side serves half-en@0123456789abcdef/,
  );
  assert.deepEqual(version.served, [refOf(A), refOf(B)]);
  // Schema errors still come first: a malformed model reference is a 422, not a routing answer.
  await expectProblem(await post(gateway, raw({ id: "x" })), 422, "invalid-offload-request", /model.version/);
});

Deno.test("two models: /healthz lists every model and keeps the first in its single-model fields", async () => {
  const res = await app().request("/healthz");
  assert.deepEqual(await res.json(), {
    status: "ok",
    model: refOf(A),
    layers: A.layers,
    models: [{ ...refOf(A), layers: A.layers }, { ...refOf(B), layers: 6 }],
    provider: "cpu",
    auth: "insecure-local",
  });
});

Deno.test("createApp() refuses no models, two models with the same id, and a runner with another layer count", () => {
  const deps = { provider: "cpu", auth: { mode: "insecure-local" } } as const;
  assert.throws(
    () => createApp({ ...deps, models: [{ runner, model: { ...A, layers: 6 } }] }),
    /Runner has 12 layers but the model \S+ says 6/,
  );
  assert.throws(() => createApp({ ...deps, models: [] }), /at least one model/);
  assert.throws(
    () => createApp({ ...deps, models: [...MODELS, { runner: half, model: { ...B, version: "1111111111111111" } }] }),
    /Two models have the id half-en \(versions 0123456789abcdef and 1111111111111111\)/,
  );
});
