/**
 * SplitEE policy core: pure, runtime-free, randomness injected. Start with {@linkcode createPolicy} (registry) or
 * the pure functions {@linkcode decide} / {@linkcode update}; see docs/policy.md.
 * @module
 */

export * from "./types.ts";
export * from "./config.ts";
export * from "./outcome.ts";
export * from "./observe.ts";
export * from "./observation.ts";
export * from "./state.ts";
export * from "./ucb.ts";
export * from "./splitee.ts";
export * from "./paper.ts";
export * from "./policy.ts";
export * from "./registry.ts";
