/**
 * Policy configuration: validated once into an immutable, fully typed object.
 * @module
 */

import type { ExitRule } from "./types.ts";

/** Replay semantics: `"observed"` learns only from what a deployment sees; `"paper"` reproduces the official code. */
export type PolicyMode = "observed" | "paper";

/** Options accepted by {@linkcode resolveConfig}. */
export interface PolicyOptions {
  /** Number of layers L; the arms are the split layers 1..L (1..`maxArm` when that is set). */
  readonly layers: number;
  /**
   * The deepest split layer K the device may play (an edge that holds only layers 1..K). Arms are 1..K; when K < L,
   * arm K is an ordinary split (exit when confident, else offload): nothing runs layers past K on the device.
   * @default layers
   */
  readonly maxArm?: number;
  /** Confidence threshold alpha in [0, 1]: exit on the device when `C_i >= alpha`. */
  readonly alpha: number;
  /**
   * Device cost per layer.
   * @default {0.1}
   */
  readonly lambda?: number;
  /**
   * Offloading cost.
   * @default {0.5}
   */
  readonly o?: number;
  /**
   * UCB exploration weight: index `mean + beta * sqrt(ln(t + 1) / N)`.
   * @default {1}
   */
  readonly beta?: number;
  /**
   * `"observed"`: side updates only from observed values; `"paper"`: the official code (C_L read from the matrix,
   * init pulls on the first L samples; see docs/policy.md).
   * @default {"observed"}
   */
  readonly mode?: PolicyMode;
  /**
   * SplitEE-S: also update every shallower arm from the same sample.
   * @default {false}
   */
  readonly sideInfo?: boolean;
  /**
   * How the device treats exits up to the split layer.
   * @default {"split"}
   */
  readonly exitRule?: ExitRule;
  /**
   * Keep per-arm confidence, layer and offload sums and score arms with the current costs (adapts at once when o
   * or lambda change).
   * @default {false}
   */
  readonly adaptiveCosts?: boolean;
}

/** A validated, frozen configuration. */
export type PolicyConfig = Readonly<Required<PolicyOptions>>;

/** Thrown by {@linkcode resolveConfig}; `problems` lists every invalid field. */
export class PolicyConfigError extends Error {
  /** One sentence per invalid field. */
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid policy config: ${problems.join("; ")}`);
    this.name = "PolicyConfigError";
    this.problems = problems;
  }
}

const MODES: readonly string[] = ["observed", "paper"];
const RULES: readonly string[] = ["split", "first-confident", "never"];

/**
 * Validates options and returns a frozen config with every default filled in.
 * @throws {PolicyConfigError} listing every invalid field at once.
 */
export function resolveConfig(options: PolicyOptions): PolicyConfig {
  const problems: string[] = [];
  const o = options as unknown as Record<string, unknown>;
  const num = (key: string, fallback: number | undefined, ok: (v: number) => boolean, what: string): number => {
    const v = o[key] ?? fallback;
    if (typeof v !== "number" || !Number.isFinite(v) || !ok(v)) {
      problems.push(`${key} must be ${what} (got ${describe(v)})`);
      return NaN;
    }
    return v;
  };
  const layers = num("layers", undefined, (v) => Number.isInteger(v) && v >= 1, "an integer >= 1");
  const maxArm = num(
    "maxArm",
    Number.isFinite(layers) ? layers : 1,
    (v) => Number.isInteger(v) && v >= 1 && !(v > layers),
    `an integer in 1..layers (${Number.isFinite(layers) ? layers : "L"})`,
  );
  const alpha = num("alpha", undefined, (v) => v >= 0 && v <= 1, "a number in [0, 1]");
  const lambda = num("lambda", 0.1, (v) => v >= 0, "a finite number >= 0");
  const offload = num("o", 0.5, (v) => v >= 0, "a finite number >= 0");
  const beta = num("beta", 1, (v) => v >= 0, "a finite number >= 0");
  const mode = o.mode ?? "observed";
  if (typeof mode !== "string" || !MODES.includes(mode)) {
    problems.push(`mode must be "observed" or "paper" (got ${describe(mode)})`);
  }
  const exitRule = o.exitRule ?? "split";
  if (typeof exitRule !== "string" || !RULES.includes(exitRule)) {
    problems.push(`exitRule must be "split", "first-confident" or "never" (got ${describe(exitRule)})`);
  }
  const sideInfo = o.sideInfo ?? false;
  if (typeof sideInfo !== "boolean") problems.push(`sideInfo must be a boolean (got ${describe(sideInfo)})`);
  const adaptiveCosts = o.adaptiveCosts ?? false;
  if (typeof adaptiveCosts !== "boolean") {
    problems.push(`adaptiveCosts must be a boolean (got ${describe(adaptiveCosts)})`);
  }
  if (mode === "paper" && maxArm < layers) {
    problems.push(`paper mode replays every arm 1..L, so maxArm must equal layers (got ${maxArm} < ${layers})`);
  }
  if (problems.length > 0) throw new PolicyConfigError(problems);
  return Object.freeze({
    layers,
    maxArm,
    alpha,
    lambda,
    o: offload,
    beta,
    mode: mode as PolicyMode,
    sideInfo: sideInfo as boolean,
    exitRule: exitRule as ExitRule,
    adaptiveCosts: adaptiveCosts as boolean,
  });
}

function describe(v: unknown): string {
  if (typeof v === "string") return JSON.stringify(v);
  if (v === undefined) return "nothing";
  return String(v);
}
