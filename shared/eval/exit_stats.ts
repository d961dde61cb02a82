/**
 * Per-exit quality of a multi-exit model: accuracy, mean confidence and expected calibration error (ECE).
 * @module
 */

import type { ExitMatrix } from "./matrix.ts";

/** Quality of one exit over the labelled samples. */
export interface ExitStat {
  /** 1-based exit (layer) number. */
  readonly exit: number;
  /** Fraction of labelled samples whose argmax equals the label. */
  readonly accuracy: number;
  /** Mean max-probability `C_k`. */
  readonly meanConfidence: number;
  /** Expected calibration error over `bins` equal-width confidence bins. */
  readonly ece: number;
  /** Fraction of samples with `C_k >= alpha` (when alpha was given), else NaN. */
  readonly confidentRate: number;
}

/** Accuracy, mean confidence and ECE of every exit, over samples with a label. */
export function exitStats(m: ExitMatrix, options: { bins?: number; alpha?: number } = {}): ExitStat[] {
  const bins = options.bins ?? 10;
  const alpha = options.alpha;
  const out: ExitStat[] = [];
  for (let k = 0; k < m.layers; k++) {
    const binCount = new Float64Array(bins), binConf = new Float64Array(bins), binCorrect = new Float64Array(bins);
    let n = 0, correct = 0, conf = 0, confident = 0;
    for (let i = 0; i < m.samples; i++) {
      const label = m.labels[i]!;
      if (label < 0) continue;
      const c = m.confidences[i * m.layers + k]!;
      const ok = m.predictions[i * m.layers + k] === label ? 1 : 0;
      const b = Math.min(bins - 1, Math.floor(c * bins));
      binCount[b]!++;
      binConf[b]! += c;
      binCorrect[b]! += ok;
      n++;
      correct += ok;
      conf += c;
      if (alpha !== undefined && c >= alpha) confident++;
    }
    let ece = 0;
    for (let b = 0; b < bins; b++) {
      if (binCount[b]! > 0) ece += Math.abs(binCorrect[b]! - binConf[b]!) / Math.max(1, n);
    }
    out.push({
      exit: k + 1,
      accuracy: n ? correct / n : NaN,
      meanConfidence: n ? conf / n : NaN,
      ece,
      confidentRate: alpha === undefined || !n ? NaN : confident / n,
    });
  }
  return out;
}

/** Markdown table of {@linkcode exitStats} (percentages with one decimal). */
export function formatExitStats(stats: readonly ExitStat[]): string {
  const pct = (x: number) => Number.isNaN(x) ? "-" : (100 * x).toFixed(1);
  const rows = stats.map((s) =>
    `| ${s.exit} | ${pct(s.accuracy)} | ${pct(s.meanConfidence)} | ${pct(s.ece)} | ${pct(s.confidentRate)} |`
  );
  return ["| exit | accuracy % | mean confidence % | ECE % | C >= alpha % |", "|---|---|---|---|---|", ...rows].join(
    "\n",
  );
}
