/**
 * Offline evaluation of the policies on per-exit outputs (the paper's protocol), runtime-free: parse the JSONL,
 * {@linkcode evaluate}, then format a table or SVG plots. `scripts/eval.ts` is the CLI around it.
 * @module
 */

export * from "./matrix.ts";
export * from "./replay.ts";
export * from "./evaluate.ts";
export * from "./synthetic.ts";
export * from "./svg.ts";
export * from "./table.ts";
export * from "./sweep.ts";
