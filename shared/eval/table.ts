/**
 * A readable fixed-width table of evaluation results.
 * @module
 */

import type { EvalResult } from "./evaluate.ts";

/** Percent with 2 decimals; float noise around zero prints as 0.00, not -0.00. */
const pct = (v: number | null) => (v === null ? "-" : (Math.abs(v) < 5e-5 ? 0 : 100 * v).toFixed(2));

/** The most chosen arm and its share, e.g. `3 (71%)`. */
export function topArm(arms: Readonly<Record<string, number>>): string {
  let best = "";
  let share = -1;
  for (const [arm, v] of Object.entries(arms)) {
    if (v > share) [best, share] = [arm, v];
  }
  return `${best} (${Math.round(100 * share)}%)`;
}

/** Renders results as an aligned text table, one row per (o, policy). */
export function formatTable(results: readonly EvalResult[]): string {
  const head = ["policy", "o", "acc %", "cost", "cost red %", "offload %", "reward", "regret", "top arm"];
  const rows = results.map((r) => [
    r.policy,
    r.o === null ? (r.oSchedule ?? []).join(">") : String(r.o),
    pct(r.accuracy),
    r.cost.toFixed(3),
    pct(r.costReduction),
    pct(r.offloadRate),
    r.meanReward.toFixed(4),
    r.regret2000.toFixed(1),
    topArm(r.arms),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join("  ").trimEnd();
  const first = results[0];
  const caption = first
    ? `alpha ${first.alpha}, lambda ${first.lambda}, ${first.runs} runs, ${first.samples} samples; ` +
      `regret at ${first.regretAt} samples vs best fixed arm\n`
    : "";
  return caption + [line(head), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n") + "\n";
}

/** The JSON record of one result (everything except the regret curve), key order as documented. */
export function resultRecord(r: EvalResult): Record<string, unknown> {
  const { regretCurve: _curve, policy, o, oSchedule, accuracy, cost, costReduction, offloadRate, regret2000, ...rest } =
    r;
  return {
    policy,
    o,
    ...(oSchedule ? { oSchedule } : {}),
    accuracy,
    cost,
    costReduction,
    offloadRate,
    regret2000,
    ...rest,
  };
}
