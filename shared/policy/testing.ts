/**
 * Test helpers for the policy core (imported by `*_test.ts` only).
 * @module
 */

import assert from "node:assert/strict";
import type { Prng } from "../prng.ts";
import { observeRow } from "./observe.ts";
import type { Policy } from "./policy.ts";
import type { Decision, PolicyState } from "./types.ts";

/** Asserts `|actual - expected| <= tol`. */
export function assertClose(actual: number | undefined, expected: number, tol = 1e-9, what = ""): void {
  assert.ok(
    actual !== undefined && Math.abs(actual - expected) <= tol,
    `${what} expected ${expected} got ${actual}`,
  );
}

/** Asserts two arrays are element-wise close. */
export function assertAllClose(actual: readonly number[], expected: readonly number[], tol = 1e-9, what = ""): void {
  assert.equal(actual.length, expected.length, `${what} length`);
  expected.forEach((e, i) => {
    if (e === Infinity) assert.equal(actual[i], Infinity, `${what}[${i}]`);
    else assertClose(actual[i], e, tol, `${what}[${i}]`);
  });
}

/**
 * The tiny 3-layer stream of the hand-computed sequences (alpha 0.7, lambda 0.1, o 0.5): one row `C_1..C_3` per
 * sample.
 */
export const TINY: readonly (readonly number[])[] = [
  [0.90, 0.95, 0.99],
  [0.60, 0.80, 0.90],
  [0.55, 0.65, 0.70],
  [0.80, 0.85, 0.95],
  [0.50, 0.75, 0.85],
  [0.65, 0.72, 0.92],
];

/** One replayed step. */
export interface Step {
  readonly decision: Decision;
  readonly state: PolicyState;
}

/** Replays `rows` through a policy (paper warm-up included) and returns every decision and the state after it. */
export function replayRows(policy: Policy, rows: readonly (readonly number[])[], prng: Prng): Step[] {
  let state = policy.warmUp(policy.initialState(), rows.slice(0, policy.warmUpSamples));
  const steps: Step[] = [];
  for (const row of rows) {
    const decision = policy.decide(state, prng);
    state = policy.update(state, observeRow(decision, row, policy.config).observation);
    steps.push({ decision, state });
  }
  return steps;
}
