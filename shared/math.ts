/**
 * Small numeric helpers shared by the edge, the gateway and the offline evaluation.
 * @module
 */

/**
 * Numerically stable softmax: subtracts the maximum logit before exponentiating, so large logits do not overflow.
 * @throws {RangeError} when `logits` is empty.
 */
export function softmax(logits: ArrayLike<number>): Float64Array {
  const n = logits.length;
  if (n === 0) throw new RangeError("softmax needs at least one logit");
  let max = -Infinity;
  for (let i = 0; i < n; i++) max = Math.max(max, logits[i]!);
  const out = new Float64Array(n);
  let sum = 0;
  for (let i = 0; i < n; i++) {
    const e = Math.exp(logits[i]! - max);
    out[i] = e;
    sum += e;
  }
  for (let i = 0; i < n; i++) out[i] = out[i]! / sum;
  return out;
}

/**
 * Index of the largest value; the first one on ties (as numpy's `argmax`).
 * @throws {RangeError} when `values` is empty.
 */
export function argmax(values: ArrayLike<number>): number {
  const n = values.length;
  if (n === 0) throw new RangeError("argmax needs at least one value");
  let best = 0;
  let bestValue = values[0]!;
  for (let i = 1; i < n; i++) {
    const v = values[i]!;
    if (v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  return best;
}

/**
 * Confidence of an exit: the maximum class probability.
 * @throws {RangeError} when `probs` is empty.
 */
export function confidence(probs: ArrayLike<number>): number {
  return probs[argmax(probs)]!;
}

/**
 * `x` rounded to `digits` significant digits (default 12): drops binary floating-point noise such as
 * `0.1 * 12 = 1.2000000000000002` from figures made of decimal parameters, and keeps every digit that means
 * something. Non-finite values and 0 pass through.
 */
export function roundSignificant(x: number, digits = 12): number {
  return Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(digits)) : x;
}

/** Milliseconds rounded to the microsecond (3 decimals). */
export function roundMs(ms: number): number {
  return Number.isFinite(ms) ? Math.round(ms * 1000) / 1000 : ms;
}
