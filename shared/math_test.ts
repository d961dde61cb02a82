import assert from "node:assert/strict";
import { argmax, confidence, softmax } from "./math.ts";

Deno.test("softmax() matches the closed form and sums to 1", () => {
  const p = softmax([0, Math.log(3)]);
  assert.ok(Math.abs(p[0]! - 0.25) < 1e-15 && Math.abs(p[1]! - 0.75) < 1e-15, `${p}`);
  const q = softmax([1, 2, 3]);
  assert.ok(Math.abs(q.reduce((a, b) => a + b, 0) - 1) < 1e-15);
  assert.ok(Math.abs(q[2]! - Math.exp(3) / (Math.exp(1) + Math.exp(2) + Math.exp(3))) < 1e-15);
});

Deno.test("softmax() is stable for huge logits", () => {
  const p = softmax([1000, 1000 + Math.log(3)]);
  assert.ok(Math.abs(p[1]! - 0.75) < 1e-12, `${p}`);
  const q = softmax([-1e308, 0]);
  assert.deepEqual([...q], [0, 1]);
  assert.throws(() => softmax([]), RangeError);
});

Deno.test("argmax() returns the first maximum and confidence() its value", () => {
  assert.equal(argmax([0.2, 0.5, 0.5, 0.1]), 1);
  assert.equal(argmax(new Float32Array([3, -1, 7])), 2);
  assert.equal(confidence([0.3, 0.7]), 0.7);
  assert.throws(() => argmax([]), RangeError);
});
