import assert from "node:assert/strict";
import { createPrng, nextGaussian } from "../prng.ts";
import {
  dequantizeInt8PerToken,
  float16BitsToFloat32,
  float32ToFloat16Bits,
  fromFloat16,
  isFloat16NonFinite,
  quantizeInt8PerToken,
  toFloat16,
} from "./quant.ts";

Deno.test("float32ToFloat16Bits() encodes landmark values exactly", () => {
  const cases: Array<[number, number]> = [
    [0, 0x0000],
    [-0, 0x8000],
    [1, 0x3c00],
    [-2, 0xc000],
    [65504, 0x7bff], // largest finite half
    [65520, 0x7c00], // rounds up to +Infinity
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [2 ** -14, 0x0400], // smallest normal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // halfway to zero: ties to even
    [3 * 2 ** -26, 0x0001], // above halfway: rounds up
    [1 + 2 ** -11, 0x3c00], // halfway between 1 and next: ties to even (down)
    [1 + 3 * 2 ** -11, 0x3c02], // halfway between odd and even: ties to even (up)
    [0.1, 0x2e66],
  ];
  for (const [value, bits] of cases) {
    assert.equal(float32ToFloat16Bits(value), bits, `float16 bits of ${value}`);
  }
  assert.ok(Number.isNaN(float16BitsToFloat32(float32ToFloat16Bits(NaN))));
  assert.ok(isFloat16NonFinite(float32ToFloat16Bits(NaN)) && isFloat16NonFinite(0xfc00) && !isFloat16NonFinite(0x7bff));
});

Deno.test("float16 round trip agrees with the engine's Math.f16round on 20,000 seeded values", () => {
  const f16round = (Math as unknown as { f16round?: (x: number) => number }).f16round;
  const prng = createPrng(16);
  for (let i = 0; i < 20_000; i++) {
    // Log-uniform magnitudes from 2^-30 to 2^17 cover subnormals, normals and overflow.
    const value = Math.fround((prng.next() < 0.5 ? -1 : 1) * 2 ** (prng.next() * 47 - 30));
    const back = float16BitsToFloat32(float32ToFloat16Bits(value));
    if (f16round) {
      assert.equal(back, f16round(value), `f16 of ${value}`);
    } else if (Math.abs(value) < 65504 && Math.abs(value) >= 2 ** -14) {
      assert.ok(Math.abs(back - value) <= Math.abs(value) * 2 ** -11, `f16 of ${value} is ${back}`);
    }
  }
  // Every finite half widens and narrows back to itself.
  for (let bits = 0; bits < 0x10000; bits++) {
    if (isFloat16NonFinite(bits)) continue;
    assert.equal(float32ToFloat16Bits(float16BitsToFloat32(bits)), bits);
  }
});

Deno.test("toFloat16() / fromFloat16() keep hidden-state-like values within 2^-11 relative error", () => {
  const prng = createPrng(7);
  const values = Float32Array.from({ length: 4096 }, () => nextGaussian(prng) * 3);
  const back = fromFloat16(toFloat16(values));
  for (let i = 0; i < values.length; i++) {
    assert.ok(Math.abs(back[i]! - values[i]!) <= Math.abs(values[i]!) * 2 ** -11 + 2 ** -25, `value ${i}`);
  }
});

Deno.test("quantizeInt8PerToken() uses one absmax scale per token and bounds the error by half a step", () => {
  const prng = createPrng(8);
  const tokens = 17, width = 64;
  const values = Float32Array.from({ length: tokens * width }, (_, i) => nextGaussian(prng) * (1 + (i % 5)));
  values.fill(0, 3 * width, 4 * width); // an all-zero token gets scale 0
  const q = quantizeInt8PerToken(values, tokens, width);
  assert.equal(q.scales[3], 0);
  const back = dequantizeInt8PerToken(q.data, q.scales, width);
  for (let t = 0; t < tokens; t++) {
    const row = values.subarray(t * width, (t + 1) * width);
    const absmax = Math.max(...row.map(Math.abs));
    assert.ok(Math.abs(q.scales[t]! - absmax / 127) <= 1e-6 * absmax, `scale of token ${t}`);
    const qrow = q.data.subarray(t * width, (t + 1) * width);
    if (absmax > 0) assert.equal(Math.max(...Array.from(qrow, Math.abs)), 127, `token ${t} uses the full range`);
    for (let j = 0; j < width; j++) {
      assert.ok(Math.abs(back[t * width + j]! - row[j]!) <= q.scales[t]! / 2 + 1e-7, `token ${t} dim ${j}`);
    }
  }
});

Deno.test("quantizeInt8PerToken() and dequantizeInt8PerToken() reject wrong sizes and non-finite input", () => {
  assert.throws(() => quantizeInt8PerToken(new Float32Array(5), 2, 3), /needs 6 values, got 5/);
  assert.throws(() => quantizeInt8PerToken(Float32Array.of(1, NaN), 1, 2), /value 1 is NaN/);
  assert.throws(() => dequantizeInt8PerToken(new Int8Array(5), new Float32Array(2), 3), /needs 6 values, got 5/);
});
