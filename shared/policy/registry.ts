/**
 * Policy names -> factories. Names: `splitee`, `splitee-s`, `splitee-paper`, `splitee-s-paper`, `final`,
 * `offload-all`, `random`, `fixed-<i>`, `oracle`, `early-exit`, and the improved `splitee-s-early`,
 * `splitee-s-adaptive` and `splitee-s-early-adaptive` (see docs/policy.md).
 * @module
 */

import { type PolicyConfig, PolicyConfigError, type PolicyOptions, resolveConfig } from "./config.ts";
import { firstMax } from "./ucb.ts";
import { fixedArmPolicy, type Policy, type PolicyContext, ucbPolicy } from "./policy.ts";

/** Thrown by {@linkcode createPolicy} for a name that is not registered. */
export class UnknownPolicyError extends Error {
  constructor(name: string, layers: number) {
    super(`Unknown policy "${name}"; known: ${[...POLICY_NAMES, `fixed-1..fixed-${layers}`].join(", ")}`);
    this.name = "UnknownPolicyError";
  }
}

type Factory = (options: PolicyOptions, context: PolicyContext) => Policy;

const ucb = (name: string, variant: Partial<PolicyOptions>): Factory => (options) =>
  ucbPolicy(name, resolveConfig({ ...options, ...variant }));

const FACTORIES: Readonly<Record<string, Factory>> = {
  "splitee": ucb("splitee", { mode: "observed", sideInfo: false, exitRule: "split", adaptiveCosts: false }),
  "splitee-s": ucb("splitee-s", { mode: "observed", sideInfo: true, exitRule: "split", adaptiveCosts: false }),
  "splitee-paper": ucb("splitee-paper", { mode: "paper", sideInfo: false, exitRule: "split", adaptiveCosts: false }),
  "splitee-s-paper": ucb("splitee-s-paper", {
    mode: "paper",
    sideInfo: true,
    exitRule: "split",
    adaptiveCosts: false,
  }),
  "splitee-s-early": ucb("splitee-s-early", {
    mode: "observed",
    sideInfo: true,
    exitRule: "first-confident",
    adaptiveCosts: false,
  }),
  "splitee-s-adaptive": ucb("splitee-s-adaptive", {
    mode: "observed",
    sideInfo: true,
    exitRule: "split",
    adaptiveCosts: true,
  }),
  "splitee-s-early-adaptive": ucb("splitee-s-early-adaptive", {
    mode: "observed",
    sideInfo: true,
    exitRule: "first-confident",
    adaptiveCosts: true,
  }),
  // With a device that holds only layers 1..K < L, "final" runs 1..K and offloads every sample (final-layer answers).
  "final": (options) => {
    const config = resolveConfig(options);
    return config.maxArm < config.layers
      ? fixedArmPolicy("final", config, config.maxArm, "never")
      : fixedArmPolicy("final", config, config.layers, "split");
  },
  "offload-all": (options) => fixedArmPolicy("offload-all", resolveConfig(options), 1, "never"),
  "random": (options, context) => {
    const config = resolveConfig(options);
    return fixedArmPolicy("random", config, 1 + context.prng.nextInt(config.maxArm), "split");
  },
  "oracle": (options, context) => {
    const config = resolveConfig(options);
    const means = context.hindsightMeans;
    if (!means || means.length !== config.layers || !means.every(Number.isFinite)) {
      throw new PolicyConfigError([`oracle needs hindsightMeans: ${config.layers} finite mean rewards`]);
    }
    if (config.maxArm < config.layers) {
      throw new PolicyConfigError(["oracle replays the whole model (maxArm = layers)"]);
    }
    return fixedArmPolicy("oracle", config, firstMax(means) + 1, "split");
  },
  "early-exit": (options) => {
    const config = resolveConfig(options);
    return fixedArmPolicy("early-exit", config, config.maxArm, "first-confident");
  },
};

/** Every registered name except the `fixed-<i>` family. */
export const POLICY_NAMES: readonly string[] = Object.freeze(Object.keys(FACTORIES));

/** The policies the evaluation runs when none are named (all but `fixed-<i>`). */
export const DEFAULT_POLICIES: readonly string[] = POLICY_NAMES;

/** Whether `name` is a registered policy for a model with `layers` layers. */
export function isPolicyName(name: string, layers: number): boolean {
  return Object.hasOwn(FACTORIES, name) || fixedArm(name, layers) !== undefined;
}

function fixedArm(name: string, layers: number): number | undefined {
  const m = /^fixed-([1-9][0-9]*)$/.exec(name);
  if (!m) return undefined;
  const arm = Number(m[1]);
  return arm <= layers ? arm : undefined;
}

/**
 * Creates the policy registered under `name`. The name fixes the variant (mode, side information, exit rule,
 * adaptive costs); `options` supplies layers, alpha, lambda, o and beta.
 * @throws {UnknownPolicyError} for an unknown name; {@linkcode PolicyConfigError} for invalid options.
 */
export function createPolicy(name: string, options: PolicyOptions | PolicyConfig, context: PolicyContext): Policy {
  const factory = Object.hasOwn(FACTORIES, name) ? FACTORIES[name] : undefined;
  if (factory) return factory(options, context);
  const config = resolveConfig(options);
  const arm = fixedArm(name, config.maxArm);
  if (arm === undefined) throw new UnknownPolicyError(name, config.maxArm);
  return fixedArmPolicy(name, config, arm, "split");
}
