/**
 * One shuffled run of one policy over an exit matrix: the paper's protocol, sample by sample.
 * @module
 */

import type { Prng } from "../prng.ts";
import { outcomeCost, outcomeReward, planOutcome } from "../policy/outcome.ts";
import { observeRow } from "../policy/observe.ts";
import type { Policy } from "../policy/policy.ts";
import type { PolicyState } from "../policy/types.ts";
import { confidenceRow, type ExitMatrix } from "./matrix.ts";

/** Inputs of {@linkcode replayRun}. */
export interface RunInput {
  readonly matrix: ExitMatrix;
  /** Stream order: sample indices. */
  readonly order: Uint32Array;
  readonly policy: Policy;
  readonly lambda: number;
  /** Offloading cost per stream position (length n), or one constant. */
  readonly o: number | Float64Array;
  /** Passed to `decide`. */
  readonly prng: Prng;
  /** Best fixed arm (split rule) in expected reward: the regret comparator. */
  readonly bestArm: number;
  /** Regret is tracked for the first `horizon` samples. */
  readonly horizon: number;
}

/** Totals of one run. */
export interface RunStats {
  /** Correct predictions among labelled samples, and the number of labelled samples. */
  readonly correct: number;
  readonly labelled: number;
  /** Sum of per-sample costs (`lambda * layers + o` when offloaded). */
  readonly cost: number;
  readonly offloads: number;
  /** Sum of realised rewards. */
  readonly reward: number;
  /** Decisions per arm (index arm - 1). */
  readonly arms: Float64Array;
  /** Served exit per layer (index layer - 1) for device exits; index L counts offloaded samples. */
  readonly exits: Float64Array;
  /** Cumulative regret after t + 1 samples, t < min(horizon, n). */
  readonly regret: Float64Array;
  /** The policy's state after the run. */
  readonly state: PolicyState;
}

/**
 * Replays the stream through the policy. Paper-mode policies first warm up on the first L samples of the stream
 * (no prediction), then the main loop serves every sample. Each decision is applied to the sample's full row, the
 * policy learns only from what `observeRow` says a deployment observes (the full row in paper mode), and the
 * regret of sample t is `r_t(bestArm) - r_t(played)` with the sample's costs.
 * With a per-position `o` (measured cost mode) the observation carries the sample's `o` and `decide` gets the
 * previous sample's `o` as the current estimate.
 */
export function replayRun(input: RunInput): RunStats {
  const { matrix, order, policy, lambda, prng, bestArm } = input;
  const n = order.length, L = matrix.layers;
  const horizon = Math.min(input.horizon, n);
  const alpha = policy.config.alpha;
  const oArr = typeof input.o === "number" ? undefined : input.o;
  const oConst = typeof input.o === "number" ? input.o : 0;
  const arms = new Float64Array(L), exits = new Float64Array(L + 1), regret = new Float64Array(horizon);
  let correct = 0, labelled = 0, cost = 0, offloads = 0, reward = 0, cumRegret = 0;

  const warm = Array.from({ length: policy.warmUpSamples }, (_, k) => confidenceRow(matrix, order[k]!));
  let state = policy.warmUp(policy.initialState(), warm);
  for (let t = 0; t < n; t++) {
    const idx = order[t]!;
    const row = confidenceRow(matrix, idx);
    const o = oArr ? oArr[t]! : oConst;
    const costs = { lambda, o };
    const decision = oArr
      ? policy.decide(state, prng, { lambda, o: oArr[t > 0 ? t - 1 : 0]! })
      : policy.decide(state, prng);
    const { outcome, observation } = observeRow(decision, row, policy.config, oArr ? costs : undefined);
    state = policy.update(state, observation);

    const r = outcomeReward(outcome, costs);
    reward += r;
    cost += outcomeCost(outcome, costs);
    arms[decision.arm - 1]!++;
    if (outcome.offloaded) {
      offloads++;
      exits[L]!++;
    } else {
      exits[outcome.exitLayer - 1]!++;
    }
    const label = matrix.labels[idx]!;
    if (label >= 0) {
      labelled++;
      if (matrix.predictions[idx * L + outcome.exitLayer - 1] === label) correct++;
    }
    if (t < horizon) {
      const best = planOutcome(bestArm, "split", row, row[L - 1], L, alpha)!;
      cumRegret += outcomeReward(best, costs) - r;
      regret[t] = cumRegret;
    }
  }
  return { correct, labelled, cost, offloads, reward, arms, exits, regret, state };
}

/**
 * Mean reward of every fixed arm (split rule, full information) over the stream: the hindsight the oracle and the
 * regret comparator use. `o` is a constant or one value per stream position (then `order` maps positions to
 * samples).
 */
export function fixedArmMeans(
  matrix: ExitMatrix,
  alpha: number,
  lambda: number,
  o: number | Float64Array,
  order?: Uint32Array,
): number[] {
  const n = matrix.samples, L = matrix.layers;
  const sums = new Float64Array(L);
  for (let t = 0; t < n; t++) {
    const idx = order ? order[t]! : t;
    const row = confidenceRow(matrix, idx);
    const costs = { lambda, o: typeof o === "number" ? o : o[t]! };
    for (let k = 1; k <= L; k++) {
      sums[k - 1]! += outcomeReward(planOutcome(k, "split", row, row[L - 1], L, alpha)!, costs);
    }
  }
  return Array.from(sums, (s) => s / n);
}
