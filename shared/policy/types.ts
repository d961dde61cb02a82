/**
 * Plain data types of the policy core: decisions, observations, outcomes and state. Every value here is JSON
 * serialisable (arrays are indexed by `arm - 1`).
 * @module
 */

/**
 * How the device treats exits up to the split layer `arm`:
 * - `"split"`: SplitEE. Only exit `arm` is checked: exit there when `C_arm >= alpha`, else offload (arm L: always
 *   finish on the device).
 * - `"first-confident"`: exit at the first layer `j <= arm` with `C_j >= alpha`; if none, offload after `arm`
 *   (arm L: finish on the device).
 * - `"never"`: never exit before L; offload after `arm` (arm L: finish on the device).
 */
export type ExitRule = "split" | "first-confident" | "never";

/** Per-sample costs: `lambda` per device layer, `o` per offload. */
export interface Costs {
  readonly lambda: number;
  readonly o: number;
}

/** What the policy asks the device to do with the next sample. */
export interface Decision {
  /** Split layer (the bandit arm), 1..L. */
  readonly arm: number;
  /** How exits before and at `arm` are treated. */
  readonly exitRule: ExitRule;
  /**
   * Why this arm: the UCB index of every arm (`scores[arm - 1]`; `Infinity` for an arm never observed, which
   * `JSON.stringify` writes as `null`). Empty for fixed-arm baselines.
   */
  readonly scores: readonly number[];
  /** `"init"`: an arm without observations; `"ucb"`: the largest index; `"fixed"`: a baseline's arm. */
  readonly reason: "init" | "ucb" | "fixed";
}

/** What a deployment saw for one sample after acting on a {@linkcode Decision}. */
export interface Observation {
  /** The arm that was played (`Decision.arm`). */
  readonly arm: number;
  /**
   * Confidences `C_1..C_m` of the exits the device computed (m = layers run on the device). In paper mode the full
   * row `C_1..C_L` read from the replay matrix.
   */
  readonly confidences: ArrayLike<number>;
  /** `C_L`, only when it was observed: the sample was offloaded (or ran to L, where it is also `confidences[L-1]`). */
  readonly finalConfidence?: number;
  /** Per-layer device cost measured for this sample (measured cost mode); defaults to the config's `lambda`. */
  readonly lambda?: number;
  /** Offloading cost measured for this sample (measured cost mode); defaults to the config's `o`. */
  readonly o?: number;
}

/** The result of a plan on one sample. */
export interface Outcome {
  /** The confidence the reward is built from: `C_j` for an exit on the device, `C_L` when offloaded or at L. */
  readonly confidence: number;
  /** Layers computed on the device (the cost is `lambda * layers`). */
  readonly layers: number;
  /** Whether the hidden state was sent to the cloud (cost `o`). */
  readonly offloaded: boolean;
  /** The exit whose prediction is served: `j` for a device exit, `L` when offloaded or finished on the device. */
  readonly exitLayer: number;
}

/**
 * Learning state, mabwiser style: plain per-arm sums, index `arm - 1`. Sums and counts only, so the states of
 * several instances merge by adding deltas (see `diffState` / `mergeDelta`).
 */
export interface PolicyState {
  /** Updates applied (rounds); the UCB bonus uses `ln(t + 1)`. Paper-mode warm-up pulls do not count. */
  readonly t: number;
  /** Observed rewards per arm (direct pulls plus side information). */
  readonly counts: readonly number[];
  /** Sum of those rewards per arm, with the costs that applied to each observation. */
  readonly rewardSums: readonly number[];
  /** Adaptive-cost policies only: sum of the outcome confidences per arm. */
  readonly confidenceSums?: readonly number[];
  /** Adaptive-cost policies only: sum of device layers per arm. */
  readonly layerSums?: readonly number[];
  /** Adaptive-cost policies only: number of offloaded outcomes per arm. */
  readonly offloads?: readonly number[];
}
