/**
 * Internal: copy-on-write accumulation of outcomes into a state (shared by update and the paper warm-up).
 * @module
 */

import { outcomeReward } from "./outcome.ts";
import { StateError } from "./state.ts";
import type { Costs, Outcome, PolicyState } from "./types.ts";

/** Mutable copies of a state's arrays. */
export interface Sums {
  counts: number[];
  rewardSums: number[];
  confidenceSums: number[] | undefined;
  layerSums: number[] | undefined;
  offloads: number[] | undefined;
}

/** Copies the arrays of `state` (and checks the adaptive sums exist when `adaptive`). */
export function copySums(state: PolicyState, layers: number, adaptive: boolean): Sums {
  if (state.counts.length !== layers || state.rewardSums.length !== layers) {
    throw new StateError(`Policy state has ${state.counts.length} arms but the config has ${layers} layers`);
  }
  if (adaptive && (!state.confidenceSums || !state.layerSums || !state.offloads)) {
    throw new StateError("An adaptive-cost policy needs confidenceSums, layerSums and offloads in its state");
  }
  return {
    counts: state.counts.slice(),
    rewardSums: state.rewardSums.slice(),
    confidenceSums: adaptive ? state.confidenceSums!.slice() : undefined,
    layerSums: adaptive ? state.layerSums!.slice() : undefined,
    offloads: adaptive ? state.offloads!.slice() : undefined,
  };
}

/** Adds one outcome of arm `arm` (1-based). */
export function addOutcome(sums: Sums, arm: number, outcome: Outcome, costs: Costs): void {
  const i = arm - 1;
  sums.counts[i]! += 1;
  sums.rewardSums[i]! += outcomeReward(outcome, costs);
  if (sums.confidenceSums) {
    sums.confidenceSums[i]! += outcome.confidence;
    sums.layerSums![i]! += outcome.layers;
    if (outcome.offloaded) sums.offloads![i]! += 1;
  }
}

/** Builds the new state from accumulated sums. */
export function toState(t: number, sums: Sums): PolicyState {
  const base = { t, counts: sums.counts, rewardSums: sums.rewardSums };
  if (!sums.confidenceSums) return base;
  return { ...base, confidenceSums: sums.confidenceSums, layerSums: sums.layerSums!, offloads: sums.offloads! };
}
