/**
 * The body of `GET /v1/policy`: arm statistics (pulls, mean reward at the current costs, UCB index), the arm the
 * policy would choose now and the best arm by mean reward, the cost parameters and measurements, recent offload
 * rate, circuit breaker and store counters. JSON-safe (`null` for an arm never observed).
 * @module
 */

import type { Manifest } from "../shared/manifest.ts";
import type { Policy, PolicyState } from "../shared/policy/mod.ts";
import { roundSignificant } from "../shared/math.ts";
import { createPrng } from "../shared/prng.ts";
import type { BreakerSnapshot } from "./circuit_breaker.ts";
import type { CostMeter, CostSnapshot } from "./cost_meter.ts";
import type { PolicyStore, PolicyStoreStats } from "./policy_store.ts";
import type { RecentSummary, RecentWindow } from "./recent_window.ts";

/** Statistics of one arm (split layer). */
export interface ArmView {
  readonly arm: number;
  /**
   * Observations of this arm: the rounds that played it plus, for SplitEE-S, the side information of every round that
   * played a deeper arm (a round at split 6 also observes arms 1..5), so arm 1 gains one per round.
   */
  readonly pulls: number;
  /** Requests of the recent window (this instance) for which the policy chose this split layer: the real pulls. */
  readonly chosenRecently: number;
  readonly meanReward: number | null;
  readonly ucbIndex: number | null;
  /** Fraction of this arm's observations that offloaded (adaptive-cost policies only). */
  readonly offloadRate: number | null;
}

/** The `GET /v1/policy` body. */
export interface PolicyView {
  readonly modelId: string;
  readonly modelVersion: string;
  readonly policy: string;
  readonly variant: {
    readonly mode: string;
    readonly sideInfo: boolean;
    readonly exitRule: string;
    readonly adaptiveCosts: boolean;
  };
  readonly alpha: number;
  readonly beta: number;
  /** Updates learned, all instances together. */
  readonly t: number;
  readonly chosenArm: number;
  readonly chosenReason: string;
  readonly bestArm: number | null;
  readonly arms: readonly ArmView[];
  readonly costs: CostSnapshot;
  readonly recent: RecentSummary;
  readonly breaker: BreakerSnapshot;
  readonly store: PolicyStoreStats;
}

/** Sources of {@linkcode policyView}. */
export interface PolicyViewSources {
  readonly manifest: Pick<Manifest, "id" | "version">;
  readonly policy: Policy;
  readonly store: PolicyStore;
  readonly costs: CostMeter;
  readonly recent: RecentWindow;
  readonly breaker: () => BreakerSnapshot;
}

/** Builds the view from the current state (never advances the request PRNG). */
export function policyView(s: PolicyViewSources): PolicyView {
  const state = s.store.state();
  const costs = s.costs.costs();
  const decision = s.policy.decide(state, createPrng(0), costs);
  const config = s.policy.config;
  // Only the split layers this edge can play (1..maxArm: EDGE_MAX_SPLIT).
  const chosen = s.recent.splitCounts();
  const arms = state.counts.slice(0, config.maxArm).map((n, i): ArmView => ({
    arm: i + 1,
    pulls: n,
    chosenRecently: chosen.get(i + 1) ?? 0,
    meanReward: n > 0 ? roundSignificant(meanReward(state, i, config.adaptiveCosts, costs.lambda, costs.o)) : null,
    ucbIndex: finite(decision.scores[i]),
    offloadRate: n > 0 && state.offloads ? roundSignificant(state.offloads[i]! / n) : null,
  }));
  let bestArm: number | null = null;
  for (const a of arms) {
    if (a.meanReward !== null && (bestArm === null || a.meanReward > arms[bestArm - 1]!.meanReward!)) bestArm = a.arm;
  }
  return {
    modelId: s.manifest.id,
    modelVersion: s.manifest.version,
    policy: s.policy.name,
    variant: {
      mode: config.mode,
      sideInfo: config.sideInfo,
      exitRule: config.exitRule,
      adaptiveCosts: config.adaptiveCosts,
    },
    alpha: config.alpha,
    beta: config.beta,
    t: state.t,
    chosenArm: decision.arm,
    chosenReason: decision.reason,
    bestArm,
    arms,
    costs: tidy(s.costs.snapshot()),
    recent: tidy(s.recent.summary()),
    breaker: s.breaker(),
    store: s.store.stats(),
  };
}

function meanReward(state: PolicyState, i: number, adaptive: boolean, lambda: number, o: number): number {
  const n = state.counts[i]!;
  if (adaptive && state.confidenceSums && state.layerSums && state.offloads) {
    return (state.confidenceSums[i]! - lambda * state.layerSums[i]! - o * state.offloads[i]!) / n;
  }
  return state.rewardSums[i]! / n;
}

function finite(x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? roundSignificant(x) : null;
}

/** `value` with every number rounded to 12 significant digits (no float noise such as 0.30000000000000004). */
function tidy<T>(value: T): T {
  if (typeof value === "number") return roundSignificant(value) as T;
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, tidy(v)])) as T;
}
