/**
 * The common interface every policy (SplitEE variants and baselines) implements, so the edge and the offline
 * replay drive them the same way: `decide` -> act -> `update`.
 * @module
 */

import type { PolicyConfig } from "./config.ts";
import { paperWarmUp } from "./paper.ts";
import type { Prng } from "../prng.ts";
import { decide, update } from "./splitee.ts";
import { emptyState } from "./state.ts";
import type { Costs, Decision, ExitRule, Observation, PolicyState } from "./types.ts";

/** Inputs a factory may need besides the config. */
export interface PolicyContext {
  /** Randomness (the random baseline draws its arm from it once, at creation). */
  readonly prng: Prng;
  /** Mean reward of every fixed arm (split rule) over the whole stream; required by `oracle` only. */
  readonly hindsightMeans?: readonly number[];
}

/** A policy bound to its config. All methods are pure with respect to the state they are given. */
export interface Policy {
  /** Registry name, e.g. `"splitee-s"` or `"fixed-3"`. */
  readonly name: string;
  /** The resolved config it runs with (the registry sets mode, side information and exit rule from the name). */
  readonly config: PolicyConfig;
  /** Samples `warmUp` consumes before the main loop: L in paper mode, else 0. */
  readonly warmUpSamples: number;
  /** A fresh state. */
  initialState(): PolicyState;
  /** The plan for the next sample. */
  decide(state: PolicyState, prng: Prng, costs?: Partial<Costs>): Decision;
  /** Learns from what the deployment observed; returns a new state. */
  update(state: PolicyState, observation: Observation): PolicyState;
  /** Paper mode: the official initial pulls on `warmUpSamples` full rows; identity otherwise. */
  warmUp(state: PolicyState, rows: readonly ArrayLike<number>[]): PolicyState;
}

/** A SplitEE-family policy: UCB over split layers with the config's variant switches. */
export function ucbPolicy(name: string, config: PolicyConfig): Policy {
  const paper = config.mode === "paper";
  return {
    name,
    config,
    warmUpSamples: paper ? config.layers : 0,
    initialState: () => emptyState(config),
    decide: (state, prng, costs) => decide(state, config, prng, costs),
    update: (state, observation) => update(state, config, observation),
    warmUp: (state, rows) => (paper ? paperWarmUp(state, config, rows) : state),
  };
}

/**
 * A baseline that always plays `arm` with `exitRule`. It still records the played arm's rewards in its state
 * (no side information), so its decisions can be logged like the bandit's.
 */
export function fixedArmPolicy(name: string, config: PolicyConfig, arm: number, exitRule: ExitRule): Policy {
  if (!Number.isInteger(arm) || arm < 1 || arm > config.maxArm) {
    throw new RangeError(`Fixed arm ${arm} is outside 1..${config.maxArm}`);
  }
  const own: PolicyConfig = Object.freeze({ ...config, mode: "observed", sideInfo: false, exitRule });
  const decision: Decision = Object.freeze({ arm, exitRule, scores: Object.freeze([]), reason: "fixed" });
  return {
    name,
    config: own,
    warmUpSamples: 0,
    initialState: () => emptyState(own),
    decide: () => decision,
    update: (state, observation) => update(state, own, observation),
    warmUp: (state) => state,
  };
}
