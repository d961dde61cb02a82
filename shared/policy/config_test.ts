import assert from "node:assert/strict";
import { PolicyConfigError, resolveConfig } from "./config.ts";

Deno.test("resolveConfig() fills the documented defaults and freezes the result", () => {
  const c = resolveConfig({ layers: 12, alpha: 0.7 });
  assert.deepEqual(c, {
    layers: 12,
    maxArm: 12,
    alpha: 0.7,
    lambda: 0.1,
    o: 0.5,
    beta: 1,
    mode: "observed",
    sideInfo: false,
    exitRule: "split",
    adaptiveCosts: false,
  });
  assert.ok(Object.isFrozen(c));
});

Deno.test("resolveConfig() reports every invalid field at once", () => {
  const bad = { layers: 0, alpha: 1.5, lambda: -1, o: Infinity, beta: "x", mode: "live", sideInfo: 1, exitRule: "x" };
  try {
    resolveConfig(bad as never);
    assert.fail("expected PolicyConfigError");
  } catch (e) {
    assert.ok(e instanceof PolicyConfigError);
    assert.deepEqual(e.problems, [
      "layers must be an integer >= 1 (got 0)",
      "alpha must be a number in [0, 1] (got 1.5)",
      "lambda must be a finite number >= 0 (got -1)",
      "o must be a finite number >= 0 (got Infinity)",
      'beta must be a finite number >= 0 (got "x")',
      'mode must be "observed" or "paper" (got "live")',
      'exitRule must be "split", "first-confident" or "never" (got "x")',
      "sideInfo must be a boolean (got 1)",
    ]);
    assert.match(e.message, /^Invalid policy config: layers must be/);
  }
  assert.throws(() => resolveConfig({ alpha: 0.7 } as never), /layers must be an integer >= 1 \(got nothing\)/);
});
