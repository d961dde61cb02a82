/**
 * Per-exit outputs as a compact matrix, and the strict parser for the per-exit JSONL that `deno task exits` writes:
 * one line per sample, `{"label": <int|null>, "probs": [[p_1..p_C] for exit 1..L]}`.
 * @module
 */

import { argmax } from "../math.ts";

/** Per-exit confidences and predictions of n samples, row-major (`[sample * layers + (exit - 1)]`). */
export interface ExitMatrix {
  /** Number of samples n. */
  readonly samples: number;
  /** Number of exits L. */
  readonly layers: number;
  /** Number of classes C. */
  readonly classes: number;
  /** `C_k` = max probability of exit k, n * L values. */
  readonly confidences: Float64Array;
  /** Predicted class (argmax) of exit k, n * L values. */
  readonly predictions: Int32Array;
  /** Label per sample; -1 when unknown (`"label": null`). */
  readonly labels: Int32Array;
}

/** A problem in the JSONL input, naming the 1-based line. */
export class ExitsFormatError extends Error {
  /** 1-based line number (0 for a problem with the whole input). */
  readonly line: number;
  constructor(line: number, message: string) {
    super(line > 0 ? `line ${line}: ${message}` : message);
    this.name = "ExitsFormatError";
    this.line = line;
  }
}

/** Tolerance on `|sum(p) - 1|` per exit. */
export const PROB_SUM_TOLERANCE = 1e-3;

/** Accumulates JSONL lines into an {@linkcode ExitMatrix} without keeping the text. */
export class ExitMatrixBuilder {
  #layers = 0;
  #classes = 0;
  #n = 0;
  #firstLine = 0;
  #confidences = new Float64Array(0);
  #predictions = new Int32Array(0);
  #labels = new Int32Array(0);

  /** Samples added so far. */
  get samples(): number {
    return this.#n;
  }

  /**
   * Parses and adds one line; blank lines are ignored.
   * @throws {ExitsFormatError} naming the line for malformed JSON, a bad label, inconsistent exit or class counts,
   * probabilities outside [0, 1] or not summing to ~1.
   */
  addLine(text: string, line: number): void {
    if (text.trim() === "") return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      throw new ExitsFormatError(line, `malformed JSON (${(e as Error).message})`);
    }
    if (typeof value !== "object" || value === null || Array.isArray(value) || !("probs" in value)) {
      throw new ExitsFormatError(line, 'expected an object {"label": int|null, "probs": [[...], ...]}');
    }
    const { label, probs } = value as { label?: unknown; probs: unknown };
    if (!Array.isArray(probs) || probs.length === 0) {
      throw new ExitsFormatError(line, '"probs" must be a non-empty array with one probability array per exit');
    }
    if (this.#n === 0) {
      const first = probs[0];
      if (!Array.isArray(first) || first.length < 2) {
        throw new ExitsFormatError(line, "exit 1 must be an array of at least 2 class probabilities");
      }
      this.#layers = probs.length;
      this.#classes = first.length;
      this.#firstLine = line;
    } else if (probs.length !== this.#layers) {
      throw new ExitsFormatError(line, `${probs.length} exits, but line ${this.#firstLine} has ${this.#layers}`);
    }
    if (label === undefined) throw new ExitsFormatError(line, '"label" is missing (use null for an unlabelled sample)');
    if (label !== null && (!Number.isInteger(label) || (label as number) < 0 || (label as number) >= this.#classes)) {
      throw new ExitsFormatError(
        line,
        `"label" must be null or an integer in 0..${this.#classes - 1} (got ${JSON.stringify(label)})`,
      );
    }
    this.#grow();
    const base = this.#n * this.#layers;
    for (let k = 0; k < this.#layers; k++) {
      const p = probs[k];
      if (!Array.isArray(p) || p.length !== this.#classes) {
        throw new ExitsFormatError(
          line,
          `exit ${k + 1} has ${Array.isArray(p) ? p.length : "no"} class probabilities, expected ${this.#classes}`,
        );
      }
      let sum = 0;
      for (let c = 0; c < p.length; c++) {
        const v = p[c];
        if (typeof v !== "number" || !(v >= 0 && v <= 1)) {
          throw new ExitsFormatError(
            line,
            `exit ${k + 1} probability ${c} is ${JSON.stringify(v)} (must be in [0, 1])`,
          );
        }
        sum += v;
      }
      if (Math.abs(sum - 1) > PROB_SUM_TOLERANCE) {
        throw new ExitsFormatError(
          line,
          `exit ${k + 1} probabilities sum to ${sum} (expected 1 ± ${PROB_SUM_TOLERANCE})`,
        );
      }
      const best = argmax(p);
      this.#confidences[base + k] = p[best];
      this.#predictions[base + k] = best;
    }
    this.#labels[this.#n] = label === null ? -1 : (label as number);
    this.#n++;
  }

  /**
   * The matrix of every sample added.
   * @throws {ExitsFormatError} when no sample was added.
   */
  finish(): ExitMatrix {
    if (this.#n === 0) throw new ExitsFormatError(0, "no samples: the input has no non-blank line");
    const n = this.#n, L = this.#layers;
    return {
      samples: n,
      layers: L,
      classes: this.#classes,
      confidences: this.#confidences.slice(0, n * L),
      predictions: this.#predictions.slice(0, n * L),
      labels: this.#labels.slice(0, n),
    };
  }

  #grow(): void {
    if (this.#n < this.#labels.length) return;
    const cap = Math.max(1024, this.#labels.length * 2);
    const conf = new Float64Array(cap * this.#layers);
    conf.set(this.#confidences);
    const pred = new Int32Array(cap * this.#layers);
    pred.set(this.#predictions);
    const labels = new Int32Array(cap);
    labels.set(this.#labels);
    this.#confidences = conf;
    this.#predictions = pred;
    this.#labels = labels;
  }
}

/** Parses a whole JSONL text (small inputs and tests; the CLI streams lines into the builder). */
export function parseExitsJsonl(text: string): ExitMatrix {
  const builder = new ExitMatrixBuilder();
  text.split("\n").forEach((line, i) => builder.addLine(line, i + 1));
  return builder.finish();
}

/** The full confidence row `C_1..C_L` of sample `i` (a view, no copy). */
export function confidenceRow(matrix: ExitMatrix, i: number): Float64Array {
  return matrix.confidences.subarray(i * matrix.layers, (i + 1) * matrix.layers);
}
