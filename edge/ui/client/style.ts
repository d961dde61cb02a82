/**
 * The page's stylesheet, served at `/ui/app.css`. Colours meet WCAG AA contrast (4.5:1 for text, 3:1 for chart marks)
 * against their background in both the light and the dark scheme; focus is always visible.
 * @module
 */

/** CSS of the demo page. */
export const APP_CSS = String.raw`
:root {
  color-scheme: light dark;
  --bg: #f6f7f9; --card: #ffffff; --text: #16181d; --muted: #4b5260; --line: #c9ced8; --grid: #e3e6ec;
  --accent: #0b57d0; --accent-text: #ffffff; --edge: #0a7a55; --gateway: #a4480b; --bar: #6b7689;
  --best: #0b57d0; --danger: #b3261e; --danger-bg: #fdecea; --focus: #c2410c; --ucb: #16181d;
}
@media (prefers-color-scheme: dark) {
  :root {
    --bg: #111317; --card: #1b1e24; --text: #e9ebef; --muted: #b3b9c5; --line: #454b57; --grid: #2c3038;
    --accent: #8ab4f8; --accent-text: #0b1b33; --edge: #4fd1a1; --gateway: #f6a56b; --bar: #9aa4b5;
    --best: #8ab4f8; --danger: #ffb4ab; --danger-bg: #3b1512; --focus: #fdba74; --ucb: #e9ebef;
  }
}
*, *::before, *::after { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body {
  margin: 0; background: var(--bg); color: var(--text); line-height: 1.45;
  font: 16px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", "DejaVu Sans", sans-serif;
}
a { color: var(--accent); }
:focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; background: var(--card); padding: .5rem; }
.skip:focus { left: .5rem; }
header, main, footer { max-width: 72rem; margin: 0 auto; padding: 0 1rem; }
header { padding-top: 1rem; }
h1 { font-size: 1.5rem; margin: .25rem 0; }
h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
h3 { font-size: 1rem; margin: 1rem 0 .25rem; }
.lede { margin: 0 0 1rem; color: var(--muted); max-width: 48rem; }
main { display: grid; gap: 1rem; grid-template-columns: minmax(0, 1fr); }
@media (min-width: 56rem) { main { grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); align-items: start; } }
.card {
  background: var(--card); border: 1px solid var(--line); border-radius: .5rem; padding: 1rem; min-width: 0;
}
.field { margin: 0 0 .75rem; }
label, .label { display: block; font-weight: 600; margin-bottom: .25rem; }
select, textarea, input {
  width: 100%; max-width: 100%; font: inherit; color: var(--text); background: var(--card);
  border: 1px solid var(--muted); border-radius: .375rem; padding: .5rem;
}
textarea { resize: vertical; min-height: 4.5rem; }
.hint, .muted { color: var(--muted); font-size: .9rem; }
.hint { margin: -.25rem 0 .75rem; }
.actions { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; }
button {
  font: inherit; font-weight: 600; color: var(--accent-text); background: var(--accent); border: 0;
  border-radius: .375rem; padding: .55rem 1.1rem; cursor: pointer; min-height: 2.75rem;
}
button[aria-disabled="true"] { opacity: .7; cursor: progress; }
details { margin: .5rem 0; }
summary { cursor: pointer; color: var(--muted); }
.result { margin-top: 1rem; border-top: 1px solid var(--line); padding-top: 1rem; min-height: 3rem; }
.answer { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem .75rem; margin: 0 0 .5rem; }
.answer .value { font-size: 1.6rem; font-weight: 700; overflow-wrap: anywhere; }
.badge {
  display: inline-block; border-radius: .5rem; padding: .1rem .6rem; font-size: .9rem; font-weight: 600;
  border: 2px solid currentColor;
}
.badge.edge { color: var(--edge); }
.badge.gateway { color: var(--gateway); }
.badge.degraded { color: var(--danger); }
dl.facts { display: grid; grid-template-columns: max-content minmax(0, 1fr); gap: .2rem .75rem; margin: .5rem 0; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; font-variant-numeric: tabular-nums; overflow-wrap: anywhere; }
code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .9em; overflow-wrap: anywhere; }
figure { margin: .75rem 0; }
figcaption { font-size: .9rem; color: var(--muted); margin-bottom: .25rem; }
svg.chart { display: block; width: 100%; height: auto; overflow: visible; }
svg text { fill: var(--muted); font-size: 12px; font-family: inherit; }
svg text.alpha { fill: var(--danger); font-weight: 700; }
svg .axis { stroke: var(--line); stroke-width: 1; }
svg .gridline { stroke: var(--grid); stroke-width: 1; }
svg .bar { fill: var(--bar); }
svg .bar.exit { fill: var(--edge); }
svg .bar.gw { fill: var(--gateway); }
svg .bar.best { fill: var(--best); }
svg .bar.neg { fill: var(--danger); }
svg .slot { fill: none; stroke: var(--line); stroke-dasharray: 2 2; }
svg .zone { fill: var(--grid); }
svg .threshold { stroke: var(--danger); stroke-width: 1.5; stroke-dasharray: 4 3; }
svg .split { stroke: var(--text); stroke-width: 1.5; stroke-dasharray: 3 2; }
svg .ucb { stroke: var(--ucb); stroke-width: 2.5; }
svg .chosen { fill: none; stroke: var(--focus); stroke-width: 2; }
svg.spark-chart { height: 2.5rem; }
svg .spark { fill: none; stroke: var(--accent); stroke-width: 2; stroke-linejoin: round; vector-effect: non-scaling-stroke; }
svg.spark-chart .gridline { vector-effect: non-scaling-stroke; }
svg .strong { fill: var(--text); font-weight: 700; }
.legend { display: flex; flex-wrap: wrap; gap: .25rem 1rem; font-size: .85rem; color: var(--muted); margin: .25rem 0 0; }
.swatch { display: inline-block; width: .8rem; height: .8rem; border-radius: 2px; vertical-align: -1px; margin-right: .3rem; }
.swatch.bar { background: var(--bar); } .swatch.best { background: var(--best); } .swatch.exit { background: var(--edge); }
.swatch.gw { background: var(--gateway); }
.swatch.ucb { background: var(--ucb); height: .25rem; vertical-align: 3px; }
.swatch.threshold { background: var(--danger); height: .2rem; vertical-align: 3px; }
.swatch.chosen { background: transparent; border: 2px solid var(--focus); }
.sparks { display: grid; grid-template-columns: repeat(auto-fit, minmax(9rem, 1fr)); gap: .5rem 1rem; }
.sparks figure { margin: 0; }
.sparks .now { font-size: 1.2rem; font-weight: 700; font-variant-numeric: tabular-nums; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; font-size: .9rem; }
th, td { text-align: right; padding: .2rem .4rem; border-bottom: 1px solid var(--grid); }
th:first-child, td:first-child { text-align: left; }
tr.best td { font-weight: 700; }
@media (max-width: 26rem) { table { font-size: .8rem; } th, td { padding: .2rem .2rem; } }
.problem {
  border: 2px solid var(--danger); background: var(--danger-bg); border-radius: .5rem; padding: .75rem;
  overflow-wrap: anywhere;
}
.problem p { margin: .25rem 0; }
.problem-text { color: var(--danger); font-weight: 600; margin: 0 0 .5rem; }
.problem-text:empty { display: none; }
.probs { list-style: none; padding: 0; margin: .25rem 0; }
.probs li { display: grid; grid-template-columns: minmax(4rem, 8rem) minmax(0, 1fr) 3.5rem; gap: .5rem; align-items: center; }
.probs .track { height: .6rem; background: var(--grid); border-radius: .3rem; overflow: hidden; }
.probs .fill { display: block; height: 100%; background: var(--bar); }
.probs li.top .fill { background: var(--accent); }
.probs .pct { text-align: right; font-variant-numeric: tabular-nums; }
footer { padding: 1rem; color: var(--muted); font-size: .9rem; }
.visually-hidden {
  position: absolute !important; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap;
}
`;
