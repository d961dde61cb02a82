/**
 * Offline replay helper: what a deployment would have observed when playing a decision on a sample whose full
 * confidence row is known.
 * @module
 */

import type { PolicyConfig } from "./config.ts";
import { planOutcome } from "./outcome.ts";
import type { Decision, Observation, Outcome } from "./types.ts";

/** A full confidence row `C_1..C_L`. */
export type ConfidenceRow = Float64Array | readonly number[];

/**
 * Plays `decision` on `row` (full information) and returns the outcome and the observation a deployment would get:
 * `C_1..C_m` for the m layers the device ran, plus `finalConfidence` when the sample was offloaded. In paper mode
 * the observation is the whole row, as the official code reads it.
 * @throws {RangeError} when the row does not hold L confidences.
 */
export function observeRow(
  decision: Pick<Decision, "arm" | "exitRule">,
  row: ConfidenceRow,
  config: Pick<PolicyConfig, "layers" | "alpha" | "mode">,
  costs?: { readonly lambda?: number; readonly o?: number },
): { outcome: Outcome; observation: Observation } {
  const L = config.layers;
  if (row.length !== L) throw new RangeError(`A confidence row needs ${L} values, got ${row.length}`);
  const outcome = planOutcome(decision.arm, decision.exitRule, row, row[L - 1], L, config.alpha)!;
  const full = config.mode === "paper";
  const confidences = full
    ? row
    : row instanceof Float64Array
    ? row.subarray(0, outcome.layers)
    : row.slice(0, outcome.layers);
  let observation: Observation = { arm: decision.arm, confidences };
  if (outcome.offloaded && !full) observation = { ...observation, finalConfidence: row[L - 1]! };
  if (costs?.lambda !== undefined) observation = { ...observation, lambda: costs.lambda };
  if (costs?.o !== undefined) observation = { ...observation, o: costs.o };
  return { outcome, observation };
}
