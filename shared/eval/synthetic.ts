/**
 * A seeded synthetic multi-exit stream for tests, benchmarks and policy comparisons before real exits exist.
 * Each sample has a latent evidence `e ~ N(mu, sigma)` for its label; exit k sees the margin
 * `e * g_k + noise_k` with a gain `g_k` growing with depth and noise shrinking with depth, so deeper exits are more
 * accurate and more confident, and confidence is informative about correctness (as in a fine-tuned multi-exit
 * model). Other classes share the remaining probability.
 * @module
 */

import { argmax, softmax } from "../math.ts";
import { createPrng, nextGaussian } from "../prng.ts";
import type { ExitMatrix } from "./matrix.ts";

/** Options of {@linkcode syntheticExits}. */
export interface SyntheticOptions {
  /** Number of samples. */
  readonly samples: number;
  /**
   * Exits L.
   * @default {12}
   */
  readonly layers?: number;
  /**
   * Classes C.
   * @default {2}
   */
  readonly classes?: number;
  /**
   * Seed.
   * @default {1}
   */
  readonly seed?: number;
  /**
   * Mean latent evidence (higher: easier stream).
   * @default {1.2}
   */
  readonly difficulty?: number;
}

/** Generates the stream (labels known for every sample). */
export function syntheticExits(options: SyntheticOptions): ExitMatrix {
  const n = options.samples, L = options.layers ?? 12, C = options.classes ?? 2;
  if (!Number.isInteger(n) || n < 1) throw new RangeError(`samples must be an integer >= 1 (got ${n})`);
  if (!Number.isInteger(L) || L < 1) throw new RangeError(`layers must be an integer >= 1 (got ${L})`);
  if (!Number.isInteger(C) || C < 2) throw new RangeError(`classes must be an integer >= 2 (got ${C})`);
  const prng = createPrng(options.seed ?? 1);
  const mu = options.difficulty ?? 1.2;
  const confidences = new Float64Array(n * L), predictions = new Int32Array(n * L), labels = new Int32Array(n);
  const logits = new Float64Array(C);
  for (let i = 0; i < n; i++) {
    const y = prng.nextInt(C);
    labels[i] = y;
    const e = mu + 1.3 * nextGaussian(prng);
    // The wrong class the evidence points to when it is negative.
    const rival = (y + 1 + prng.nextInt(C - 1)) % C;
    let walk = 0;
    for (let k = 1; k <= L; k++) {
      const depth = k / L;
      walk = 0.6 * walk + 0.4 * nextGaussian(prng);
      const margin = e * 3 * (1 - Math.exp(-(k - 0.6) / 2.2)) + 1.2 * (1 - 0.8 * depth) * walk;
      for (let c = 0; c < C; c++) logits[c] = 0.3 * nextGaussian(prng);
      logits[y] = logits[y]! + Math.max(margin, 0);
      logits[rival] = logits[rival]! + Math.max(-margin, 0);
      const p = softmax(logits);
      const best = argmax(p);
      confidences[i * L + k - 1] = p[best]!;
      predictions[i * L + k - 1] = best;
    }
  }
  return { samples: n, layers: L, classes: C, confidences, predictions, labels };
}
