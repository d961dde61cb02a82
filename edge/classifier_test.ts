import { expect } from "expect";
import { createPolicy, type PolicyState } from "../shared/policy/mod.ts";
import { createPrng } from "../shared/prng.ts";
import { ProblemError } from "../shared/problem.ts";
import { WordPieceTokenizer } from "../shared/tokenizer/mod.ts";
import { type ClassifierDeps, classify, type DecisionLogEntry } from "./classifier.ts";
import type { FallbackMode } from "./config.ts";
import { CostMeter } from "./cost_meter.ts";
import { OffloadError, type OffloadResult } from "./offload_client.ts";
import { PolicyStore } from "./policy_store.ts";
import { RecentWindow } from "./recent_window.ts";
import { loadModelFiles, scriptedRunner } from "./testing.ts";

const { manifest, vocabText } = await loadModelFiles();
const tokenizer = new WordPieceTokenizer(vocabText, { maxLength: manifest.maxLength });
const L = manifest.layers;

interface Setup {
  policy?: string;
  confidenceOf?: (k: number) => number;
  offload?: ClassifierDeps["offload"];
  fallback?: FallbackMode;
}

async function setup(s: Setup = {}) {
  const kv = await Deno.openKv(":memory:");
  const prng = createPrng(1);
  const policy = createPolicy(s.policy ?? "splitee-s", { layers: L, alpha: 0.7, lambda: 0.1, o: 0.5 }, { prng });
  const store = await PolicyStore.open({
    kv,
    prefix: ["t"],
    shape: { layers: L, adaptiveCosts: policy.config.adaptiveCosts },
    syncMs: 0,
  });
  const runner = scriptedRunner(L, manifest.hiddenSize, s.confidenceOf ?? ((k) => (k >= 6 ? 0.9 : 0.6)));
  const offloads: Array<{ splitLayer: number; dims: readonly [number, number] }> = [];
  const log: DecisionLogEntry[] = [];
  const deps: ClassifierDeps = {
    manifest,
    tokenizer,
    runner,
    policy,
    store,
    prng,
    offload: s.offload ?? ((input) => {
      offloads.push({ splitLayer: input.splitLayer, dims: input.dims });
      return Promise.resolve(gatewayResult([-2, 2]));
    }),
    costs: new CostMeter({
      mode: "constant",
      lambda: 0.1,
      o: 0.5,
      msPerUnit: 10,
      weight: 0.2,
      halfLifeMs: 1e4,
      failurePenalty: 1,
    }),
    fallback: s.fallback ?? "edge-exit",
    recent: new RecentWindow(),
    log: (e) => log.push(e),
  };
  const close = async () => {
    await store.close();
    kv.close();
  };
  return { deps, runner, store, offloads, log, close };
}

function gatewayResult(logits: number[]): OffloadResult {
  return {
    logits,
    exitLayer: L,
    payloadBytes: 1000,
    responseBytes: 50,
    encodeMs: 0.1,
    rttMs: 5,
    gatewayMs: 2,
    commMs: 3,
  };
}

Deno.test("classify() exits on the edge when the split layer's exit is confident", async () => {
  const t = await setup({ policy: "fixed-7" });
  const r = await classify(t.deps, { text: "a charming and often affecting journey" });
  expect(r).toMatchObject({ splitLayer: 7, exitLayer: 7, answeredBy: "edge", degraded: false, label: "positive" });
  expect(t.runner.calls).toEqual([1, 2, 3, 4, 5, 6, 7]);
  expect(t.offloads).toHaveLength(0);
  expect(r.exitConfidences).toHaveLength(7);
  expect(r.exitConfidences[6]).toBeCloseTo(0.9, 6);
  expect(r.probabilities[1]).toBeCloseTo(0.9, 6);
  expect(r.costs.lambdaUnits).toBeCloseTo(0.7, 9);
  expect(r.costs.measured.commMs).toBeNull();
  const s: PolicyState = t.store.state();
  expect(s.counts[6]).toBe(1);
  expect(s.rewardSums[6]).toBeCloseTo(0.9 - 0.7, 6);
  await t.close();
});

Deno.test("classify() offloads an unconfident split, answers from the gateway and learns C_L", async () => {
  const t = await setup({ policy: "fixed-3" });
  const r = await classify(t.deps, { text: "unflinchingly bleak and desperate" });
  expect(r).toMatchObject({ splitLayer: 3, exitLayer: L, answeredBy: "gateway", degraded: false, label: "positive" });
  expect(t.runner.calls).toEqual([1, 2, 3]);
  expect(t.offloads).toEqual([{ splitLayer: 3, dims: [r.tokens, manifest.hiddenSize] }]);
  const cL = 1 / (1 + Math.exp(-4));
  expect(r.probabilities[1]).toBeCloseTo(cL, 6);
  expect(r.costs).toMatchObject({ lambda: 0.1, o: 0.5 });
  expect(r.costs.lambdaUnits).toBeCloseTo(0.3 + 0.5, 9);
  expect(r.costs.measured).toMatchObject({ commMs: 3, gatewayMs: 2, payloadBytes: 1000 });
  expect(t.store.state().rewardSums[2]).toBeCloseTo(cL - 0.3 - 0.5, 6);
  expect(t.log[0]!.observation.finalConfidence).toBeCloseTo(cL, 6);
  await t.close();
});

Deno.test("classify() decides before running: SplitEE-S starts with arm L, which answers on the edge", async () => {
  const t = await setup();
  const r = await classify(t.deps, { text: "it 's a charming and often affecting journey ." });
  expect(r).toMatchObject({ splitLayer: L, exitLayer: L, answeredBy: "edge", degraded: false });
  expect(t.runner.calls).toHaveLength(L);
  expect(t.log[0]).toMatchObject({ arm: L, reason: "init", offloaded: false });
  // Arm L reveals C_1..C_L, so SplitEE-S initialises every arm from one sample.
  expect(t.store.state().counts.every((n) => n === 1)).toBe(true);
  await t.close();
});

Deno.test("classify() falls back to the deepest computed exit when the gateway fails and charges the failure", async () => {
  const t = await setup({
    policy: "fixed-3",
    offload: () => Promise.reject(new OffloadError("refused", "Gateway refused the connection", 1)),
  });
  const r = await classify(t.deps, { text: "bleak" });
  expect(r).toMatchObject({
    splitLayer: 3,
    exitLayer: 3,
    answeredBy: "edge",
    degraded: true,
    degradedReason: "refused",
  });
  expect(r.probabilities[1]).toBeCloseTo(0.6, 6);
  expect(r.costs.o).toBe(1.5); // o + failure penalty
  expect(t.store.state().counts[2]).toBe(1);
  expect(t.store.state().rewardSums[2]).toBeCloseTo(0.6 - 0.3 - 1.5, 6);
  await t.close();
});

Deno.test("classify() with edge-complete fallback runs the remaining layers on the edge", async () => {
  const t = await setup({
    policy: "fixed-3",
    fallback: "edge-complete",
    offload: () => Promise.reject(new OffloadError("timeout", "Gateway did not answer", 2000)),
  });
  const r = await classify(t.deps, { text: "bleak" });
  expect(r).toMatchObject({
    splitLayer: 3,
    exitLayer: L,
    answeredBy: "edge",
    degraded: true,
    degradedReason: "timeout",
  });
  expect(t.runner.calls).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
  expect(r.probabilities[1]).toBeCloseTo(0.9, 6);
  expect(r.exitConfidences).toHaveLength(3); // the split's exits; the fallback layers are not the policy's edge work
  expect(t.log[0]!.observation.finalConfidence).toBeCloseTo(0.9, 6);
  await t.close();
});

Deno.test("classify() with the first-confident rule stops at the first confident exit before the split", async () => {
  const t = await setup({ policy: "splitee-s-early", confidenceOf: (k) => (k === 2 ? 0.8 : 0.55) });
  t.deps.store.apply(() => ({
    t: 1,
    counts: new Array(L).fill(1),
    rewardSums: new Array(L).fill(0).map((_, i) => (i === 9 ? 1 : 0)),
  }));
  const r = await classify(t.deps, { text: "fine" });
  expect(r.splitLayer).toBe(10);
  expect(r).toMatchObject({ exitLayer: 2, answeredBy: "edge" });
  expect(t.runner.calls).toEqual([1, 2]);
  await t.close();
});

Deno.test("classify() answers a pinned split with early exits off from the gateway and leaves the policy as it was", async () => {
  const t = await setup(); // splitee-s; exit 2 is confident, so only earlyExit: false makes it offload
  const before = structuredClone(t.store.state());
  const costsBefore = t.deps.costs.snapshot();
  const r = await classify(t.deps, { text: "a charming and often affecting journey", split: 2, earlyExit: false });
  expect(r).toMatchObject({ splitLayer: 2, pinned: true, exitLayer: L, answeredBy: "gateway", degraded: false });
  expect(t.runner.calls).toEqual([1, 2]);
  expect(t.offloads).toEqual([{ splitLayer: 2, dims: [r.tokens, manifest.hiddenSize] }]);
  expect(r.costs.lambdaUnits).toBe(0.7); // 0.1 * 2 + 0.5, without float noise
  expect(t.store.state()).toEqual(before);
  expect(t.store.stats().updates).toBe(0);
  expect(t.deps.costs.snapshot()).toEqual(costsBefore);
  expect(t.deps.recent.summary().size).toBe(0);
  expect(t.log.map((e) => [e.arm, e.reason])).toEqual([[2, "pinned"]]);
  // A pinned split with early exits on exits at the split when it is confident; still nothing learned.
  const exitAt7 = await classify(t.deps, { text: "fine", split: 7 });
  expect(exitAt7).toMatchObject({ splitLayer: 7, pinned: true, exitLayer: 7, answeredBy: "edge" });
  // earlyExit: false alone keeps the policy's split but offloads it.
  const unpinnedSplit = await classify(t.deps, { text: "fine", earlyExit: false });
  expect(unpinnedSplit).toMatchObject({ pinned: true, splitLayer: L, exitLayer: L, answeredBy: "edge" }); // init: L
  expect(t.store.state()).toEqual(before);
  // The next ordinary request is decided and learned as usual.
  const normal = await classify(t.deps, { text: "fine" });
  expect(normal.pinned).toBe(false);
  expect(t.store.state().t).toBe(1);
  await t.close();
});

Deno.test("classify() labels every probability in scores", async () => {
  const t = await setup({ policy: "fixed-7" });
  const r = await classify(t.deps, { text: "a charming and often affecting journey" });
  expect(r.scores.map((s) => s.label)).toEqual(manifest.labels);
  expect(r.scores.map((s) => s.score)).toEqual(r.probabilities);
  expect(r.scores[r.labelIndex]!.label).toBe(r.label);
  await t.close();
});

Deno.test("classify() refuses a text with no token after normalisation (zero-width, control) with a 422, learning nothing", async () => {
  const t = await setup();
  for (const text of ["\u200b\u200b", "\u0000\u200d \ufeff", "\u00ad"]) {
    const e = await classify(t.deps, { text }).then(() => undefined, (e) => e);
    expect(e).toBeInstanceOf(ProblemError);
    expect([e.status, e.slug, e.extensions.errors[0].field]).toEqual([422, "invalid-request", "text"]);
    expect(e.detail).toContain("Has no token the model can read");
  }
  expect(t.runner.calls).toEqual([]);
  expect(t.store.state().t).toBe(0);
  expect(t.log).toHaveLength(0);
  // One real character is enough, even one the vocabulary lacks ([UNK]).
  expect((await classify(t.deps, { text: "\u200bok" })).tokens).toBe(3);
  await t.close();
});
