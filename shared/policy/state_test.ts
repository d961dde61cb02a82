import assert from "node:assert/strict";
import { resolveConfig } from "./config.ts";
import { diffState, emptyState, meanRewards, mergeDelta, parseState, reportedArm, StateError } from "./state.ts";
import { update } from "./splitee.ts";
import { assertAllClose } from "./testing.ts";

const config = resolveConfig({ layers: 3, alpha: 0.7, sideInfo: true });

Deno.test("mergeDelta(global, diffState(synced, local)) adds what each instance learned", () => {
  const global0 = update(emptyState(config), config, { arm: 3, confidences: [0.9, 0.8, 0.95] });
  // Two instances start from the same synced state and learn different samples.
  const a = update(global0, config, { arm: 1, confidences: [0.5], finalConfidence: 0.9 });
  const b = update(global0, config, { arm: 2, confidences: [0.8, 0.9] });
  const merged = mergeDelta(mergeDelta(global0, diffState(global0, a)), diffState(global0, b));
  // The same as one instance seeing both samples (update only adds).
  const serial = update(a, config, { arm: 2, confidences: [0.8, 0.9] });
  assert.equal(merged.t, 3);
  assert.deepEqual(merged.counts, serial.counts);
  assertAllClose(merged.rewardSums, serial.rewardSums);
  assert.deepEqual(merged.counts, [3, 2, 1]);
});

Deno.test("diffState() and mergeDelta() carry the adaptive-cost sums and refuse mismatched shapes", () => {
  const adaptive = resolveConfig({ layers: 2, alpha: 0.7, adaptiveCosts: true });
  const s0 = emptyState(adaptive);
  const s1 = update(s0, adaptive, { arm: 1, confidences: [0.4], finalConfidence: 0.8 });
  const delta = diffState(s0, s1);
  assert.deepEqual(delta.offloads, [1, 0]);
  assert.deepEqual(delta.layerSums, [1, 0]);
  assert.deepEqual(mergeDelta(s1, delta).offloads, [2, 0]);
  assert.throws(() => mergeDelta(s1, emptyState(config)), StateError);
  assert.throws(() => diffState(emptyState(config), s1), /counts differ in shape/);
});

Deno.test("parseState() validates untrusted state and returns copies", () => {
  const raw = JSON.parse('{"t": 2, "counts": [1, 1, 0], "rewardSums": [0.5, 0.4, 0]}');
  const s = parseState(raw, config);
  assert.deepEqual(s, raw);
  raw.counts[0] = 99;
  assert.equal(s.counts[0], 1);
  assert.throws(() => parseState({ t: 1, counts: [1, 1], rewardSums: [0, 0, 0] }, config), /counts must be 3 finite/);
  assert.throws(() => parseState({ t: -1 }, config), /t must be a finite number >= 0 \(got -1\)/);
  assert.throws(() => parseState(null, config), /must be an object/);
  const adaptive = resolveConfig({ layers: 3, alpha: 0.7, adaptiveCosts: true });
  assert.throws(() => parseState(raw, adaptive), /confidenceSums must be 3 finite numbers/);
});

Deno.test("reportedArm() is the argmax of summed rewards; meanRewards() divides by counts", () => {
  const s = { t: 5, counts: [4, 1, 0], rewardSums: [1.2, 0.9, 0] };
  assert.equal(reportedArm(s), 1);
  assertAllClose(meanRewards(s).slice(0, 2), [0.3, 0.9]);
  assert.ok(Number.isNaN(meanRewards(s)[2]));
});
