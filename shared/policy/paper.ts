/**
 * The official code's initialisation, for paper-mode replays.
 * @module
 */

import type { PolicyConfig } from "./config.ts";
import { planOutcome } from "./outcome.ts";
import { addOutcome, copySums, toState } from "./sums.ts";
import type { PolicyState } from "./types.ts";

/** Thrown when a paper warm-up gets fewer than L full rows. */
export class WarmUpError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "WarmUpError";
  }
}

/**
 * The official code's initial pulls: arm k is played once on row k (k = 1..L; rows are full `C_1..C_L`, normally
 * the first L samples of the shuffled stream). These pulls serve no prediction, do not advance `t`, and use no side
 * information; the main loop then starts again from the first sample.
 * @throws {WarmUpError} when fewer than L rows or a row without L confidences is given.
 */
export function paperWarmUp(
  state: PolicyState,
  config: PolicyConfig,
  rows: readonly ArrayLike<number>[],
): PolicyState {
  const L = config.layers;
  if (rows.length < L) throw new WarmUpError(`Paper warm-up needs ${L} samples, got ${rows.length}`);
  const sums = copySums(state, L, config.adaptiveCosts);
  for (let k = 1; k <= L; k++) {
    const row = rows[k - 1]!;
    if (row.length !== L) throw new WarmUpError(`Paper warm-up row ${k} has ${row.length} confidences, not ${L}`);
    const outcome = planOutcome(k, config.exitRule, row, row[L - 1], L, config.alpha)!;
    addOutcome(sums, k, outcome, config);
  }
  return toState(state.t, sums);
}
