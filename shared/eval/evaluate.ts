/**
 * The paper's offline evaluation: every policy, every o, mean over seeded shuffled runs.
 * @module
 */

import { createPrng, mixSeed, shuffledIndices } from "../prng.ts";
import { createPolicy, DEFAULT_POLICIES } from "../policy/registry.ts";
import { firstMax } from "../policy/ucb.ts";
import type { ExitMatrix } from "./matrix.ts";
import { fixedArmMeans, replayRun } from "./replay.ts";

/** Options of {@linkcode evaluate}. */
export interface EvalOptions {
  /** Confidence threshold. */
  readonly alpha: number;
  /**
   * Device cost per layer.
   * @default {0.1}
   */
  readonly lambda?: number;
  /**
   * Offloading costs to evaluate, one result per policy and value.
   * @default {[0.5]}
   */
  readonly os?: readonly number[];
  /**
   * Instead of `os`: o changes over the stream, piecewise constant in equal segments (e.g. `[0.1, 0.6]`: the first
   * half of every run at 0.1, the second at 0.6). Policies see it as measured costs.
   */
  readonly oSchedule?: readonly number[];
  /**
   * Shuffled runs averaged.
   * @default {20}
   */
  readonly runs?: number;
  /**
   * Seed of the shuffles (run r uses `mixSeed(seed, r)`; every policy and o sees the same orders).
   * @default {1}
   */
  readonly seed?: number;
  /**
   * Registered policy names.
   * @default {DEFAULT_POLICIES}
   */
  readonly policies?: readonly string[];
  /**
   * Samples over which the cumulative regret is reported.
   * @default {2000}
   */
  readonly horizon?: number;
  /**
   * UCB exploration weight.
   * @default {1}
   */
  readonly beta?: number;
  /** Called after every run of every o value. */
  readonly onProgress?: (progress: { done: number; total: number; o: number | null; run: number }) => void;
}

/** Mean results of one policy at one o. Shares and rates are fractions in [0, 1]. */
export interface EvalResult {
  readonly policy: string;
  /** The offloading cost, or null with `oSchedule`. */
  readonly o: number | null;
  readonly oSchedule?: readonly number[];
  readonly alpha: number;
  readonly lambda: number;
  readonly runs: number;
  readonly samples: number;
  /** Accuracy against the labels (null when no sample has one). */
  readonly accuracy: number | null;
  /** Mean cost per sample: `lambda * layers` (+ o when offloaded). */
  readonly cost: number;
  /** `1 - cost / (lambda * L)`, the reduction versus final-exit inference (null when lambda = 0). */
  readonly costReduction: number | null;
  readonly offloadRate: number;
  /** Mean realised reward per sample. */
  readonly meanReward: number;
  /** Mean cumulative regret after `regretAt` samples against the best fixed arm in expected reward. */
  readonly regret2000: number;
  /** min(horizon, samples). */
  readonly regretAt: number;
  /** Share of decisions per arm, keys "1".."L". */
  readonly arms: Readonly<Record<string, number>>;
  /** Share of samples served by each device exit ("1".."L") or the cloud ("cloud"). */
  readonly exits: Readonly<Record<string, number>>;
  /** Best fixed arm in expected reward (the oracle's arm and the regret comparator). */
  readonly bestFixedArm: number;
  /** The paper's reported arm: argmax of the summed rewards, averaged over runs (arms never observed excluded). */
  readonly reportedArm: number;
  /** Mean cumulative regret after t = 1..regretAt samples (for plots). */
  readonly regretCurve: Float64Array;
}

/**
 * Evaluates every policy at every o over `runs` seeded shuffles of the matrix.
 * @throws {UnknownPolicyError} / {PolicyConfigError} for a bad policy name or option, before any work.
 */
export function evaluate(matrix: ExitMatrix, options: EvalOptions): EvalResult[] {
  const lambda = options.lambda ?? 0.1;
  const runs = options.runs ?? 20;
  const seed = options.seed ?? 1;
  const horizon = options.horizon ?? 2000;
  const names = options.policies ?? DEFAULT_POLICIES;
  const schedule = options.oSchedule;
  const os: readonly (number | null)[] = schedule ? [null] : options.os ?? [0.5];
  const n = matrix.samples, L = matrix.layers;
  if (!Number.isInteger(runs) || runs < 1) throw new RangeError(`runs must be an integer >= 1 (got ${runs})`);
  if (schedule && (schedule.length === 0 || !schedule.every((v) => Number.isFinite(v) && v >= 0))) {
    throw new RangeError("oSchedule must hold finite numbers >= 0");
  }
  const base = { layers: L, alpha: options.alpha, lambda, beta: options.beta ?? 1 };
  const probe = createPrng(0);
  for (const name of names) {
    const policy = createPolicy(name, { ...base, o: schedule?.[0] ?? os[0] ?? 0.5 }, {
      prng: probe,
      hindsightMeans: new Array(L).fill(0),
    });
    if (policy.warmUpSamples > n) {
      throw new RangeError(`${name} needs at least ${policy.warmUpSamples} samples for its warm-up (got ${n})`);
    }
  }

  const oOfPosition = schedule
    ? Float64Array.from(
      { length: n },
      (_, t) => schedule[Math.min(schedule.length - 1, Math.floor((t * schedule.length) / n))]!,
    )
    : undefined;
  const orders = Array.from({ length: runs }, (_, r) => shuffledIndices(n, createPrng(mixSeed(seed, r))));
  const regretAt = Math.min(horizon, n);
  const results: EvalResult[] = [];
  let done = 0;
  for (const oValue of os) {
    const o = oOfPosition ?? (oValue as number);
    const constantMeans = oOfPosition ? undefined : fixedArmMeans(matrix, options.alpha, lambda, o);
    const acc = names.map(() => newAccumulator(L, regretAt));
    for (let r = 0; r < runs; r++) {
      const order = orders[r]!;
      const means = constantMeans ?? fixedArmMeans(matrix, options.alpha, lambda, o, order);
      const bestArm = firstMax(means) + 1;
      names.forEach((name, p) => {
        const policyPrng = createPrng(mixSeed(seed, r, 1));
        const policy = createPolicy(name, { ...base, o: oOfPosition ? oOfPosition[0]! : (o as number) }, {
          prng: policyPrng,
          hindsightMeans: means,
        });
        const stats = replayRun({ matrix, order, policy, lambda, o, prng: policyPrng, bestArm, horizon });
        const a = acc[p]!;
        a.correct += stats.correct / Math.max(1, stats.labelled);
        a.labelled += stats.labelled;
        a.cost += stats.cost / n;
        a.offloads += stats.offloads / n;
        a.reward += stats.reward / n;
        a.bestArms[bestArm - 1]!++;
        for (let k = 0; k < L; k++) {
          a.arms[k]! += stats.arms[k]! / n;
          a.sums[k]! += stats.state.rewardSums[k]!;
          a.counts[k]! += stats.state.counts[k]!;
        }
        for (let k = 0; k <= L; k++) a.exits[k]! += stats.exits[k]! / n;
        for (let t = 0; t < regretAt; t++) a.regret[t]! += stats.regret[t]!;
      });
      done++;
      options.onProgress?.({ done, total: os.length * runs, o: oValue, run: r + 1 });
    }
    names.forEach((name, p) => {
      const a = acc[p]!;
      const cost = a.cost / runs;
      const curve = a.regret.map((v) => v / runs);
      const observed = [...a.sums].map((s, k) => (a.counts[k]! > 0 ? s : -Infinity));
      results.push({
        policy: name,
        o: oValue,
        ...(schedule ? { oSchedule: [...schedule] } : {}),
        alpha: options.alpha,
        lambda,
        runs,
        samples: n,
        accuracy: a.labelled > 0 ? a.correct / runs : null,
        cost,
        costReduction: lambda > 0 ? 1 - cost / (lambda * L) : null,
        offloadRate: a.offloads / runs,
        meanReward: a.reward / runs,
        regret2000: regretAt > 0 ? curve[regretAt - 1]! : 0,
        regretAt,
        arms: histogram(a.arms, runs, L),
        exits: { ...histogram(a.exits.subarray(0, L), runs, L), cloud: a.exits[L]! / runs },
        bestFixedArm: firstMax(a.bestArms) + 1,
        reportedArm: firstMax(observed) + 1,
        regretCurve: curve,
      });
    });
  }
  return results;
}

interface Accumulator {
  correct: number;
  labelled: number;
  cost: number;
  offloads: number;
  reward: number;
  arms: Float64Array;
  exits: Float64Array;
  sums: Float64Array;
  counts: Float64Array;
  bestArms: Float64Array;
  regret: Float64Array;
}

function newAccumulator(L: number, regretAt: number): Accumulator {
  return {
    correct: 0,
    labelled: 0,
    cost: 0,
    offloads: 0,
    reward: 0,
    arms: new Float64Array(L),
    exits: new Float64Array(L + 1),
    sums: new Float64Array(L),
    counts: new Float64Array(L),
    bestArms: new Float64Array(L),
    regret: new Float64Array(regretAt),
  };
}

function histogram(values: Float64Array, runs: number, L: number): Record<string, number> {
  const out: Record<string, number> = {};
  for (let k = 0; k < L; k++) out[String(k + 1)] = values[k]! / runs;
  return out;
}
