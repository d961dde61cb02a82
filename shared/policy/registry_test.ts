import assert from "node:assert/strict";
import { createPrng } from "../prng.ts";
import { PolicyConfigError } from "./config.ts";
import { nextAction } from "./outcome.ts";
import { createPolicy, DEFAULT_POLICIES, isPolicyName, POLICY_NAMES, UnknownPolicyError } from "./registry.ts";
import { replayRows, TINY } from "./testing.ts";

const OPTIONS = { layers: 3, alpha: 0.7, lambda: 0.1, o: 0.5 };
const ctx = { prng: createPrng(1) };

Deno.test("the registry holds the issue's names plus the improved policies", () => {
  assert.deepEqual([...POLICY_NAMES], [
    "splitee",
    "splitee-s",
    "splitee-paper",
    "splitee-s-paper",
    "splitee-s-early",
    "splitee-s-adaptive",
    "splitee-s-early-adaptive",
    "final",
    "offload-all",
    "random",
    "oracle",
    "early-exit",
  ]);
  assert.equal(DEFAULT_POLICIES.length, 12);
  assert.ok(isPolicyName("fixed-3", 3));
  assert.ok(!isPolicyName("fixed-4", 3));
  assert.ok(!isPolicyName("fixed-0", 3));
  assert.ok(!isPolicyName("toString", 3));
});

Deno.test("createPolicy() sets the variant from the name", () => {
  const c = (name: string) => createPolicy(name, { ...OPTIONS, mode: "paper" }, ctx).config;
  assert.deepEqual([c("splitee").mode, c("splitee").sideInfo], ["observed", false]);
  assert.deepEqual([c("splitee-s").mode, c("splitee-s").sideInfo], ["observed", true]);
  assert.deepEqual([c("splitee-s-paper").mode, c("splitee-s-paper").sideInfo], ["paper", true]);
  assert.equal(c("splitee-s-early").exitRule, "first-confident");
  assert.equal(c("splitee-s-adaptive").adaptiveCosts, true);
  assert.deepEqual(
    [c("splitee-s-early-adaptive").exitRule, c("splitee-s-early-adaptive").adaptiveCosts],
    ["first-confident", true],
  );
});

Deno.test("baselines play their fixed plan on every sample", () => {
  const plan = (name: string, extra = {}) => {
    const steps = replayRows(createPolicy(name, OPTIONS, { ...ctx, ...extra }), TINY, createPrng(1));
    const arms = new Set(steps.map((s) => `${s.decision.arm}/${s.decision.exitRule}/${s.decision.reason}`));
    return [...arms];
  };
  assert.deepEqual(plan("final"), ["3/split/fixed"]);
  assert.deepEqual(plan("offload-all"), ["1/never/fixed"]);
  assert.deepEqual(plan("early-exit"), ["3/first-confident/fixed"]);
  assert.deepEqual(plan("fixed-2"), ["2/split/fixed"]);
  assert.deepEqual(plan("oracle", { hindsightMeans: [0.1, 0.5, 0.4] }), ["2/split/fixed"]);
});

Deno.test("baselines record their own rewards: offload-all always pays o after layer 1", () => {
  const steps = replayRows(createPolicy("offload-all", OPTIONS, ctx), TINY, createPrng(1));
  const last = steps[5]!.state;
  assert.deepEqual(last.counts, [6, 0, 0]);
  // Sum over rows of C_L - 0.5 - 0.1.
  const expected = TINY.reduce((s, r) => s + r[2]! - 0.6, 0);
  assert.ok(Math.abs(last.rewardSums[0]! - expected) < 1e-9);
});

Deno.test("random draws its arm once from the prng", () => {
  const arms = Array.from({ length: 30 }, (_, i) => {
    const p = createPolicy("random", OPTIONS, { prng: createPrng(i) });
    const s = p.initialState();
    const d1 = p.decide(s, createPrng(99));
    const d2 = p.decide(s, createPrng(100));
    assert.equal(d1.arm, d2.arm);
    return d1.arm;
  });
  assert.deepEqual([...new Set(arms)].sort(), [1, 2, 3]);
  const again = createPolicy("random", OPTIONS, { prng: createPrng(5) }).decide(
    { t: 0, counts: [], rewardSums: [] },
    ctx.prng,
  );
  assert.equal(again.arm, arms[5]);
});

Deno.test("createPolicy() errors name the problem", () => {
  assert.throws(() => createPolicy("ucb", OPTIONS, ctx), UnknownPolicyError);
  assert.throws(
    () => createPolicy("fixed-4", OPTIONS, ctx),
    /Unknown policy "fixed-4"; known: splitee, .*fixed-1\.\.fixed-3/,
  );
  assert.throws(() => createPolicy("oracle", OPTIONS, ctx), PolicyConfigError);
  assert.throws(() => createPolicy("splitee", { layers: 3, alpha: 2 }, ctx), /alpha must be a number in \[0, 1\]/);
});

Deno.test("maxArm: a device holding layers 1..K plays only arms 1..K, and arm K offloads like any split below L", () => {
  const prng = createPrng(1);
  const options = { layers: 12, maxArm: 4, alpha: 0.9 };
  const s = createPolicy("splitee-s", options, { prng });
  assert.equal(s.config.maxArm, 4);
  let state = s.initialState();
  const first = s.decide(state, prng);
  assert.equal(first.arm, 4, "SplitEE-S initialises from the deepest arm it may play");
  assert.equal(first.scores.length, 4);
  // Exit 4 is unsure: the device offloads after layer 4 and learns C_L from the gateway.
  assert.equal(nextAction(first, 4, 0.6, s.config), "offload");
  assert.equal(nextAction(first, 4, 0.95, s.config), "exit");
  state = s.update(state, { arm: 4, confidences: [0.5, 0.6, 0.7, 0.6], finalConfidence: 0.99 });
  assert.deepEqual(state.counts.slice(0, 5), [1, 1, 1, 1, 0]);
  for (let i = 0; i < 50; i++) {
    const d = s.decide(state, prng);
    assert.ok(d.arm >= 1 && d.arm <= 4);
    state = s.update(state, { arm: d.arm, confidences: [0.5, 0.6, 0.7, 0.6].slice(0, d.arm), finalConfidence: 0.99 });
  }
  assert.throws(() => s.update(state, { arm: 5, confidences: [0.5, 0.5, 0.5, 0.5, 0.5] }), /outside 1\.\.4/);
  const final = createPolicy("final", options, { prng });
  assert.deepEqual([final.decide(state, prng).arm, final.decide(state, prng).exitRule], [4, "never"]);
  assert.equal(createPolicy("early-exit", options, { prng }).decide(state, prng).arm, 4);
  assert.equal(createPolicy("fixed-4", options, { prng }).decide(state, prng).arm, 4);
  assert.throws(() => createPolicy("fixed-5", options, { prng }), /Unknown policy/);
  assert.throws(() => createPolicy("splitee-paper", options, { prng }), /maxArm must equal layers/);
  assert.throws(
    () => createPolicy("splitee", { ...options, maxArm: 13 }, { prng }),
    /maxArm must be an integer in 1\.\.layers/,
  );
});
