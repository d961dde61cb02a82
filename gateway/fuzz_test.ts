/**
 * 10,000 random and mutated requests against the gateway app with the real runner: none gets a 5xx, every error is
 * problem+json, the app still answers a valid request afterwards, and memory stays bounded.
 */
import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { PROBLEM_CONTENT_TYPE } from "../shared/problem.ts";
import { createPrng, type Prng } from "../shared/prng.ts";
import { createOffloadRequest, encodeOffloadRequest, WIRE_DTYPES } from "../shared/wire/mod.ts";
import { createApp } from "./app.ts";
import { loadNodeRunner } from "./runtime/onnx.ts";

const TOKEN = "fuzz-token-0123456789abcdef";
const runner = await loadNodeRunner(new URL("../models/sentiment/", import.meta.url).pathname, {
  preload: "all",
  intraOpThreads: 1,
});
const manifest = runner.manifest;
const MODEL = { id: manifest.id, version: manifest.version };
const D = manifest.hiddenSize;

function validRequest(prng: Prng): Uint8Array {
  const tokens = 1 + prng.nextInt(6);
  return encodeOffloadRequest(createOffloadRequest({
    model: MODEL,
    splitLayer: 1 + prng.nextInt(manifest.layers - 1),
    dims: [tokens, D],
    hidden: Float32Array.from({ length: tokens * D }, () => (prng.next() - 0.5) * 8),
    dtype: WIRE_DTYPES[prng.nextInt(3)]!,
  }));
}

function randomValue(prng: Prng, depth = 0): unknown {
  switch (prng.nextInt(depth > 2 ? 7 : 9)) {
    case 0:
      return null;
    case 1:
      return prng.next() < 0.5;
    case 2:
      return prng.nextInt(40) - 10;
    case 3:
      return [NaN, Infinity, -0, 1e308, 2 ** 53 + 2, 0.5][prng.nextInt(6)];
    case 4:
      return ["", "float32", "int8", "float16", "x".repeat(prng.nextInt(300)), MODEL.version][prng.nextInt(6)];
    case 5:
      return new Uint8Array(prng.nextInt(3 * D * 4 + 8)).map(() => prng.nextInt(256));
    case 6:
      return [1 + prng.nextInt(8), D];
    case 7:
      return Array.from({ length: prng.nextInt(4) }, () => randomValue(prng, depth + 1));
    default:
      return Object.fromEntries(
        Array.from(
          { length: prng.nextInt(4) },
          (_, i) => [["id", "version", "v", `k${i}`][i]!, randomValue(prng, depth + 1)],
        ),
      );
  }
}

const FIELDS = ["v", "model", "splitLayer", "dtype", "dims", "hidden", "scales", "attentionMask", "tokenTypeIds", "x"];

/** One fuzz case: [body, content type, authorization]. */
function fuzzCase(prng: Prng): [Uint8Array, string, string] {
  let body: Uint8Array;
  const kind = prng.nextInt(5);
  if (kind === 0) {
    body = new Uint8Array(prng.nextInt(2000)).map(() => prng.nextInt(256));
  } else if (kind === 1) {
    body = validRequest(prng).slice();
    for (let flips = 1 + prng.nextInt(4); flips > 0; flips--) {
      const at = prng.nextInt(body.length);
      body[at] = body[at]! ^ (1 << prng.nextInt(8));
    }
  } else if (kind === 2) {
    const valid = validRequest(prng);
    body = prng.next() < 0.5
      ? valid.subarray(0, prng.nextInt(valid.length))
      : Uint8Array.of(...valid, prng.nextInt(256));
  } else if (kind === 3) {
    const msg: Record<string, unknown> = {};
    for (const f of FIELDS) if (prng.next() < 0.7) msg[f] = f === "v" && prng.next() < 0.7 ? 1 : randomValue(prng);
    if (prng.next() < 0.5) msg.model = prng.next() < 0.8 ? MODEL : randomValue(prng);
    body = encode(msg);
  } else {
    body = validRequest(prng);
  }
  const roll = prng.next();
  const contentType = roll < 0.9 ? "application/msgpack" : roll < 0.95 ? "application/json" : "";
  const auth = prng.next() < 0.95 ? `Bearer ${TOKEN}` : ["", "Bearer nope", "Basic x"][prng.nextInt(3)]!;
  return [body, contentType, auth];
}

Deno.test("10,000 random and mutated requests get no 5xx and leave the gateway answering", async () => {
  const app = createApp({
    models: [{ runner, model: manifest }],
    provider: "cpu",
    auth: { mode: "token", token: TOKEN },
    maxBodyBytes: 64 * 1024,
    log: (message, error) => console.error(message, error),
  });
  const prng = createPrng(9457);
  const statuses = new Map<number, number>();
  let { rss: rssBefore, heapUsed: heapBefore } = Deno.memoryUsage();
  for (let i = 0; i < 10_000; i++) {
    if (i === 1_000) ({ rss: rssBefore, heapUsed: heapBefore } = Deno.memoryUsage()); // after warm-up
    const [body, contentType, auth] = fuzzCase(prng);
    const headers: Record<string, string> = {};
    if (contentType) headers["content-type"] = contentType;
    if (auth) headers.authorization = auth;
    const res = await app.request("/v1/complete", { method: "POST", body: body as Uint8Array<ArrayBuffer>, headers });
    statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
    if (res.status >= 500) assert.fail(`case ${i} got ${res.status}: ${await res.text()}`);
    if (res.status !== 200) assert.equal(res.headers.get("content-type"), PROBLEM_CONTENT_TYPE, `case ${i}`);
    await res.body?.cancel();
  }
  const { rss: rssAfter, heapUsed: heapAfter } = Deno.memoryUsage();
  const growthMb = (rssAfter - rssBefore) / 2 ** 20;
  const heapGrowthMb = (heapAfter - heapBefore) / 2 ** 20;
  console.log(
    `statuses: ${JSON.stringify(Object.fromEntries(statuses))}, rss growth ${growthMb.toFixed(1)} MiB, ` +
      `JS heap growth ${heapGrowthMb.toFixed(1)} MiB`,
  );
  assert.ok((statuses.get(200) ?? 0) > 1000, "enough valid requests ran the model");
  assert.ok([400, 401, 403, 409, 415, 422].every((s) => (statuses.get(s) ?? 0) > 0), "every rejection kind was hit");
  // This isolate's JS heap over the last 9,000 requests, not RSS: RSS is shared with test modules running in
  // parallel. Keeping 10 KiB per request would add ~88 MiB.
  assert.ok(heapGrowthMb < 64, `JS heap grew ${heapGrowthMb.toFixed(1)} MiB`);
  const last = await app.request("/v1/complete", {
    method: "POST",
    body: validRequest(prng) as Uint8Array<ArrayBuffer>,
    headers: { "content-type": "application/msgpack", authorization: `Bearer ${TOKEN}` },
  });
  assert.equal(last.status, 200);
  await last.body?.cancel();
});
