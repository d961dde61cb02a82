import assert from "node:assert/strict";
import { encode } from "@msgpack/msgpack";
import { createPrng, nextGaussian, type Prng } from "../prng.ts";
import {
  decodeOffloadRequest,
  decodeOffloadResponse,
  encodeOffloadRequest,
  encodeOffloadResponse,
  isMsgpackContentType,
} from "./codec.ts";
import { WireError, type WireErrorCode } from "./errors.ts";
import { createOffloadRequest, unpackHidden } from "./hidden.ts";
import { type RequestLimitsFor, WIRE_DTYPES, type WireDtype } from "./schema.ts";

const MODEL = { id: "sentiment-en", version: "7bcec033732db31e" };
const LIMITS = { model: MODEL, layers: 12, hiddenSize: 8, maxTokens: 64 };

/** A valid request as a plain object, for tests that break one thing at a time. */
function rawRequest(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const tokens = 3, width = 8;
  const hidden = new Float32Array(tokens * width).map((_, i) => i / 10 - 1);
  return {
    v: 1,
    model: { ...MODEL },
    splitLayer: 4,
    dtype: "float32",
    dims: [tokens, width],
    hidden: new Uint8Array(hidden.buffer),
    attentionMask: Uint8Array.of(1, 1, 1),
    ...overrides,
  };
}

function rejects(
  bytes: Uint8Array,
  code: WireErrorCode,
  message: RegExp,
  limits: RequestLimitsFor = LIMITS,
): WireError {
  let caught: unknown;
  try {
    decodeOffloadRequest(bytes, limits);
  } catch (err) {
    caught = err;
  }
  assert.ok(caught instanceof WireError, `expected a WireError, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  assert.match(caught.message, message);
  return caught;
}

function randomHidden(prng: Prng, n: number): Float32Array {
  return Float32Array.from({ length: n }, () => nextGaussian(prng) * 2);
}

Deno.test("offload requests round-trip for 300 seeded shapes, dtypes, masks and buffer offsets", () => {
  const prng = createPrng(2024);
  for (let trial = 0; trial < 300; trial++) {
    const tokens = 1 + prng.nextInt(40), width = 1 + prng.nextInt(48);
    const dtype: WireDtype = WIRE_DTYPES[prng.nextInt(3)]!;
    const hidden = randomHidden(prng, tokens * width);
    const attentionMask = Uint8Array.from({ length: tokens }, (_, i) => i === 0 || prng.next() < 0.8 ? 1 : 0);
    const tokenTypeIds = prng.next() < 0.5 ? Uint8Array.from({ length: tokens }, () => prng.nextInt(2)) : undefined;
    const splitLayer = 1 + prng.nextInt(11);
    const req = createOffloadRequest({
      model: MODEL,
      splitLayer,
      dims: [tokens, width],
      hidden,
      dtype,
      attentionMask,
      ...(tokenTypeIds ? { tokenTypeIds } : {}),
    });
    const bytes = encodeOffloadRequest(req);
    // Place the message at every offset mod 4 so bins land unaligned in the receive buffer.
    const shift = trial % 4;
    const buffer = new Uint8Array(bytes.length + shift);
    buffer.set(bytes, shift);
    const got = decodeOffloadRequest(buffer.subarray(shift), { model: MODEL, layers: 12, hiddenSize: width });
    assert.deepEqual(got.model, MODEL);
    assert.equal(got.splitLayer, splitLayer);
    assert.equal(got.dtype, dtype);
    assert.deepEqual(got.dims, [tokens, width]);
    assert.deepEqual(Array.from(got.attentionMask), Array.from(attentionMask));
    assert.deepEqual(got.tokenTypeIds && Array.from(got.tokenTypeIds), tokenTypeIds && Array.from(tokenTypeIds));
    assert.equal(got.scales !== undefined, dtype === "int8");
    const back = unpackHidden(got);
    assert.equal(back.length, tokens * width);
    for (let i = 0; i < hidden.length; i++) {
      const x = hidden[i]!, y = back[i]!;
      const row = hidden.subarray(Math.floor(i / width) * width, (Math.floor(i / width) + 1) * width);
      const tol = dtype === "float32"
        ? 0
        : dtype === "float16"
        ? Math.abs(x) * 2 ** -11 + 2 ** -24
        : Math.max(...row.map(Math.abs)) / 254 + 1e-6;
      assert.ok(Math.abs(x - y) <= tol, `trial ${trial} (${dtype}) value ${i}: ${x} vs ${y}`);
    }
  }
});

Deno.test("unpackHidden() copies an unaligned float32 bin instead of viewing it", () => {
  const bytes = encodeOffloadRequest(createOffloadRequest({
    model: MODEL,
    splitLayer: 2,
    dims: [1, 4],
    hidden: Float32Array.of(1.5, -2.25, 3, 0.125),
  }));
  for (let shift = 0; shift < 4; shift++) {
    const buffer = new Uint8Array(bytes.length + shift);
    buffer.set(bytes, shift);
    const req = decodeOffloadRequest(buffer.subarray(shift));
    const values = unpackHidden(req);
    assert.deepEqual(Array.from(values), [1.5, -2.25, 3, 0.125]);
    assert.equal(values.byteOffset % 4, 0);
    assert.equal(values.buffer === buffer.buffer, req.hidden.byteOffset % 4 === 0, `shift ${shift}`);
  }
});

Deno.test("decodeOffloadRequest() rejects bytes that are not one complete msgpack value", () => {
  const good = encode(rawRequest());
  rejects(new TextEncoder().encode('{"v":1}'), "malformed_msgpack", /not one complete msgpack value/);
  rejects(good.subarray(0, good.length - 7), "malformed_msgpack", /Insufficient data/);
  rejects(Uint8Array.of(...good, 0x00), "malformed_msgpack", /Extra 1 of/);
  rejects(new Uint8Array(0), "malformed_msgpack", /Empty body/);
  rejects(Uint8Array.of(0xc1), "malformed_msgpack", /msgpack/); // 0xc1 is never used
  rejects(encode([1, 2, 3]), "wrong_type", /message must be a map, got an array of 3/);
  rejects(encode("hello"), "wrong_type", /must be a map/);
});

Deno.test("decodeOffloadRequest() names a wrong or missing version before anything else", () => {
  rejects(encode(rawRequest({ v: 2, dtype: "nope" })), "unsupported_version", /Unsupported wire version number 2/);
  rejects(encode(rawRequest({ v: "1" })), "unsupported_version", /string "1"/);
  const { v: _v, ...noVersion } = rawRequest();
  rejects(encode(noVersion), "unsupported_version", /Missing wire version/);
});

Deno.test("decodeOffloadRequest() rejects missing, unknown and mistyped fields", () => {
  const { attentionMask: _m, ...noMask } = rawRequest();
  assert.equal(rejects(encode(noMask), "missing_field", /"attentionMask"/).field, "attentionMask");
  rejects(encode(rawRequest({ extra: 1, more: 2 })), "unknown_field", /Unknown fields "extra", "more"/);
  rejects(encode(rawRequest({ model: { ...MODEL, hash: "x" } })), "unknown_field", /"hash" in model/);
  rejects(encode(rawRequest({ model: { id: "a" } })), "missing_field", /"model.version"/);
  rejects(encode(rawRequest({ splitLayer: "4" })), "wrong_type", /splitLayer must be an integer, got string "4"/);
  rejects(encode(rawRequest({ splitLayer: 4.5 })), "invalid_value", /splitLayer must be an integer, got 4.5/);
  rejects(encode(rawRequest({ hidden: [0.1, 0.2] })), "wrong_type", /hidden must be bin \(raw bytes\), got an array/);
  rejects(encode(rawRequest({ dims: "3x8" })), "wrong_type", /dims must be an array/);
  rejects(encode(rawRequest({ model: "sentiment-en" })), "wrong_type", /model must be a map/);
  rejects(encode(rawRequest({ model: { id: "", version: "x" } })), "invalid_value", /model.id must have 1..128/);
  rejects(encode(rawRequest({ dtype: 4 })), "wrong_type", /dtype must be a string/);
  rejects(encode(rawRequest({ hidden: new Date(0) })), "wrong_type", /extension value/);
});

Deno.test("decodeOffloadRequest() rejects unknown dtypes and dims that do not match the bytes", () => {
  rejects(
    encode(rawRequest({ dtype: "bfloat16" })),
    "unknown_dtype",
    /Unknown dtype "bfloat16"; expected one of float32/,
  );
  rejects(
    encode(rawRequest({ dims: [4, 8] })),
    "size_mismatch",
    /dims \[4, 8\] of float32 need 128 bytes \(32 values\) but hidden has 96 bytes/,
  );
  rejects(encode(rawRequest({ dtype: "float16" })), "size_mismatch", /need 48 bytes/);
  rejects(encode(rawRequest({ dims: [3] })), "invalid_dims", /dims must be \[T, D\], got 1 entries/);
  rejects(encode(rawRequest({ dims: [0, 8] })), "invalid_dims", /Token count 0 is out of range 1..64/);
  rejects(encode(rawRequest({ dims: [65, 8] })), "invalid_dims", /Token count 65/);
  rejects(encode(rawRequest({ dims: [6, 4] })), "invalid_dims", /Hidden size 4 does not match the model's 8/);
});

Deno.test("decodeOffloadRequest() rejects NaN and infinities in the hidden state, naming token and dim", () => {
  for (const [bad, word] of [[NaN, "NaN"], [Infinity, "Infinity"], [-Infinity, "-Infinity"]] as const) {
    const hidden = new Float32Array(24).fill(0.5);
    hidden[13] = bad;
    const err = rejects(
      encode(rawRequest({ hidden: new Uint8Array(hidden.buffer) })),
      "non_finite",
      new RegExp(`value 13 \\(token 1, dim 5\\) is ${word}`),
    );
    assert.equal(err.field, "hidden");
  }
  const half = new Uint16Array(24).fill(0x3c00);
  half[2] = 0x7c00;
  rejects(
    encode(rawRequest({ dtype: "float16", hidden: new Uint8Array(half.buffer) })),
    "non_finite",
    /value 2 \(token 0, dim 2\) is Infinity/,
  );
  const scales = Float32Array.of(1, NaN, 1);
  rejects(
    encode(rawRequest({ dtype: "int8", hidden: new Uint8Array(24), scales: new Uint8Array(scales.buffer) })),
    "non_finite",
    /scales\[1\] is NaN/,
  );
});

Deno.test("decodeOffloadRequest() enforces the split layer range and the served model", () => {
  rejects(encode(rawRequest({ splitLayer: 0 })), "layer_out_of_range", /splitLayer 0 is out of range 1..11/);
  rejects(encode(rawRequest({ splitLayer: 12 })), "layer_out_of_range", /the model has 12 layers/);
  rejects(encode(rawRequest({ splitLayer: -3 })), "layer_out_of_range", /-3/, {});
  const err = rejects(
    encode(rawRequest({ model: { id: "sentiment-en", version: "0000000000000000" } })),
    "model_mismatch",
    /for model sentiment-en@0000000000000000 but this side serves sentiment-en@7bcec033732db31e/,
  );
  assert.equal(err.field, "model");
});

Deno.test("decodeOffloadRequest() picks the limits from the message's model when given a function", () => {
  const other = { id: "pair-en", version: "0123456789abcdef" };
  const seen: string[] = [];
  const limitsFor = (model: { id: string; version: string }) => {
    seen.push(model.id);
    if (model.id === MODEL.id) return LIMITS;
    if (model.id === other.id) return { model: other, layers: 6, hiddenSize: 8, maxTokens: 2 };
    throw new WireError("model_mismatch", "model", `Model ${model.id} is not served`);
  };
  assert.equal(decodeOffloadRequest(encode(rawRequest()), limitsFor).splitLayer, 4);
  const forOther = { model: other, dims: [2, 8], hidden: new Uint8Array(64), attentionMask: Uint8Array.of(1, 1) };
  assert.deepEqual(decodeOffloadRequest(encode(rawRequest(forOther)), limitsFor).model, other);
  rejects(encode(rawRequest({ ...forOther, splitLayer: 6 })), "layer_out_of_range", /1..5/, limitsFor);
  rejects(encode(rawRequest({ model: other })), "invalid_dims", /Token count 3 is out of range 1..2/, limitsFor);
  rejects(encode(rawRequest({ model: { id: "nope", version: "x" } })), "model_mismatch", /nope/, limitsFor);
  rejects(encode(rawRequest({ model: { id: 7 } })), "missing_field", /version/, limitsFor);
  assert.deepEqual(seen, [MODEL.id, other.id, other.id, other.id, "nope"]);
});

Deno.test("decodeOffloadRequest() checks the mask, token type ids and int8 scales against T", () => {
  rejects(
    encode(rawRequest({ attentionMask: Uint8Array.of(1, 1) })),
    "mask_length_mismatch",
    /2 entries but dims say 3/,
  );
  rejects(encode(rawRequest({ attentionMask: Uint8Array.of(1, 2, 1) })), "invalid_value", /attentionMask\[1\] is 2/);
  rejects(encode(rawRequest({ attentionMask: Uint8Array.of(0, 0, 0) })), "invalid_value", /no real token/);
  rejects(encode(rawRequest({ tokenTypeIds: Uint8Array.of(0) })), "mask_length_mismatch", /tokenTypeIds have 1/);
  rejects(encode(rawRequest({ dtype: "int8", hidden: new Uint8Array(24) })), "missing_field", /int8 needs scales/);
  rejects(
    encode(rawRequest({ dtype: "int8", hidden: new Uint8Array(24), scales: new Uint8Array(8) })),
    "size_mismatch",
    /scales need 12 bytes/,
  );
  rejects(encode(rawRequest({ scales: new Uint8Array(12) })), "unknown_field", /only allowed with dtype int8/);
});

Deno.test("encodeOffloadRequest() refuses to send an invalid message", () => {
  const req = createOffloadRequest({ model: MODEL, splitLayer: 0, dims: [1, 2], hidden: Float32Array.of(1, 2) });
  assert.throws(() => encodeOffloadRequest(req), (e) => e instanceof WireError && e.code === "layer_out_of_range");
  assert.throws(
    () => createOffloadRequest({ model: MODEL, splitLayer: 1, dims: [1, 2], hidden: Float32Array.of(1, NaN) }),
    (e) => e instanceof WireError && e.code === "non_finite",
  );
  assert.throws(
    () => createOffloadRequest({ model: MODEL, splitLayer: 1, dims: [2, 2], hidden: Float32Array.of(1, 2) }),
    /need 4 values but got 2/,
  );
});

Deno.test("offload responses round-trip and decode strictly", () => {
  const res = { v: 1 as const, model: MODEL, exitLayer: 12, logits: [1.25, -0.5], computeMs: 3.75 };
  const bytes = encodeOffloadResponse(res);
  assert.deepEqual(decodeOffloadResponse(bytes, { model: MODEL, exitLayer: 12, classes: 2 }), res);
  const code = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return e instanceof WireError ? e.code : `not a WireError: ${e}`;
    }
    return "no error";
  };
  assert.equal(code(() => encodeOffloadResponse({ ...res, logits: [NaN, 1] })), "non_finite");
  assert.equal(code(() => decodeOffloadResponse(encode({ ...res, computeMs: -1 }))), "non_finite");
  assert.equal(code(() => decodeOffloadResponse(encode({ ...res, v: 0 }))), "unsupported_version");
  assert.equal(code(() => decodeOffloadResponse(encode({ ...res, logits: [] }))), "invalid_value");
  assert.equal(code(() => decodeOffloadResponse(encode({ ...res, logits: ["1"] }))), "wrong_type");
  assert.equal(code(() => decodeOffloadResponse(encode({ ...res, extra: true }))), "unknown_field");
  assert.equal(code(() => decodeOffloadResponse(bytes, { exitLayer: 6 })), "layer_out_of_range");
  assert.equal(code(() => decodeOffloadResponse(bytes, { classes: 3 })), "invalid_value");
  assert.equal(code(() => decodeOffloadResponse(bytes, { model: { ...MODEL, id: "x" } })), "model_mismatch");
  assert.equal(code(() => decodeOffloadResponse(new TextEncoder().encode("<html>502</html>"))), "malformed_msgpack");
});

Deno.test("isMsgpackContentType() accepts application/msgpack and application/x-msgpack only", () => {
  assert.ok(isMsgpackContentType("application/msgpack"));
  assert.ok(isMsgpackContentType("Application/X-MsgPack; charset=binary"));
  assert.ok(!isMsgpackContentType("application/json"));
  assert.ok(!isMsgpackContentType("application/msgpack-foo"));
  assert.ok(!isMsgpackContentType(null));
});
