/**
 * The paper's reward model as pure functions: what a plan (split layer + exit rule) does on one sample, what it
 * earns, and what the device should do after each exit.
 * @module
 */

import type { PolicyConfig } from "./config.ts";
import type { Costs, Decision, ExitRule, Outcome } from "./types.ts";

/**
 * The outcome of playing `arm` with `rule` on a sample of which `C_1..C_m` (m = `confidences.length`) and maybe
 * `C_L` are known. Returns `undefined` when the known values do not determine it (a needed `C_j` was not computed,
 * or the plan offloads and `C_L` is unknown). With the full row `C_1..C_L` it is always defined.
 * @param finalConfidence `C_L` if observed; otherwise taken from `confidences[L-1]` when `m = L`.
 */
export function planOutcome(
  arm: number,
  rule: ExitRule,
  confidences: ArrayLike<number>,
  finalConfidence: number | undefined,
  layers: number,
  alpha: number,
): Outcome | undefined {
  const m = confidences.length;
  if (rule === "first-confident") {
    const last = arm < layers ? arm : layers - 1;
    for (let j = 1; j <= last; j++) {
      if (j > m) return undefined;
      const c = confidences[j - 1]!;
      if (c >= alpha) return { confidence: c, layers: j, offloaded: false, exitLayer: j };
    }
  } else if (rule === "split" && arm < layers) {
    if (arm > m) return undefined;
    const c = confidences[arm - 1]!;
    if (c >= alpha) return { confidence: c, layers: arm, offloaded: false, exitLayer: arm };
  }
  const cL = finalConfidence ?? (m >= layers ? confidences[layers - 1] : undefined);
  if (cL === undefined) return undefined;
  if (arm >= layers) return { confidence: cL, layers, offloaded: false, exitLayer: layers };
  return { confidence: cL, layers: arm, offloaded: true, exitLayer: layers };
}

/**
 * The paper's reward: exit `C_i - lambda*i`; offload `C_L - o - lambda*i`; arm L `C_L - lambda*L`
 * (in general `confidence - lambda*layers - o*[offloaded]`).
 */
export function outcomeReward(outcome: Outcome, costs: Costs): number {
  const r = outcome.confidence - costs.lambda * outcome.layers;
  return outcome.offloaded ? r - costs.o : r;
}

/** The cost the evaluation charges: `lambda * layers` plus `o` when offloaded. */
export function outcomeCost(outcome: Outcome, costs: Costs): number {
  return costs.lambda * outcome.layers + (outcome.offloaded ? costs.o : 0);
}

/** What the device does right after computing exit `layer` with confidence `C`. */
export type Action = "continue" | "exit" | "offload";

/**
 * The step-by-step form of {@linkcode planOutcome} for a running device: call after each exit `layer` (1-based).
 * `"exit"` serves this exit's prediction (always at L), `"offload"` sends the hidden state to the cloud.
 * @throws {RangeError} when `layer` is past the decision's split layer or outside 1..L.
 */
export function nextAction(
  decision: Pick<Decision, "arm" | "exitRule">,
  layer: number,
  confidence: number,
  config: Pick<PolicyConfig, "layers" | "alpha">,
): Action {
  if (!Number.isInteger(layer) || layer < 1 || layer > decision.arm || layer > config.layers) {
    throw new RangeError(`layer ${layer} is outside 1..${Math.min(decision.arm, config.layers)}`);
  }
  if (layer === config.layers) return "exit";
  const confident = confidence >= config.alpha;
  switch (decision.exitRule) {
    case "split":
      if (layer < decision.arm) return "continue";
      return confident ? "exit" : "offload";
    case "first-confident":
      if (confident) return "exit";
      return layer < decision.arm ? "continue" : "offload";
    case "never":
      return layer < decision.arm ? "continue" : "offload";
  }
}
