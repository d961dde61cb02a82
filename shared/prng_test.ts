import assert from "node:assert/strict";
import { createPrng, mixSeed, nextGaussian, restorePrng, shuffledIndices } from "./prng.ts";

const U32 = 4294967296;

Deno.test("restorePrng() reproduces the xoshiro128** reference outputs for state [1, 2, 3, 4]", () => {
  const prng = restorePrng({ s: [1, 2, 3, 4] });
  const outs = [0, 1, 2, 3].map(() => prng.next() * U32);
  assert.deepEqual(outs, [11520, 0, 5927040, 70819200]);
  assert.deepEqual(prng.state(), { s: [27274249, 25704967, 31982592, 12605441] });
});

Deno.test("createPrng() is deterministic per seed and its state() continues the sequence exactly", () => {
  const a = createPrng(42);
  const b = createPrng(42);
  const c = createPrng(43);
  const seqA = [a.next(), a.next(), a.next()];
  assert.deepEqual([b.next(), b.next(), b.next()], seqA);
  assert.notDeepEqual([c.next(), c.next(), c.next()], seqA);
  const saved = JSON.parse(JSON.stringify(a.state()));
  const resumed = restorePrng(saved);
  assert.deepEqual([resumed.next(), resumed.nextInt(1000)], [a.next(), a.nextInt(1000)]);
});

Deno.test("nextInt() stays in range and is roughly uniform", () => {
  const prng = createPrng(7);
  const hist = new Array(6).fill(0);
  for (let i = 0; i < 60000; i++) hist[prng.nextInt(6)]++;
  for (const h of hist) assert.ok(h > 9500 && h < 10500, `bucket ${h}`);
  assert.throws(() => prng.nextInt(0), /integer in \[1, 2\^32\]/);
  assert.throws(() => prng.nextInt(1.5), RangeError);
});

Deno.test("shuffledIndices() returns a seeded permutation", () => {
  const order = shuffledIndices(50, createPrng(1));
  assert.deepEqual([...order].sort((x, y) => x - y), Array.from({ length: 50 }, (_, i) => i));
  assert.deepEqual(shuffledIndices(50, createPrng(1)), order);
  assert.notDeepEqual(shuffledIndices(50, createPrng(2)), order);
  assert.notDeepEqual([...order], Array.from({ length: 50 }, (_, i) => i));
});

Deno.test("mixSeed() separates its parts and rejects non-integers", () => {
  assert.notEqual(mixSeed(1, 2), mixSeed(2, 1));
  assert.notEqual(mixSeed(1, 0), mixSeed(1));
  assert.equal(mixSeed(5, 9), mixSeed(5, 9));
  assert.throws(() => mixSeed(0.5), /safe integers/);
  assert.throws(() => createPrng(Number.NaN), /safe integer/);
});

Deno.test("restorePrng() rejects malformed and all-zero states", () => {
  assert.throws(() => restorePrng({ s: [0, 0, 0, 0] }), /all zero/);
  assert.throws(() => restorePrng({ s: [1, 2, 3] } as never), /four uint32/);
  assert.throws(() => restorePrng({ s: [1, 2, 3, -1] }), /four uint32/);
});

Deno.test("nextGaussian() has mean ~0 and variance ~1", () => {
  const prng = createPrng(3);
  let sum = 0, sq = 0;
  const n = 20000;
  for (let i = 0; i < n; i++) {
    const g = nextGaussian(prng);
    sum += g;
    sq += g * g;
  }
  assert.ok(Math.abs(sum / n) < 0.03, `mean ${sum / n}`);
  assert.ok(Math.abs(sq / n - 1) < 0.05, `variance ${sq / n}`);
});
