/**
 * Dependency-free SVG line charts, and the three evaluation plots: accuracy vs o, cost vs o, cumulative regret
 * vs t.
 * @module
 */

import type { EvalResult } from "./evaluate.ts";

/** One line of a chart. */
export interface Series {
  readonly name: string;
  readonly points: readonly (readonly [number, number])[];
}

/** A line chart. */
export interface ChartSpec {
  readonly title: string;
  readonly xLabel: string;
  readonly yLabel: string;
  readonly series: readonly Series[];
  /**
   * Width in px.
   * @default {a 560 px plot plus margins and legend}
   */
  readonly width?: number;
  /**
   * Height in px.
   * @default {460}
   */
  readonly height?: number;
}

const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2ca02c",
  "#ff7f0e",
  "#9467bd",
  "#8c564b",
  "#e377c2",
  "#7f7f7f",
  "#bcbd22",
  "#17becf",
  "#000000",
  "#aec7e8",
];

/** Escapes text for SVG content and attributes. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** About `count` round tick values covering [min, max] (steps of 1, 2 or 5 times a power of ten). */
export function niceTicks(min: number, max: number, count = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / count;
  const pow = Math.pow(10, Math.floor(Math.log10(raw)));
  const step = [1, 2, 5, 10].map((m) => m * pow).find((s) => s >= raw) ?? 10 * pow;
  const ticks: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

/** Renders a line chart as a standalone SVG document. */
export function lineChart(spec: ChartSpec): string {
  const longest = Math.max(0, ...spec.series.map((s) => s.name.length));
  const m = { left: 70, right: Math.max(120, Math.ceil(50 + 7 * longest)), top: 40, bottom: 55 };
  const width = spec.width ?? 560 + m.left + m.right, height = spec.height ?? 460;
  const pw = width - m.left - m.right, ph = height - m.top - m.bottom;
  const all = spec.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const xs = all.map((p) => p[0]), ys = all.map((p) => p[1]);
  let [x0, x1] = [Math.min(...xs, Infinity), Math.max(...xs, -Infinity)];
  let [y0, y1] = [Math.min(...ys, Infinity), Math.max(...ys, -Infinity)];
  if (!Number.isFinite(x0)) [x0, x1, y0, y1] = [0, 1, 0, 1];
  if (x1 === x0) [x0, x1] = [x0 - 0.5, x1 + 0.5];
  if (y1 === y0) [y0, y1] = [y0 - 0.5, y1 + 0.5];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const sx = (x: number) => m.left + ((x - x0) / (x1 - x0)) * pw;
  const sy = (y: number) => m.top + ph - ((y - y0) / (y1 - y0)) * ph;
  const f = (v: number) => v.toFixed(1);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    `font-family="sans-serif" font-size="12">`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text x="${width / 2}" y="22" text-anchor="middle" font-size="15">${escapeXml(spec.title)}</text>`,
  ];
  for (const t of niceTicks(x0, x1)) {
    out.push(`<line x1="${f(sx(t))}" y1="${m.top}" x2="${f(sx(t))}" y2="${m.top + ph}" stroke="#eeeeee"/>`);
    out.push(`<text x="${f(sx(t))}" y="${m.top + ph + 16}" text-anchor="middle">${t}</text>`);
  }
  for (const t of niceTicks(y0, y1)) {
    out.push(`<line x1="${m.left}" y1="${f(sy(t))}" x2="${m.left + pw}" y2="${f(sy(t))}" stroke="#eeeeee"/>`);
    out.push(`<text x="${m.left - 6}" y="${f(sy(t) + 4)}" text-anchor="end">${t}</text>`);
  }
  out.push(`<rect x="${m.left}" y="${m.top}" width="${pw}" height="${ph}" fill="none" stroke="#333333"/>`);
  out.push(
    `<text x="${m.left + pw / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
    `<text transform="translate(18 ${m.top + ph / 2}) rotate(-90)" text-anchor="middle">${
      escapeXml(spec.yLabel)
    }</text>`,
  );
  spec.series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    // Odd lines dashed, so a line drawn over an identical one (e.g. final and offload-all accuracy) stays visible.
    const dash = i % 2 === 1 ? ' stroke-dasharray="7 4"' : "";
    const pts = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    if (pts.length > 1) {
      const d = pts.map(([x, y], j) => `${j === 0 ? "M" : "L"}${f(sx(x))} ${f(sy(y))}`).join(" ");
      out.push(`<path d="${d}" fill="none" stroke="${color}" stroke-width="2"${dash}/>`);
    }
    if (pts.length <= 30) {
      for (const [x, y] of pts) out.push(`<circle cx="${f(sx(x))}" cy="${f(sy(y))}" r="3" fill="${color}"/>`);
    }
    const ly = m.top + 10 + i * 18;
    out.push(
      `<line x1="${m.left + pw + 12}" y1="${ly}" x2="${m.left + pw + 32}" y2="${ly}" stroke="${color}" ` +
        `stroke-width="2"${dash}/>`,
      `<text x="${m.left + pw + 38}" y="${ly + 4}">${escapeXml(s.name)}</text>`,
    );
  });
  out.push("</svg>");
  return out.join("\n") + "\n";
}

function byPolicy(results: readonly EvalResult[]): Map<string, EvalResult[]> {
  const map = new Map<string, EvalResult[]>();
  for (const r of results) map.set(r.policy, [...(map.get(r.policy) ?? []), r]);
  return map;
}

/** Accuracy (%) against o, one line per policy. */
export function accuracyVsO(results: readonly EvalResult[], title = "Accuracy vs offloading cost"): string {
  const series = [...byPolicy(results)].map(([name, rs]) => ({
    name,
    points: rs.filter((r) => r.o !== null && r.accuracy !== null).map((r) => [r.o!, 100 * r.accuracy!] as const),
  }));
  return lineChart({ title, xLabel: "offloading cost o", yLabel: "accuracy (%)", series });
}

/** Mean cost per sample against o, one line per policy. */
export function costVsO(results: readonly EvalResult[], title = "Cost per sample vs offloading cost"): string {
  const series = [...byPolicy(results)].map(([name, rs]) => ({
    name,
    points: rs.filter((r) => r.o !== null).map((r) => [r.o!, r.cost] as const),
  }));
  return lineChart({ title, xLabel: "offloading cost o", yLabel: "cost per sample (lambda * layers + o)", series });
}

/** Mean cumulative regret against t for the results of one o (at most ~400 points per line). */
export function regretVsT(results: readonly EvalResult[], title = "Cumulative regret"): string {
  const series = results.map((r) => {
    const n = r.regretCurve.length;
    const step = Math.max(1, Math.ceil(n / 400));
    const points: [number, number][] = [];
    for (let t = 0; t < n; t += step) points.push([t + 1, r.regretCurve[t]!]);
    if (n > 0 && points[points.length - 1]![0] !== n) points.push([n, r.regretCurve[n - 1]!]);
    return { name: r.policy, points };
  });
  return lineChart({ title, xLabel: "samples t", yLabel: "cumulative regret", series });
}
