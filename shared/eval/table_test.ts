import assert from "node:assert/strict";
import { evaluate } from "./evaluate.ts";
import { parseExitsJsonl } from "./matrix.ts";
import { formatTable, resultRecord, topArm } from "./table.ts";
import { TINY_JSONL } from "./testing.ts";

const rs = evaluate(parseExitsJsonl(TINY_JSONL), { alpha: 0.7, os: [0.5], runs: 1, policies: ["final", "fixed-1"] });

Deno.test("formatTable() prints one aligned row per result", () => {
  const lines = formatTable(rs).trimEnd().split("\n");
  assert.equal(lines[0], "alpha 0.7, lambda 0.1, 1 runs, 8 samples; regret at 8 samples vs best fixed arm");
  assert.equal(lines.length, 5);
  assert.match(lines[3]!, /^final\s+0\.5\s+85\.71\s+0\.300\s+0\.00\s+0\.00\s+0\.5450\s+0\.0\s+3 \(100%\)$/);
  assert.match(lines[4]!, /^fixed-1\s+0\.5\s+85\.71\s+0\.350\s+-16\.67\s+50\.00\s+0\.4650\s+0\.6\s+1 \(100%\)$/);
  assert.equal(topArm({ "1": 0.2, "2": 0.5, "3": 0.3 }), "2 (50%)");
});

Deno.test("resultRecord() starts with the documented keys and drops the regret curve", () => {
  const rec = resultRecord(rs[0]!);
  assert.deepEqual(Object.keys(rec).slice(0, 8), [
    "policy",
    "o",
    "accuracy",
    "cost",
    "costReduction",
    "offloadRate",
    "regret2000",
    "alpha",
  ]);
  assert.ok(!("regretCurve" in rec));
  assert.deepEqual(rec.arms, { "1": 0, "2": 0, "3": 1 });
});
