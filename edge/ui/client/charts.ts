/**
 * Browser-side helpers of the page (plain JavaScript kept as a string, no build step): DOM and SVG element builders,
 * number formatting, and the four charts (exit confidences, arm means with UCB indices, pulls, sparklines). Every
 * chart is an SVG with `role="img"` and an `aria-label` that states what it shows; values go in `<title>`s.
 * Concatenated with {@linkcode APP_JS} into `/ui/app.js` (see ./bundle.ts).
 * @module
 */

/** DOM builders, formatting and chart drawing. */
export const CHARTS_JS = String.raw`
const SVG_NS = "http://www.w3.org/2000/svg";

function put(node, attrs, children) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = String(v);
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of [].concat(children === undefined ? [] : children)) {
    if (c === null || c === undefined || c === false || c === "") continue;
    node.append(typeof c === "object" ? c : String(c));
  }
  return node;
}
const h = (tag, attrs, children) => put(document.createElement(tag), attrs, children);
const s = (tag, attrs, children) => put(document.createElementNS(SVG_NS, tag), attrs, children);
const isNum = (x) => typeof x === "number" && Number.isFinite(x);
const clamp = (x, lo, hi) => Math.min(hi, Math.max(lo, x));
const round1 = (x) => Math.round(x * 10) / 10;

const fmt = {
  num: (x, d) => (isNum(x) ? x.toFixed(d === undefined ? 2 : d) : "—"),
  ms: (x) => (isNum(x) ? (x < 10 ? x.toFixed(2) : x < 100 ? x.toFixed(1) : String(Math.round(x))) + " ms" : "—"),
  bytes: (n) =>
    !isNum(n) ? "—" : n < 1024 ? n + " B" : n < 1048576 ? (n / 1024).toFixed(1) + " KiB" : (n / 1048576).toFixed(2) + " MiB",
  pct: (x) => (isNum(x) ? (x * 100).toFixed(x < 0.1 && x > 0 ? 1 : 0) + "%" : "—"),
  // Label probabilities: one decimal everywhere, so "p" and the bars agree (50.5% and 49.5%, not 0.505 beside 50%).
  prob: (x) => (isNum(x) ? (x * 100).toFixed(1) + "%" : "—"),
  count: (n) => (!isNum(n) ? "—" : n < 1000 ? String(Math.round(n)) : n < 1e6 ? round1(n / 1000) + "k" : round1(n / 1e6) + "M"),
};

function chart(width, height, label) {
  return s("svg", { class: "chart", viewBox: "0 0 " + width + " " + height, role: "img", "aria-label": label });
}

// Charts are drawn in CSS pixels at the width of their container (redrawn at every update), so text stays 12px.
function widthOf(node) {
  return Math.round(clamp(node && node.clientWidth > 0 ? node.clientWidth : 320, 240, 720));
}

function slotsX(n, left, width) {
  const slot = width / n;
  return { slot, bar: Math.max(2, slot * 0.66), at: (i) => left + slot * i + (slot - Math.max(2, slot * 0.66)) / 2 };
}

// Confidence C_j of every exit computed on the edge, the alpha threshold, the split layer and, when the gateway
// answered, its final exit (the winning probability).
function exitChart(r, layers, alpha, W) {
  const confs = Array.isArray(r.exitConfidences) ? r.exitConfidences : [];
  const n = Math.max(1, layers || 0, confs.length, r.splitLayer || 0, r.exitLayer || 0);
  const H = 170, L = 30, T = 16, B = 22, pw = W - L - 6, ph = H - T - B;
  const y = (v) => T + ph * (1 - clamp(v, 0, 1));
  const xs = slotsX(n, L, pw);
  const label = "Exit confidences on the edge: " +
    confs.map((c, i) => "exit " + (i + 1) + " " + fmt.num(c)).join(", ") +
    (r.answeredBy === "gateway" ? "; the gateway answered at exit " + r.exitLayer : "; answered on the edge at exit " + r.exitLayer);
  const svg = chart(W, H, label);
  svg.id = "exit-chart";
  if (r.answeredBy === "gateway" && r.splitLayer < n) {
    const x0 = L + xs.slot * r.splitLayer;
    svg.append(s("rect", { class: "zone", x: x0, y: T, width: L + pw - x0, height: ph }));
    if (L + pw - x0 >= 64) svg.append(s("text", { x: x0 + 6, y: T + 12, text: "on the gateway" }));
  }
  for (const v of [0, 0.5, 1]) {
    svg.append(s("line", { class: v === 0 ? "axis" : "gridline", x1: L, x2: L + pw, y1: y(v), y2: y(v) }));
    if (!isNum(alpha) || Math.abs(y(v) - y(alpha)) >= 11) {
      svg.append(s("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", text: v.toFixed(1) }));
    }
  }
  confs.forEach((c, i) => {
    const cls = "bar conf" + (r.answeredBy === "edge" && i + 1 === r.exitLayer ? " exit" : "");
    svg.append(s("rect", { class: cls, x: xs.at(i), y: y(c), width: xs.bar, height: Math.max(0.5, y(0) - y(c)) }, [
      s("title", { text: "Exit " + (i + 1) + ": confidence " + fmt.num(c, 3) }),
    ]));
  });
  const probs = Array.isArray(r.probabilities) ? r.probabilities.filter(isNum) : [];
  if (r.answeredBy === "gateway" && probs.length > 0 && r.exitLayer > confs.length) {
    const c = Math.max.apply(null, probs), i = r.exitLayer - 1;
    svg.append(s("rect", { class: "bar gw", x: xs.at(i), y: y(c), width: xs.bar, height: Math.max(0.5, y(0) - y(c)) }, [
      s("title", { text: "Exit " + r.exitLayer + " on the gateway: confidence " + fmt.num(c, 3) }),
    ]));
  }
  for (let i = 0; i < n; i++) {
    if (n <= 16 || (i + 1) % 2 === 0) {
      svg.append(s("text", { x: L + xs.slot * (i + 0.5), y: H - 6, "text-anchor": "middle", text: i + 1 }));
    }
  }
  if (isNum(alpha)) {
    svg.append(s("line", { class: "threshold", x1: L, x2: L + pw, y1: y(alpha), y2: y(alpha) }, [
      s("title", { text: "Confidence threshold α = " + alpha }),
    ]));
    svg.append(s("text", { x: L - 4, y: y(alpha) + 4, "text-anchor": "end", class: "alpha", text: "α" }));
  }
  if (isNum(r.splitLayer) && r.splitLayer >= 1) {
    const x = L + xs.slot * r.splitLayer;
    svg.append(s("line", { class: "split", x1: x, x2: x, y1: T - 8, y2: y(0) }));
    svg.append(s("text", { x: x + (r.splitLayer < n ? 3 : -3), y: T - 2, "text-anchor": r.splitLayer < n ? "start" : "end",
      class: "strong", text: "split " + r.splitLayer }));
  }
  return svg;
}

// Mean reward per arm as bars, the UCB index as a tick, the best arm highlighted, the next arm outlined.
function armChart(p, W) {
  const arms = p.arms, n = Math.max(1, arms.length);
  const H = 170, L = 38, T = 14, B = 22, pw = W - L - 6, ph = H - T - B;
  const vals = [0];
  for (const a of arms) for (const v of [a.mean, a.ucb]) if (isNum(v)) vals.push(v);
  let lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals.concat([lo + 0.1]));
  const pad = (hi - lo) * 0.08;
  lo -= lo < 0 ? pad : 0;
  hi += pad;
  const y = (v) => T + ph * (1 - (clamp(v, lo, hi) - lo) / (hi - lo));
  const xs = slotsX(n, L, pw);
  const svg = chart(W, H, "Mean reward and UCB index per split layer; best layer " + (p.best ?? "unknown") +
    (isNum(p.chosen) ? ", next split " + p.chosen : ""));
  svg.id = "arm-chart";
  for (const v of [lo, 0, hi]) {
    svg.append(s("line", { class: v === 0 ? "axis" : "gridline", x1: L, x2: L + pw, y1: y(v), y2: y(v) }));
    svg.append(s("text", { x: L - 4, y: y(v) + 4, "text-anchor": "end", text: fmt.num(v) }));
  }
  arms.forEach((a, i) => {
    if (a.arm === p.chosen) {
      svg.append(s("rect", { class: "chosen", x: L + xs.slot * i + 1, y: T - 4, width: xs.slot - 2, height: ph + 6, rx: 3 }));
    }
    if (isNum(a.mean)) {
      const top = Math.min(y(a.mean), y(0)), hgt = Math.max(0.5, Math.abs(y(a.mean) - y(0)));
      svg.append(s("rect", { class: "bar arm" + (a.arm === p.best ? " best" : ""), x: xs.at(i), y: top, width: xs.bar, height: hgt },
        [s("title", { text: "Layer " + a.arm + ": mean reward " + fmt.num(a.mean, 3) + ", " + fmt.count(a.pulls) + " observations" })]));
    }
    const ux = xs.at(i) - 2, uw = xs.bar + 4;
    if (isNum(a.ucb)) {
      svg.append(s("line", { class: "ucb", x1: ux, x2: ux + uw, y1: y(a.ucb), y2: y(a.ucb) }, [
        s("title", { text: "Layer " + a.arm + ": UCB index " + fmt.num(a.ucb, 3) }),
      ]));
    } else if (a.ucb === Infinity) {
      svg.append(s("text", { x: ux + uw / 2, y: T + 8, "text-anchor": "middle", class: "strong", text: "∞" }));
    }
    svg.append(s("text", { x: L + xs.slot * (i + 0.5), y: H - 6, "text-anchor": "middle",
      class: a.arm === p.best ? "strong" : null, text: a.arm }));
  });
  return svg;
}

// How often the policy chose each split layer over the recent window of requests (the real pulls; the arm statistics'
// observation counts also include SplitEE-S side information, which gives the shallow layers one per round).
function pullsChart(p, W) {
  const arms = p.arms, n = Math.max(1, arms.length);
  const H = 84, L = 38, T = 16, B = 4, pw = W - L - 6, ph = H - T - B;
  const max = Math.max.apply(null, [1].concat(arms.map((a) => (isNum(a.picked) ? a.picked : 0))));
  const y = (v) => T + ph * (1 - v / max);
  const xs = slotsX(n, L, pw);
  const svg = chart(W, H, "Times each split layer was chosen in the recent window: " +
    arms.map((a) => a.arm + ": " + fmt.count(a.picked)).join(", "));
  svg.id = "pulls-chart";
  svg.append(s("line", { class: "axis", x1: L, x2: L + pw, y1: y(0), y2: y(0) }));
  svg.append(s("text", { x: L - 4, y: y(0), "text-anchor": "end", text: "0" }));
  arms.forEach((a, i) => {
    const v = isNum(a.picked) ? a.picked : 0;
    svg.append(s("rect", { class: "bar pulls" + (a.arm === p.best ? " best" : ""), x: xs.at(i), y: y(v), width: xs.bar,
      height: Math.max(0.5, y(0) - y(v)) }, [s("title", { text: "Layer " + a.arm + ": chosen " + fmt.count(v) + " times" })]));
    svg.append(s("text", { x: L + xs.slot * (i + 0.5), y: y(v) - 2, "text-anchor": "middle", text: fmt.count(v) }));
  });
  return svg;
}

// A small line chart of the values kept client-side; range [lo, hi] or [0, max] when hi is not given.
function sparkline(values, label, lo, hi) {
  const W = 160, H = 40, P = 3;
  const pts = values.filter(isNum);
  const top = isNum(hi) ? hi : Math.max.apply(null, [1e-9].concat(pts)) * 1.1;
  const bottom = isNum(lo) ? lo : 0;
  const svg = chart(W, H, label);
  svg.setAttribute("preserveAspectRatio", "none");
  svg.setAttribute("class", "chart spark-chart");
  svg.append(s("line", { class: "gridline", x1: 0, x2: W, y1: H - P, y2: H - P }));
  if (pts.length === 0) return svg;
  const step = (W - 2 * P) / Math.max(1, pts.length - 1);
  const y = (v) => P + (H - 2 * P) * (1 - (clamp(v, bottom, top) - bottom) / (top - bottom || 1));
  const coords = pts.map((v, i) => round1(P + i * step) + "," + round1(y(v)));
  if (pts.length === 1) svg.append(s("line", { class: "spark", x1: P, x2: P + 4, y1: y(pts[0]), y2: y(pts[0]) }));
  else svg.append(s("polyline", { class: "spark", points: coords.join(" ") }));
  return svg;
}
`;
