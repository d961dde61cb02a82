/**
 * The UCB maths as standalone pure functions.
 * @module
 */

/**
 * UCB1 index of one arm: `mean + beta * sqrt(ln(round) / count)`; `Infinity` for an arm with no observations.
 * @param round the current round number t + 1 (the official code's `trial + 1`), >= 1.
 */
export function ucbIndex(mean: number, count: number, round: number, beta: number): number {
  if (count <= 0) return Infinity;
  return mean + beta * Math.sqrt(Math.log(round) / count);
}

/** Index of the first largest score (strict `>`, so ties go to the shallower arm, as in the official code). */
export function firstMax(scores: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < scores.length; i++) if (scores[i]! > scores[best]!) best = i;
  return best;
}
