import assert from "node:assert/strict";
import { evaluate } from "./evaluate.ts";
import { parseExitsJsonl } from "./matrix.ts";
import { accuracyVsO, costVsO, escapeXml, lineChart, niceTicks, regretVsT } from "./svg.ts";
import { TINY_JSONL } from "./testing.ts";

Deno.test("niceTicks() picks 1-2-5 steps", () => {
  assert.deepEqual(niceTicks(0.1, 0.6), [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]);
  assert.deepEqual(niceTicks(0, 2000), [0, 500, 1000, 1500, 2000]);
  assert.deepEqual(niceTicks(-3, 7), [-2, 0, 2, 4, 6]);
  assert.deepEqual(niceTicks(1, 1), [1]);
});

Deno.test("lineChart() draws one path and one legend entry per series, escaping text", () => {
  const svg = lineChart({
    title: "a < b & c",
    xLabel: "x",
    yLabel: "y",
    series: [
      { name: "one", points: [[0, 0], [1, 1], [2, 4]] },
      { name: "two", points: [[0, 1], [2, 3]] },
      { name: "nan", points: [[0, Number.NaN]] },
    ],
  });
  assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
  assert.ok(svg.includes(">a &#60; b &#38; c</text>"));
  assert.equal(svg.match(/<path /g)?.length, 2);
  assert.equal(svg.match(/<circle /g)?.length, 5);
  assert.ok(svg.includes(">two</text>") && svg.includes(">nan</text>"));
  assert.equal(escapeXml(`"'`), "&#34;&#39;");
});

Deno.test("the evaluation plots have one line per policy", () => {
  const m = parseExitsJsonl(TINY_JSONL);
  const rs = evaluate(m, { alpha: 0.7, os: [0.1, 0.5], runs: 2, policies: ["final", "fixed-1", "splitee"] });
  for (const svg of [accuracyVsO(rs), costVsO(rs)]) assert.equal(svg.match(/<path /g)?.length, 3);
  const regret = regretVsT(rs.filter((r) => r.o === 0.5), "Regret <o=0.5>");
  assert.equal(regret.match(/<path /g)?.length, 3);
  assert.ok(regret.includes("Regret &#60;o=0.5&#62;"));
});
