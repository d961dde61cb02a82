/**
 * The gateway app in `GATEWAY_AUTH=hmac` mode through `app.request(...)` with the real onnxruntime-node runner:
 * a signed request is served; missing or malformed headers get 401, a bad signature 403, a stale, future or replayed
 * one 401 with its own `type`; no answer names the secret.
 */
import assert from "node:assert/strict";
import { importHmacKey, SIGNATURE_HEADER, signRequest, TIMESTAMP_HEADER } from "../shared/hmac.ts";
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_BASE } from "../shared/problem.ts";
import { createOffloadRequest, decodeOffloadResponse, encodeOffloadRequest } from "../shared/wire/mod.ts";
import { createApp } from "./app.ts";
import { loadNodeRunner } from "./runtime/onnx.ts";

const SECRET = "hmac-test-secret-0123456789abcdef";
const NOW_MS = 1_800_000_000_500;
const NOW_S = Math.floor(NOW_MS / 1000);
const runner = await loadNodeRunner(new URL("../models/sentiment/", import.meta.url).pathname, { intraOpThreads: 1 });
const manifest = runner.manifest;
const MODEL = { id: manifest.id, version: manifest.version };

/** A gateway whose clock reads NOW_MS and that started `startedAt` (default: 10 s earlier). */
function app(startedAt = NOW_MS - 10_000) {
  return createApp({
    models: [{ runner, model: manifest }],
    provider: "cpu",
    auth: { mode: "hmac", token: SECRET },
    clock: () => NOW_MS,
    startedAt,
    log: () => {},
  });
}

function body(): Uint8Array<ArrayBuffer> {
  const tokens = 3;
  return encodeOffloadRequest(createOffloadRequest({
    model: MODEL,
    splitLayer: manifest.layers - 1,
    dims: [tokens, manifest.hiddenSize],
    hidden: Float32Array.from({ length: tokens * manifest.hiddenSize }, (_, i) => Math.cos(i) * 0.5),
  }));
}

async function sign(bytes: Uint8Array, timestamp = NOW_S, secret = SECRET, path = "/v1/complete") {
  return await signRequest(await importHmacKey(secret), { method: "POST", path, timestamp, body: bytes });
}

function post(target: ReturnType<typeof app>, bytes: Uint8Array<ArrayBuffer>, headers: Record<string, string>) {
  return Promise.resolve(target.request("/v1/complete", {
    method: "POST",
    body: bytes,
    headers: { "content-type": "application/msgpack", ...headers },
  }));
}

async function expectProblem(res: Response, status: number, slug: string): Promise<Record<string, unknown>> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  assert.equal(res.headers.get("content-type"), PROBLEM_CONTENT_TYPE);
  const problem = JSON.parse(text);
  assert.equal(problem.type, `${PROBLEM_TYPE_BASE}${slug}`);
  assert.ok(!text.includes(SECRET), `leaks the secret: ${text}`);
  return problem;
}

Deno.test("hmac mode: a signed offload is served, and /healthz names the hmac mode", async () => {
  const gateway = app();
  const bytes = body();
  const res = await post(gateway, bytes, await sign(bytes));
  assert.equal(res.status, 200, await res.clone().text());
  const decoded = decodeOffloadResponse(new Uint8Array(await res.arrayBuffer()), {
    model: MODEL,
    exitLayer: manifest.layers,
    classes: manifest.labels.length,
  });
  assert.equal(decoded.logits.length, manifest.labels.length);
  assert.equal((await (await gateway.request("/healthz")).json()).auth, "hmac");
});

Deno.test("hmac mode: missing or malformed signature headers get 401 unauthenticated with a challenge", async () => {
  const gateway = app();
  const bytes = body();
  const good = await sign(bytes);
  const cases: Record<string, string>[] = [
    {},
    { [TIMESTAMP_HEADER]: good[TIMESTAMP_HEADER]! },
    { [SIGNATURE_HEADER]: good[SIGNATURE_HEADER]! },
    { ...good, [SIGNATURE_HEADER]: "sha256=abc" },
    { ...good, [TIMESTAMP_HEADER]: "yesterday" },
    { authorization: `Bearer ${SECRET}` }, // the bearer scheme is not accepted in hmac mode
  ];
  for (const headers of cases) {
    const res = await post(gateway, bytes, headers);
    assert.match(res.headers.get("www-authenticate") ?? "", /^SplitEE-HMAC realm=/);
    await expectProblem(res, 401, "unauthenticated");
  }
});

Deno.test("hmac mode: a wrong secret, a tampered body or another path gets 403", async () => {
  const gateway = app();
  const bytes = body();
  await expectProblem(
    await post(gateway, bytes, await sign(bytes, NOW_S, "another-secret-0123456789abcdef")),
    403,
    "forbidden",
  );
  const tampered = bytes.slice();
  tampered[tampered.length - 1]! ^= 1;
  await expectProblem(await post(gateway, tampered, await sign(bytes)), 403, "forbidden");
  await expectProblem(await post(gateway, bytes, await sign(bytes, NOW_S, SECRET, "/v1/other")), 403, "forbidden");
});

Deno.test("hmac mode: stale and future timestamps get 401 stale-signature", async () => {
  const gateway = app();
  const bytes = body();
  const stale = await expectProblem(await post(gateway, bytes, await sign(bytes, NOW_S - 31)), 401, "stale-signature");
  assert.match(String(stale.detail), /more than 30 s in the past/);
  const future = await expectProblem(await post(gateway, bytes, await sign(bytes, NOW_S + 31)), 401, "stale-signature");
  assert.match(String(future.detail), /more than 30 s in the future/);
});

Deno.test("hmac mode: a replayed request gets 401 replayed-signature", async () => {
  const gateway = app();
  const bytes = body();
  const headers = await sign(bytes);
  assert.equal((await post(gateway, bytes, headers)).status, 200);
  await expectProblem(await post(gateway, bytes, headers), 401, "replayed-signature");
  // A fresh signature of the same body (a later second) is accepted.
  assert.equal((await post(gateway, bytes, await sign(bytes, NOW_S + 1))).status, 200);
});

Deno.test("hmac mode: a request signed before the gateway started is refused (the replay cache starts empty)", async () => {
  const bytes = body();
  const before = await sign(bytes, NOW_S - 1); // within the 30 s window, but from before this process
  const gateway = app(NOW_MS); // started just now
  const problem = await expectProblem(await post(gateway, bytes, before), 401, "stale-signature");
  assert.match(String(problem.detail), /before this gateway started/);
  // NOW_MS is 500 ms into its second: a request stamped with that second may predate the start, the next one cannot.
  await expectProblem(await post(gateway, bytes, await sign(bytes, NOW_S)), 401, "stale-signature");
  assert.equal((await post(gateway, bytes, await sign(bytes, NOW_S + 1))).status, 200);
});

Deno.test("hmac mode: an oversized body gets 413 before it is verified", async () => {
  const gateway = createApp({
    models: [{ runner, model: manifest }],
    provider: "cpu",
    auth: { mode: "hmac", token: SECRET },
    clock: () => NOW_MS,
    startedAt: NOW_MS - 10_000,
    maxBodyBytes: 1024,
    log: () => {},
  });
  const bytes = body();
  await expectProblem(await post(gateway, bytes, await sign(bytes)), 413, "body-too-large");
});
