import assert from "node:assert/strict";
import { createPrng } from "../prng.ts";
import { resolveConfig } from "./config.ts";
import { createPolicy } from "./registry.ts";
import { decide, update } from "./splitee.ts";
import { emptyState } from "./state.ts";
import { assertAllClose, assertClose, replayRows, TINY } from "./testing.ts";
import type { PolicyState } from "./types.ts";

const OPTIONS = { layers: 3, alpha: 0.7, lambda: 0.1, o: 0.5 };
const INF = Infinity;

Deno.test("decide() plays every arm once, then follows the UCB index step by step (SplitEE)", () => {
  const steps = replayRows(createPolicy("splitee", OPTIONS, { prng: createPrng(1) }), TINY, createPrng(1));
  // Init: arms 1, 2, 3 in order. r1 arm 1: C_1 = 0.90 >= 0.7 -> exit, 0.90 - 0.1 = 0.80.
  // r2 arm 2: C_2 = 0.80 -> exit, 0.80 - 0.2 = 0.60. r3 arm 3: C_L - 3*lambda = 0.70 - 0.3 = 0.40.
  // r4: t = 3, round 4: bonus sqrt(ln 4 / 1) = 1.177410 -> [1.977410, 1.777410, 1.577410] -> arm 1,
  //     C_1 = 0.80 -> 0.70.
  // r5: round 5, ln 5 = 1.609438: arm 1 0.75 + sqrt(1.609438/2) = 1.647061; arms 2, 3: mean + 1.268636
  //     -> [1.647061, 1.868636, 1.668636] -> arm 2; C_2 = 0.75 -> 0.55.
  // r6: round 6, ln 6 = 1.791759: [0.75 + 0.946509, 0.575 + 0.946509, 0.40 + 1.338566] -> arm 3; 0.92 - 0.3 = 0.62.
  assert.deepEqual(steps.map((s) => s.decision.arm), [1, 2, 3, 1, 2, 3]);
  assert.deepEqual(steps.map((s) => s.decision.reason), ["init", "init", "init", "ucb", "ucb", "ucb"]);
  assertAllClose(steps[3]!.decision.scores, [1.977410, 1.777410, 1.577410], 1e-6, "step 4 scores");
  assertAllClose(steps[4]!.decision.scores, [1.647061, 1.868636, 1.668636], 1e-6, "step 5 scores");
  assertAllClose(steps[5]!.decision.scores, [1.696509, 1.521509, 1.738566], 1e-6, "step 6 scores");
  assert.deepEqual(steps[1]!.decision.scores.slice(1), [INF, INF]);
  const last = steps[5]!.state;
  assert.equal(last.t, 6);
  assert.deepEqual(last.counts, [2, 2, 2]);
  assertAllClose(last.rewardSums, [1.5, 1.15, 1.02]);
});

Deno.test("decide() with side information starts at arm L and learns shallower arms from each sample (SplitEE-S)", () => {
  const steps = replayRows(createPolicy("splitee-s", OPTIONS, { prng: createPrng(1) }), TINY, createPrng(1));
  // r1 arm 3 (deepest unplayed) reveals C_1..C_3: arm 1 0.80, arm 2 0.75, arm 3 0.69.
  // r2: round 2, bonus sqrt(ln 2) = 0.832555 -> [1.632555, 1.582555, 1.522555] -> arm 1; C_1 = 0.60 < alpha ->
  //     offload, 0.90 - 0.5 - 0.1 = 0.30.
  // r3: round 3 -> arm 2; C_2 = 0.65 -> offload (C_L = 0.70 observed): arm 2 0.70 - 0.5 - 0.2 = 0.00, side arm 1
  //     0.70 - 0.5 - 0.1 = 0.10.
  assert.deepEqual(steps.map((s) => s.decision.arm), [3, 1, 2, 3, 3, 3]);
  assert.deepEqual(steps.map((s) => s.decision.reason), ["init", "ucb", "ucb", "ucb", "ucb", "ucb"]);
  assertAllClose(steps[0]!.state.rewardSums, [0.80, 0.75, 0.69]);
  assertAllClose(steps[1]!.decision.scores, [1.632555, 1.582555, 1.522555], 1e-6, "step 2 scores");
  assertAllClose(steps[2]!.decision.scores, [1.291152, 1.798147, 1.738147], 1e-6, "step 3 scores");
  assertAllClose(steps[2]!.state.rewardSums, [1.2, 0.75, 0.69]);
  assert.deepEqual(steps[2]!.state.counts, [3, 2, 1]);
  assertAllClose(steps[3]!.decision.scores, [1.079778, 1.207555, 1.867410], 1e-6, "step 4 scores");
  assert.deepEqual(steps[5]!.state.counts, [6, 5, 4]);
  assertAllClose(steps[5]!.state.rewardSums, [2.47, 2.47, 2.51]);
});

Deno.test("update() skips a shallower arm that needed the unobserved C_L (observed mode)", () => {
  const config = resolveConfig({ ...OPTIONS, sideInfo: true });
  // Arm 2 on r2 = [0.60, 0.80, 0.90]: C_2 = 0.80 exits on the device, so C_L is never seen. Arm 1 would have
  // offloaded (C_1 = 0.60 < 0.7) and its reward C_L - o - lambda needs C_L: no count, no reward.
  const next = update(emptyState(config), config, { arm: 2, confidences: [0.6, 0.8] });
  assert.deepEqual(next.counts, [0, 1, 0]);
  assertAllClose(next.rewardSums, [0, 0.6, 0]);
  // The same sample offloaded from arm 3's side: C_L observed at arm 3 -> arm 1 gets 0.90 - 0.5 - 0.1 = 0.30.
  const full = update(emptyState(config), config, { arm: 3, confidences: [0.6, 0.8, 0.9] });
  assert.deepEqual(full.counts, [1, 1, 1]);
  assertAllClose(full.rewardSums, [0.3, 0.6, 0.6]);
  // A confident shallower arm needs only its own C_j: arm 1 on [0.75, 0.65] offloaded with C_L = 0.9.
  const off = update(emptyState(config), config, { arm: 2, confidences: [0.75, 0.65], finalConfidence: 0.9 });
  assertAllClose(off.rewardSums, [0.65, 0.2, 0]);
});

Deno.test("update() in paper mode reads C_L from the full row for every shallower arm", () => {
  const config = resolveConfig({ ...OPTIONS, sideInfo: true, mode: "paper" });
  const next = update(emptyState(config), config, { arm: 2, confidences: [0.6, 0.8, 0.9] });
  assert.deepEqual(next.counts, [1, 1, 0]);
  assertAllClose(next.rewardSums, [0.3, 0.6, 0]);
  assert.throws(() => update(next, config, { arm: 2, confidences: [0.6, 0.8] }), /paper mode needs the full row/);
});

Deno.test("update() does not mutate its input and advances t even when the offload answer is missing", () => {
  const config = resolveConfig(OPTIONS);
  const before: PolicyState = Object.freeze({
    t: 4,
    counts: Object.freeze([1, 2, 1]),
    rewardSums: Object.freeze([0.5, 1.0, 0.4]),
  });
  // Arm 1 offloaded (C_1 = 0.5 < alpha) but no finalConfidence: the played arm's reward is unknown.
  const after = update(before, config, { arm: 1, confidences: [0.5] });
  assert.deepEqual(after, { t: 5, counts: [1, 2, 1], rewardSums: [0.5, 1.0, 0.4] });
  const learned = update(before, config, { arm: 1, confidences: [0.5], finalConfidence: 0.95 });
  assert.deepEqual(learned.counts, [2, 2, 1]);
  assertClose(learned.rewardSums[0], 0.5 + 0.95 - 0.5 - 0.1);
  assert.deepEqual(before.counts, [1, 2, 1]);
});

Deno.test("update() uses per-observation lambda and o (measured cost mode)", () => {
  const config = resolveConfig(OPTIONS);
  const s = update(emptyState(config), config, { arm: 1, confidences: [0.4], finalConfidence: 0.9, o: 0.2 });
  assertClose(s.rewardSums[0], 0.9 - 0.2 - 0.1);
  const s2 = update(emptyState(config), config, { arm: 2, confidences: [0.4, 0.8], lambda: 0.05 });
  assertClose(s2.rewardSums[1], 0.8 - 0.1);
});

Deno.test("update() rejects observations that cannot answer the decision", () => {
  const config = resolveConfig(OPTIONS);
  const s = emptyState(config);
  assert.throws(() => update(s, config, { arm: 4, confidences: [0.9] }), /arm 4 is outside 1\.\.3/);
  assert.throws(() => update(s, config, { arm: 2, confidences: [0.9] }), /arm 2 computes C_1\.\.C_2 but only 1/);
  assert.throws(() => update(s, config, { arm: 1, confidences: [1.2] }), /C_1 must be in \[0, 1\] \(got 1\.2\)/);
  assert.throws(() => update(s, config, { arm: 1, confidences: [] }), /1\.\.3 values \(got 0\)/);
  assert.throws(
    () => update(s, config, { arm: 1, confidences: [0.5], finalConfidence: Number.NaN }),
    /finalConfidence must be in \[0, 1\]/,
  );
  assert.throws(() => update(s, config, { arm: 1, confidences: [0.9], o: -1 }), /o must be a finite number >= 0/);
  const early = resolveConfig({ ...OPTIONS, exitRule: "first-confident" });
  assert.throws(() => update(emptyState(early), early, { arm: 3, confidences: [0.5] }), /stopped at layer 1 < arm 3/);
});

Deno.test("decide() with adaptive costs rescores arms at once when o changes", () => {
  const config = resolveConfig({ ...OPTIONS, sideInfo: true, adaptiveCosts: true, beta: 0 });
  // Arm 3 on [0.6, 0.65, 0.9]: arm 1 offload (0.9, 1 layer), arm 2 offload (0.9, 2 layers), arm 3 final (0.9, 3).
  let s = update(emptyState(config), config, { arm: 3, confidences: [0.6, 0.65, 0.9] });
  assert.deepEqual(s.offloads, [1, 1, 0]);
  assert.deepEqual(s.layerSums, [1, 2, 3]);
  assertAllClose(s.confidenceSums!, [0.9, 0.9, 0.9]);
  s = update(s, config, { arm: 1, confidences: [0.6], finalConfidence: 0.9 });
  // With o = 0.5: arm 1 mean 0.9 - 0.1 - 0.5 = 0.3, arm 3 0.9 - 0.3 = 0.6 -> arm 3.
  const cheapNetwork = decide(s, config, createPrng(1), { o: 0.05 });
  assertAllClose(cheapNetwork.scores, [0.75, 0.65, 0.6]);
  assert.equal(cheapNetwork.arm, 1);
  const slowNetwork = decide(s, config, createPrng(1));
  assertAllClose(slowNetwork.scores, [0.3, 0.2, 0.6]);
  assert.equal(slowNetwork.arm, 3);
  // Without adaptive costs the stale rewards stay: o = 0.05 changes nothing.
  const plain = resolveConfig({ ...OPTIONS, sideInfo: true, beta: 0 });
  let p = update(emptyState(plain), plain, { arm: 3, confidences: [0.6, 0.65, 0.9] });
  p = update(p, plain, { arm: 1, confidences: [0.6], finalConfidence: 0.9 });
  assert.equal(decide(p, plain, createPrng(1), { o: 0.05 }).arm, 3);
});

Deno.test("decide() with the first-confident rule learns from the exit it took (SplitEE-S-early)", () => {
  const config = resolveConfig({ ...OPTIONS, sideInfo: true, exitRule: "first-confident" });
  // Arm 3 but C_1 = 0.9 exits at layer 1: arm 1 and 2 plans would have exited there too -> all get 0.8; arm 3
  // (the played arm) also 0.8.
  const s = update(emptyState(config), config, { arm: 3, confidences: [0.9] });
  assert.deepEqual(s.counts, [1, 1, 1]);
  assertAllClose(s.rewardSums, [0.8, 0.8, 0.8]);
  // Arm 3 exiting at layer 2 ([0.6, 0.8]): arm 1 would have offloaded (C_L unseen) -> skipped.
  const s2 = update(emptyState(config), config, { arm: 3, confidences: [0.6, 0.8] });
  assert.deepEqual(s2.counts, [0, 1, 1]);
  assertAllClose(s2.rewardSums, [0, 0.6, 0.6]);
  const d = decide(emptyState(config), config, createPrng(1));
  assert.deepEqual([d.arm, d.exitRule, d.reason], [3, "first-confident", "init"]);
});
