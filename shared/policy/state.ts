/**
 * Plain policy state: creation, validation, and the delta arithmetic that lets several instances (edge isolates
 * persisting to Deno KV) share one state. Every field is a sum or a count, so
 * `mergeDelta(global, diffState(lastSynced, local))` adds exactly what this instance learned since it last synced.
 * @module
 */

import type { PolicyConfig } from "./config.ts";
import type { PolicyState } from "./types.ts";

/** Thrown when a state or delta has the wrong shape. */
export class StateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "StateError";
  }
}

const EXTRA_KEYS = ["confidenceSums", "layerSums", "offloads"] as const;

/** A state with no observations for `config.layers` arms (with the adaptive-cost sums when configured). */
export function emptyState(config: Pick<PolicyConfig, "layers" | "adaptiveCosts">): PolicyState {
  const zeros = () => new Array<number>(config.layers).fill(0);
  const base = { t: 0, counts: zeros(), rewardSums: zeros() };
  if (!config.adaptiveCosts) return base;
  return { ...base, confidenceSums: zeros(), layerSums: zeros(), offloads: zeros() };
}

/**
 * Checks that an untrusted value (e.g. read back from storage) is a state for `layers` arms.
 * @throws {StateError} naming the first field that is wrong.
 */
export function parseState(value: unknown, config: Pick<PolicyConfig, "layers" | "adaptiveCosts">): PolicyState {
  if (typeof value !== "object" || value === null) throw new StateError("Policy state must be an object");
  const v = value as Record<string, unknown>;
  if (typeof v.t !== "number" || !Number.isFinite(v.t) || v.t < 0) {
    throw new StateError(`Policy state t must be a finite number >= 0 (got ${String(v.t)})`);
  }
  const keys = ["counts", "rewardSums", ...(config.adaptiveCosts ? EXTRA_KEYS : [])];
  const out: Record<string, unknown> = { t: v.t };
  for (const key of keys) {
    const arr = v[key];
    if (!Array.isArray(arr) || arr.length !== config.layers || !arr.every((x) => Number.isFinite(x))) {
      throw new StateError(`Policy state ${key} must be ${config.layers} finite numbers`);
    }
    out[key] = [...arr];
  }
  return out as unknown as PolicyState;
}

/** `after - before`, field by field: what an instance learned between two states. */
export function diffState(before: PolicyState, after: PolicyState): PolicyState {
  return combine(after, before, -1);
}

/** `state + delta`, field by field: applies what another instance learned. */
export function mergeDelta(state: PolicyState, delta: PolicyState): PolicyState {
  return combine(state, delta, 1);
}

function combine(a: PolicyState, b: PolicyState, sign: 1 | -1): PolicyState {
  const n = a.counts.length;
  const add = (key: string, x: readonly number[] | undefined, y: readonly number[] | undefined): number[] => {
    if (x === undefined || y === undefined || x.length !== n || y.length !== n) {
      throw new StateError(`Cannot combine policy states: ${key} differ in shape`);
    }
    return x.map((v, i) => v + sign * y[i]!);
  };
  const out: Record<string, unknown> = {
    t: a.t + sign * b.t,
    counts: add("counts", a.counts, b.counts),
    rewardSums: add("rewardSums", a.rewardSums, b.rewardSums),
  };
  for (const key of EXTRA_KEYS) {
    if (a[key] === undefined && b[key] === undefined) continue;
    out[key] = add(key, a[key], b[key]);
  }
  return out as unknown as PolicyState;
}

/** Mean observed reward per arm (`NaN` for an arm without observations). */
export function meanRewards(state: PolicyState): number[] {
  return state.counts.map((n, i) => (n > 0 ? state.rewardSums[i]! / n : NaN));
}

/** The paper's reported arm: argmax of the summed rewards (first on ties), 1-based. */
export function reportedArm(state: PolicyState): number {
  let best = 0;
  for (let i = 1; i < state.rewardSums.length; i++) {
    if (state.rewardSums[i]! > state.rewardSums[best]!) best = i;
  }
  return best + 1;
}
