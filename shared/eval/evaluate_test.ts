import assert from "node:assert/strict";
import { createPrng, mixSeed, shuffledIndices } from "../prng.ts";
import { createPolicy } from "../policy/registry.ts";
import { evaluate } from "./evaluate.ts";
import { parseExitsJsonl } from "./matrix.ts";
import { fixedArmMeans, replayRun } from "./replay.ts";
import { syntheticExits } from "./synthetic.ts";
import { TINY_JSONL } from "./testing.ts";

const m = parseExitsJsonl(TINY_JSONL);
const close = (a: number | null | undefined, b: number, tol = 1e-9) =>
  assert.ok(a !== null && a !== undefined && Math.abs(a - b) <= tol, `expected ${b} got ${a}`);
const byName = (rs: ReturnType<typeof evaluate>) => Object.fromEntries(rs.map((r) => [r.policy, r]));

Deno.test("fixedArmMeans() matches the hand-computed mean rewards of the tiny stream", () => {
  // o = 0.5: arm 1 [0.8, 0.3, 0.1, 0.7, 0.25, 0.32, 0.6, 0.65] / 8; arm 2 3.52 / 8; arm 3 mean(C_3) - 0.3.
  const means = fixedArmMeans(m, 0.7, 0.1, 0.5);
  close(means[0], 3.72 / 8);
  close(means[1], 3.52 / 8);
  close(means[2], 6.76 / 8 - 0.3);
});

Deno.test("evaluate() gives the hand-computed values for the fixed baselines", () => {
  const r = byName(evaluate(m, {
    alpha: 0.7,
    os: [0.5],
    runs: 3,
    policies: ["final", "fixed-1", "offload-all", "early-exit", "oracle"],
  }));
  // final: every sample to layer 3; 6 of 7 labelled correct (the last is wrong at exit 3).
  close(r.final!.accuracy, 6 / 7);
  close(r.final!.cost, 0.3);
  close(r.final!.costReduction, 0);
  close(r.final!.meanReward, 0.545);
  assert.deepEqual(r.final!.arms, { "1": 0, "2": 0, "3": 1 });
  assert.deepEqual(r.final!.exits, { "1": 0, "2": 0, "3": 1, cloud: 0 });
  // fixed-1: exits 4 samples at layer 1 (one wrong), offloads 4 (all right): cost (4 * 0.1 + 4 * 0.6) / 8.
  close(r["fixed-1"]!.accuracy, 6 / 7);
  close(r["fixed-1"]!.cost, 0.35);
  close(r["fixed-1"]!.costReduction, 1 - 0.35 / 0.3);
  close(r["fixed-1"]!.offloadRate, 0.5);
  assert.deepEqual(r["fixed-1"]!.exits, { "1": 0.5, "2": 0, "3": 0, cloud: 0.5 });
  close(r["offload-all"]!.cost, 0.6);
  close(r["offload-all"]!.offloadRate, 1);
  // early-exit: layers 1 + 2 + 3 + 1 + 2 + 2 + 1 + 1 = 13.
  close(r["early-exit"]!.cost, 13 / 80);
  close(r["early-exit"]!.accuracy, 6 / 7);
  assert.deepEqual(r["early-exit"]!.exits, { "1": 0.5, "2": 0.375, "3": 0.125, cloud: 0 });
  // The best fixed arm here is arm 3: the oracle is the final exit and has zero regret.
  assert.equal(r.oracle!.bestFixedArm, 3);
  assert.deepEqual(r.oracle!.arms, { "1": 0, "2": 0, "3": 1 });
  assert.equal(r.oracle!.regret2000, 0);
  assert.equal(r.oracle!.regretAt, 8);
  // fixed-1 loses 0.545 - 0.465 per sample against arm 3.
  close(r["fixed-1"]!.regret2000, 8 * (0.545 - 0.465));
});

Deno.test("evaluate() is seeded: same seed same numbers, other seed other orders", () => {
  const s = syntheticExits({ samples: 600, seed: 4 });
  const opts = { alpha: 0.7, os: [0.3], runs: 2, policies: ["splitee-s", "random"] };
  const a = evaluate(s, { ...opts, seed: 5 });
  assert.deepEqual(a, evaluate(s, { ...opts, seed: 5 }));
  assert.notDeepEqual(a[0]!.regretCurve, evaluate(s, { ...opts, seed: 6 })[0]!.regretCurve);
});

Deno.test("evaluate() averages replayRun() over the seeded runs", () => {
  const s = syntheticExits({ samples: 300, seed: 2 });
  const [res] = evaluate(s, { alpha: 0.7, os: [0.5], runs: 1, seed: 9, policies: ["splitee-s"], horizon: 100 });
  // Rebuild run 0 by hand with the documented seeding.
  const order = shuffledIndices(300, createPrng(mixSeed(9, 0)));
  const means = fixedArmMeans(s, 0.7, 0.1, 0.5);
  const bestArm = means.indexOf(Math.max(...means)) + 1;
  const policyPrng = createPrng(mixSeed(9, 0, 1));
  const policy = createPolicy("splitee-s", { layers: 12, alpha: 0.7, o: 0.5 }, { prng: policyPrng });
  const stats = replayRun({ matrix: s, order, policy, lambda: 0.1, o: 0.5, prng: policyPrng, bestArm, horizon: 100 });
  close(res!.cost, stats.cost / 300);
  close(res!.accuracy, stats.correct / stats.labelled);
  close(res!.regret2000, stats.regret[99]!);
  assert.equal(res!.regretCurve.length, 100);
  const armShares = Object.values(res!.arms).reduce((a, b) => a + b, 0);
  close(armShares, 1);
  const exitShares = Object.values(res!.exits).reduce((a, b) => a + b, 0);
  close(exitShares, 1);
});

Deno.test("evaluate() runs the paper warm-up and rejects streams shorter than L for paper policies", () => {
  const [res] = evaluate(m, { alpha: 0.7, os: [0.5], runs: 2, policies: ["splitee-s-paper"] });
  // The warm-up serves no sample: every one of the 8 samples is decided once in the main loop.
  close(Object.values(res!.arms).reduce((a, b) => a + b, 0), 1);
  const short = parseExitsJsonl(TINY_JSONL.split("\n").slice(0, 2).join("\n"));
  assert.throws(
    () => evaluate(short, { alpha: 0.7, policies: ["splitee-paper"] }),
    /splitee-paper needs at least 3 samples for its warm-up \(got 2\)/,
  );
  assert.throws(() => evaluate(m, { alpha: 0.7, policies: ["nope"] }), /Unknown policy "nope"/);
  assert.throws(() => evaluate(m, { alpha: 0.7, runs: 0 }), /runs must be an integer >= 1/);
});

Deno.test("evaluate() with an o schedule charges each segment its own o", () => {
  const [res] = evaluate(m, { alpha: 0.7, oSchedule: [0.1, 0.9], runs: 4, policies: ["offload-all"] });
  // Every sample offloads after layer 1: half the stream pays 0.1, half 0.9.
  close(res!.cost, 0.1 + (0.1 + 0.9) / 2);
  assert.equal(res!.o, null);
  assert.deepEqual(res!.oSchedule, [0.1, 0.9]);
});
