/**
 * SplitEE and SplitEE-S as two pure functions: `decide` (UCB over split layers) and `update` (learn from one
 * observation without mutating the input state). Variants are selected by the config: `sideInfo` (SplitEE-S),
 * `mode` (`"observed"` or `"paper"`), `exitRule`, `adaptiveCosts`.
 * @module
 */

import type { PolicyConfig } from "./config.ts";
import { checkObservation } from "./observation.ts";
import { planOutcome } from "./outcome.ts";
import type { Prng } from "../prng.ts";
import { addOutcome, copySums, toState } from "./sums.ts";
import type { Costs, Decision, Observation, PolicyState } from "./types.ts";
import { firstMax, ucbIndex } from "./ucb.ts";

/**
 * Picks the split layer for the next sample.
 * - Only arms 1..`maxArm` (default L) are played.
 * - An arm without observations is played first (`reason: "init"`): the shallowest such arm, except SplitEE-S in
 *   observed mode, which plays the deepest (arm L reveals `C_1..C_L`, so one sample initialises every arm).
 * - Otherwise the arm with the largest `mean + beta * sqrt(ln(t + 1) / N)`, ties to the shallower arm.
 * With `adaptiveCosts` the mean is `(sum C - lambda * sum layers - o * offloads) / N` at the current costs.
 * @param _prng unused: UCB is deterministic (kept so every policy has the same signature).
 * @param costs current cost estimates (measured cost mode); only `adaptiveCosts` policies use them.
 */
export function decide(state: PolicyState, config: PolicyConfig, _prng: Prng, costs?: Partial<Costs>): Decision {
  const K = config.maxArm;
  const { counts } = state;
  const deepestFirst = config.sideInfo && config.mode === "observed";
  let init = -1;
  for (let i = 0; i < K; i++) {
    if (!(counts[i]! > 0)) {
      init = i;
      if (!deepestFirst) break;
    }
  }
  const round = state.t + 1;
  const lambda = costs?.lambda ?? config.lambda;
  const o = costs?.o ?? config.o;
  const scores = new Array<number>(K);
  for (let i = 0; i < K; i++) {
    const n = counts[i]!;
    let mean = NaN;
    if (n > 0) {
      mean = config.adaptiveCosts
        ? (state.confidenceSums![i]! - lambda * state.layerSums![i]! - o * state.offloads![i]!) / n
        : state.rewardSums[i]! / n;
    }
    scores[i] = ucbIndex(mean, n, round, config.beta);
  }
  if (init >= 0) return { arm: init + 1, exitRule: config.exitRule, scores, reason: "init" };
  return { arm: firstMax(scores) + 1, exitRule: config.exitRule, scores, reason: "ucb" };
}

/**
 * Learns from one observation and returns a new state (the input is not mutated); `t` always advances.
 * - The played arm is updated with its reward (skipped only if the observation cannot determine it, e.g. an
 *   offload whose `finalConfidence` never arrived).
 * - SplitEE-S (`sideInfo`) also updates every shallower arm j < arm whose reward the observation determines. In
 *   observed mode an arm j that would have offloaded (`C_j < alpha`) needs `C_L`; when `C_L` was not observed (the
 *   played arm exited on the device) arm j is skipped: no count, no reward. In paper mode `C_L` is read from the
 *   full row, as the official code does.
 * - Rewards use the observation's `lambda` / `o` when given (measured cost mode), else the config's.
 * @throws {ObservationError} for an observation inconsistent with the config.
 */
export function update(state: PolicyState, config: PolicyConfig, obs: Observation): PolicyState {
  checkObservation(obs, config);
  const L = config.layers;
  const conf = obs.confidences;
  const cL = config.mode === "paper" ? conf[L - 1] : obs.finalConfidence;
  const costs: Costs = { lambda: obs.lambda ?? config.lambda, o: obs.o ?? config.o };
  const sums = copySums(state, L, config.adaptiveCosts);
  for (let k = config.sideInfo ? 1 : obs.arm; k <= obs.arm; k++) {
    const outcome = planOutcome(k, config.exitRule, conf, cL, L, config.alpha);
    if (outcome) addOutcome(sums, k, outcome, costs);
  }
  return toState(state.t + 1, sums);
}
