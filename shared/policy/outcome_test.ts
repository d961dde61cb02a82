import assert from "node:assert/strict";
import { nextAction, outcomeCost, outcomeReward, planOutcome } from "./outcome.ts";
import { observeRow } from "./observe.ts";
import { assertClose } from "./testing.ts";
import type { ExitRule } from "./types.ts";

const L = 4, A = 0.7;
const costs = { lambda: 0.1, o: 0.5 };

Deno.test("reward per branch: exit C_i - lambda*i, offload C_L - o - lambda*i, arm L C_L - lambda*L", () => {
  const row = [0.6, 0.8, 0.65, 0.9];
  const exit = planOutcome(2, "split", row, undefined, L, A)!;
  assert.deepEqual(exit, { confidence: 0.8, layers: 2, offloaded: false, exitLayer: 2 });
  assertClose(outcomeReward(exit, costs), 0.8 - 0.2);
  const off = planOutcome(3, "split", row, undefined, L, A)!;
  assert.deepEqual(off, { confidence: 0.9, layers: 3, offloaded: true, exitLayer: 4 });
  assertClose(outcomeReward(off, costs), 0.9 - 0.5 - 0.3);
  assertClose(outcomeCost(off, costs), 0.3 + 0.5);
  const final = planOutcome(4, "split", [0.9, 0.9, 0.9, 0.6], undefined, L, A)!;
  assert.deepEqual(final, { confidence: 0.6, layers: 4, offloaded: false, exitLayer: 4 });
  assertClose(outcomeReward(final, costs), 0.6 - 0.4);
  // At alpha exactly the sample exits (C_i >= alpha).
  assert.equal(planOutcome(1, "split", [0.7, 0.1, 0.1, 0.9], undefined, L, A)!.offloaded, false);
});

Deno.test("planOutcome() returns undefined when the known values do not determine the reward", () => {
  assert.equal(planOutcome(2, "split", [0.6, 0.5], undefined, L, A), undefined);
  assert.equal(planOutcome(3, "split", [0.6, 0.5], 0.9, L, A), undefined);
  assert.equal(planOutcome(4, "split", [0.6, 0.5, 0.6], undefined, L, A), undefined);
  assert.deepEqual(planOutcome(4, "split", [0.6, 0.5, 0.6], 0.9, L, A)?.layers, 4);
  assert.equal(planOutcome(3, "first-confident", [0.6, 0.5], undefined, L, A), undefined);
});

Deno.test("the first-confident and never rules", () => {
  const row = [0.5, 0.75, 0.8, 0.95];
  assert.deepEqual(planOutcome(3, "first-confident", row, undefined, L, A), {
    confidence: 0.75,
    layers: 2,
    offloaded: false,
    exitLayer: 2,
  });
  assert.deepEqual(planOutcome(1, "first-confident", row, undefined, L, A)?.offloaded, true);
  assert.deepEqual(planOutcome(4, "first-confident", [0.1, 0.2, 0.3, 0.4], undefined, L, A)?.exitLayer, 4);
  assert.deepEqual(planOutcome(1, "never", [0.99, 0.2, 0.3, 0.4], undefined, L, A), {
    confidence: 0.4,
    layers: 1,
    offloaded: true,
    exitLayer: 4,
  });
});

Deno.test("nextAction() agrees with planOutcome() on every arm, rule and a grid of rows", () => {
  const values = [0.3, 0.7, 0.9];
  const rules: ExitRule[] = ["split", "first-confident", "never"];
  let checked = 0;
  for (const a of values) {
    for (const b of values) {
      for (const c of values) {
        const row = [a, b, c, 0.8];
        for (const rule of rules) {
          for (let arm = 1; arm <= L; arm++) {
            const expected = planOutcome(arm, rule, row, undefined, L, A)!;
            let layer = 1;
            let action = nextAction({ arm, exitRule: rule }, layer, row[0]!, { layers: L, alpha: A });
            while (action === "continue") {
              layer++;
              action = nextAction({ arm, exitRule: rule }, layer, row[layer - 1]!, { layers: L, alpha: A });
            }
            assert.equal(layer, expected.layers, `${rule} arm ${arm} row ${row}`);
            assert.equal(action === "offload", expected.offloaded);
            checked++;
          }
        }
      }
    }
  }
  assert.equal(checked, 27 * 3 * 4);
  assert.throws(() => nextAction({ arm: 2, exitRule: "split" }, 3, 0.5, { layers: L, alpha: A }), /outside 1\.\.2/);
});

Deno.test("observeRow() hides what the device did not compute", () => {
  const row = [0.6, 0.8, 0.65, 0.9];
  const cfg = { layers: L, alpha: A, mode: "observed" as const };
  assert.deepEqual(observeRow({ arm: 2, exitRule: "split" }, row, cfg).observation, {
    arm: 2,
    confidences: [0.6, 0.8],
  });
  assert.deepEqual(observeRow({ arm: 3, exitRule: "split" }, row, cfg, { o: 0.2 }).observation, {
    arm: 3,
    confidences: [0.6, 0.8, 0.65],
    finalConfidence: 0.9,
    o: 0.2,
  });
  const f64 = observeRow({ arm: 1, exitRule: "split" }, new Float64Array(row), cfg).observation;
  assert.deepEqual([...f64.confidences as Float64Array], [0.6]);
  assert.equal(f64.finalConfidence, 0.9);
  const paper = observeRow({ arm: 2, exitRule: "split" }, row, { ...cfg, mode: "paper" }).observation;
  assert.deepEqual(paper, { arm: 2, confidences: row });
  assert.throws(() => observeRow({ arm: 1, exitRule: "split" }, [0.5], cfg), /needs 4 values, got 1/);
});
