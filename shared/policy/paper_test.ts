import assert from "node:assert/strict";
import { createPrng } from "../prng.ts";
import { resolveConfig } from "./config.ts";
import { paperWarmUp } from "./paper.ts";
import { createPolicy } from "./registry.ts";
import { emptyState, reportedArm } from "./state.ts";
import { assertAllClose, replayRows, TINY } from "./testing.ts";

const OPTIONS = { layers: 3, alpha: 0.7, lambda: 0.1, o: 0.5 };

Deno.test("paperWarmUp() plays arm k on sample k without advancing t or using side information", () => {
  const config = resolveConfig({ ...OPTIONS, mode: "paper", sideInfo: true });
  const s = paperWarmUp(emptyState(config), config, TINY.slice(0, 3));
  // arm 1 on r1: 0.90 - 0.1; arm 2 on r2: 0.80 - 0.2; arm 3 on r3: 0.70 - 0.3.
  assert.equal(s.t, 0);
  assert.deepEqual(s.counts, [1, 1, 1]);
  assertAllClose(s.rewardSums, [0.8, 0.6, 0.4]);
  assert.throws(() => paperWarmUp(emptyState(config), config, TINY.slice(0, 2)), /needs 3 samples, got 2/);
  assert.throws(() => paperWarmUp(emptyState(config), config, [[0.9], [0.9], [0.9]]), /row 1 has 1 confidences/);
});

Deno.test("splitee-paper reproduces the official loop: warm-up, then ln(trial + 1) from the first sample again", () => {
  const policy = createPolicy("splitee-paper", OPTIONS, { prng: createPrng(1) });
  assert.equal(policy.warmUpSamples, 3);
  const steps = replayRows(policy, TINY, createPrng(1));
  // Trial 0: ln(1) = 0, the index is the mean [0.8, 0.6, 0.4] -> arm 1 on r1 again (0.8).
  // Trial 1: ln 2: [0.8 + 0.588705, 0.6 + 0.832555, 0.4 + 0.832555] -> arm 2 on r2 (0.6).
  // Trial 2: ln 3: [0.8 + 0.741152, 0.6 + 0.741152, 0.4 + 1.048147] -> arm 1 on r3: C_1 = 0.55 -> 0.70 - 0.6 = 0.1.
  assert.deepEqual(steps.map((s) => s.decision.arm), [1, 2, 1, 3, 2, 3]);
  assertAllClose(steps[0]!.decision.scores, [0.8, 0.6, 0.4]);
  assertAllClose(steps[1]!.decision.scores, [1.388705, 1.432555, 1.232555], 1e-6);
  assertAllClose(steps[2]!.decision.scores, [1.541152, 1.341152, 1.448147], 1e-6);
  const last = steps[5]!.state;
  assert.equal(last.t, 6);
  assert.deepEqual(last.counts, [3, 3, 3]);
  assertAllClose(last.rewardSums, [1.7, 1.75, 1.67]);
  assert.equal(reportedArm(last), 2);
});

Deno.test("splitee-s-paper side-updates with C_L from the matrix where observed mode would skip", () => {
  const steps = replayRows(createPolicy("splitee-s-paper", OPTIONS, { prng: createPrng(1) }), TINY, createPrng(1));
  assert.deepEqual(steps.map((s) => s.decision.arm), [1, 2, 3, 3, 3, 3]);
  // Trial 1, arm 2 on r2 exits at C_2 = 0.80; arm 1 (C_1 = 0.60) gets C_L - o - lambda = 0.90 - 0.6 = 0.30 from the
  // matrix although a deployment never saw C_L for this sample.
  assert.deepEqual(steps[1]!.state.counts, [3, 2, 1]);
  assertAllClose(steps[1]!.state.rewardSums, [1.9, 1.2, 0.4]);
  assertAllClose(steps[2]!.decision.scores, [1.238481, 1.341152, 1.448147], 1e-6);
  assert.deepEqual(steps[5]!.state.counts, [7, 6, 5]);
  assertAllClose(steps[5]!.state.rewardSums, [3.27, 2.92, 2.62]);
  assert.equal(reportedArm(steps[5]!.state), 1);
  // The observed replay of the same stream learns differently (it starts at arm 3 and never reads unseen C_L).
  const observed = replayRows(createPolicy("splitee-s", OPTIONS, { prng: createPrng(1) }), TINY, createPrng(1));
  assert.deepEqual(observed.map((s) => s.decision.arm), [3, 1, 2, 3, 3, 3]);
});
