/**
 * The batcher with the real onnxruntime-node runner over models/sentiment (batched equals unbatched) and with a
 * recording fake runner and injected timers (grouping, window, max batch, errors).
 */
import assert from "node:assert/strict";
import { float32Tensor, runLayers } from "../shared/model_io.ts";
import { createPrng } from "../shared/prng.ts";
import type { Float32Tensor, LayerOutput, SegmentRunner } from "../shared/tensor.ts";
import { type BatchInput, createBatcher, lengthBucket } from "./batcher.ts";
import { loadNodeRunner } from "./runtime/onnx.ts";

const MODEL_DIR = new URL("../models/sentiment/", import.meta.url).pathname;

function randomInput(split: number, tokens: number, d: number, seed: number): BatchInput {
  const prng = createPrng(seed);
  return {
    splitLayer: split,
    tokens,
    hidden: Float32Array.from({ length: tokens * d }, () => (prng.next() - 0.5) * 2),
    attentionMask: Uint8Array.from({ length: tokens }, (_, j) => j === tokens - 1 && tokens > 3 ? 0 : 1),
  };
}

/** A fake runner that records every layer call's batch shape; logits row r = [sum of row r's hidden * mask, k]. */
function fakeRunner(layers = 3, fail?: (k: number, b: number) => boolean) {
  const calls: { k: number; dims: readonly number[] }[] = [];
  const runner: SegmentRunner = {
    layers,
    embed: () => Promise.reject(new Error("not used")),
    layer(k: number, hidden: Float32Tensor, mask: Float32Tensor): Promise<LayerOutput> {
      calls.push({ k, dims: hidden.dims });
      const [b, t, d] = hidden.dims as [number, number, number];
      if (fail?.(k, b)) return Promise.reject(new Error(`layer ${k} failed`));
      const logits = new Float32Array(b * 2);
      for (let r = 0; r < b; r++) {
        let s = 0;
        for (let j = 0; j < t; j++) {
          for (let i = 0; i < d; i++) s += hidden.data[(r * t + j) * d + i]! * mask.data[r * t + j]!;
        }
        logits[r * 2] = s;
        logits[r * 2 + 1] = k;
      }
      return Promise.resolve({ hidden, logits: float32Tensor(logits, [b, 2]) });
    },
    dispose: () => Promise.resolve(),
  };
  return { runner, calls };
}

/** Timers that fire only when the test says so. */
function manualTimers() {
  const timers: { fn: () => void; ms: number }[] = [];
  return {
    timers,
    setTimer: (fn: () => void, ms: number) => void timers.push({ fn, ms }),
    fireAll: () => timers.splice(0).forEach((t) => t.fn()),
  };
}

const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("lengthBucket() rounds T up to a power of two", () => {
  assert.deepEqual([1, 2, 3, 4, 5, 17, 25, 32, 33].map(lengthBucket), [1, 2, 4, 4, 8, 32, 32, 32, 64]);
});

Deno.test("batched logits equal unbatched logits within 1e-5 for different lengths and one split layer", async () => {
  const runner = await loadNodeRunner(MODEL_DIR, { preload: "all", intraOpThreads: 1 });
  try {
    const d = runner.manifest.hiddenSize;
    const split = 1;
    // 17..32 tokens share one bucket, so these six run as one padded batch.
    const inputs = [17, 25, 32, 20, 29, 18].map((t, i) => randomInput(split, t, d, 100 + i));
    const batcher = createBatcher(runner, d, { maxBatch: 16, waitMs: 5 });
    const outs = await Promise.all(inputs.map((x) => batcher.submit(x)));
    for (const [i, x] of inputs.entries()) {
      assert.equal(outs[i]!.batchSize, inputs.length);
      assert.equal(outs[i]!.paddedTokens, 32);
      const hidden = float32Tensor(x.hidden, [1, x.tokens, d]);
      const mask = float32Tensor(Float32Array.from(x.attentionMask), [1, x.tokens]);
      const alone = (await runLayers(runner, hidden, mask, split + 1, runner.layers)).logits.at(-1)!.data;
      assert.equal(outs[i]!.logits.length, alone.length);
      alone.forEach((v, c) =>
        assert.ok(Math.abs(v - outs[i]!.logits[c]!) <= 1e-5, `request ${i} logit ${c}: ${outs[i]!.logits[c]} vs ${v}`)
      );
    }
  } finally {
    await runner.dispose();
  }
});

Deno.test("requests with different split layers or length buckets are never mixed", async () => {
  const { runner, calls } = fakeRunner(4);
  const t = manualTimers();
  const batcher = createBatcher(runner, 2, { maxBatch: 16, waitMs: 2, setTimer: t.setTimer });
  const inputs = [
    randomInput(1, 5, 2, 1),
    randomInput(2, 5, 2, 2),
    randomInput(1, 6, 2, 3),
    randomInput(1, 3, 2, 4), // bucket 4, apart from 5 and 6 (bucket 8)
  ];
  const outs = Promise.all(inputs.map((x) => batcher.submit(x)));
  assert.equal(t.timers.length, 3, "one window per (split, bucket) group");
  t.fireAll();
  const got = await outs;
  assert.deepEqual(got.map((o) => o.batchSize), [2, 1, 2, 1]);
  // First layer of each batch: split 1 batches start at layer 2, the split 2 one at layer 3.
  const firsts = calls.filter((c) => c.dims[0] === 2).map((c) => c.k);
  assert.deepEqual(firsts, [2, 3, 4]);
  assert.ok(calls.some((c) => c.k === 3 && c.dims[0] === 1 && c.dims[1] === 5), "split 2 runs alone from layer 3");
  // Each row's logits are its own: sum of its masked hidden state.
  for (const [i, x] of inputs.entries()) {
    let s = 0;
    for (let j = 0; j < x.tokens; j++) for (let k = 0; k < 2; k++) s += x.hidden[j * 2 + k]! * x.attentionMask[j]!;
    assert.ok(Math.abs(got[i]!.logits[0]! - s) < 1e-4, `request ${i}`);
  }
});

Deno.test("a group waits for its window, and runs at once when it reaches maxBatch", async () => {
  const { runner, calls } = fakeRunner(2);
  const t = manualTimers();
  const batcher = createBatcher(runner, 2, { maxBatch: 3, waitMs: 7, setTimer: t.setTimer });
  const settled: number[] = [];
  const a = batcher.submit(randomInput(1, 4, 2, 1)).then((o) => settled.push(o.batchSize));
  const b = batcher.submit(randomInput(1, 4, 2, 2)).then((o) => settled.push(o.batchSize));
  await tick();
  assert.equal(calls.length, 0, "nothing runs before the window closes");
  assert.equal(batcher.pending, 2);
  assert.deepEqual(t.timers.map((x) => x.ms), [7]);
  // Three more: the first of them fills the open group to maxBatch (3) and runs; the next two open a new group.
  const c = batcher.submit(randomInput(1, 4, 2, 3)).then((o) => settled.push(o.batchSize));
  const d = batcher.submit(randomInput(1, 4, 2, 4)).then((o) => settled.push(o.batchSize));
  const e = batcher.submit(randomInput(1, 4, 2, 5)).then((o) => settled.push(o.batchSize));
  await Promise.all([a, b, c]);
  assert.deepEqual(settled, [3, 3, 3]);
  assert.equal(batcher.pending, 2);
  t.fireAll(); // the first group's stale timer is harmless; the second group's runs it
  await Promise.all([d, e]);
  assert.deepEqual(settled, [3, 3, 3, 2, 2]);
  assert.deepEqual(calls.map((x) => x.dims[0]), [3, 2]);
});

Deno.test("a real window of a few milliseconds groups concurrent requests and flushes on its own", async () => {
  const { runner } = fakeRunner(2);
  const batcher = createBatcher(runner, 2, { maxBatch: 16, waitMs: 3 });
  const outs = await Promise.all([1, 2, 3].map((s) => batcher.submit(randomInput(1, 4, 2, s))));
  assert.deepEqual(outs.map((o) => o.batchSize), [3, 3, 3]);
  const later = await batcher.submit(randomInput(1, 4, 2, 9));
  assert.equal(later.batchSize, 1);
});

Deno.test("with waitMs 0 an idle batcher runs a request at once, with no timer", async () => {
  const { runner, calls } = fakeRunner(2);
  const t = manualTimers();
  const batcher = createBatcher(runner, 2, { maxBatch: 16, waitMs: 0, setTimer: t.setTimer });
  const out = await batcher.submit(randomInput(1, 4, 2, 1));
  assert.equal(out.batchSize, 1);
  assert.equal(t.timers.length, 0);
  assert.equal(calls.length, 1);
});

Deno.test("an error fails only its own batch's requests", async () => {
  // Layer 2 fails for batches of 2 rows: the split-1 pair fails, the split-1 single in another bucket succeeds.
  const { runner } = fakeRunner(2, (k, b) => k === 2 && b === 2);
  const t = manualTimers();
  const batcher = createBatcher(runner, 2, { maxBatch: 16, waitMs: 2, setTimer: t.setTimer });
  const failing = [batcher.submit(randomInput(1, 4, 2, 1)), batcher.submit(randomInput(1, 3, 2, 2))];
  const fine = batcher.submit(randomInput(1, 8, 2, 3));
  t.fireAll();
  const results = await Promise.allSettled([...failing, fine]);
  assert.deepEqual(results.map((r) => r.status), ["rejected", "rejected", "fulfilled"]);
  for (const r of results.slice(0, 2)) assert.match(String((r as PromiseRejectedResult).reason), /layer 2 failed/);
  assert.equal(batcher.pending, 0);
});

Deno.test("while maxInFlight batches run, a ready group waits and keeps growing up to maxBatch", async () => {
  const { runner: inner, calls } = fakeRunner(2);
  let release: () => void = () => {};
  let gate = new Promise<void>((r) => release = r);
  const runner: SegmentRunner = {
    ...inner,
    layer: async (k, h, m) => {
      await gate;
      return inner.layer(k, h, m);
    },
  };
  const t = manualTimers();
  const batcher = createBatcher(runner, 2, { maxBatch: 4, waitMs: 1, maxInFlight: 1, setTimer: t.setTimer });
  const first = batcher.submit(randomInput(1, 4, 2, 1));
  t.fireAll(); // first batch (1 row) starts and blocks on the gate
  const waiting = [2, 3].map((s) => batcher.submit(randomInput(1, 4, 2, s)));
  t.fireAll(); // ready, but the only slot is busy: it waits and takes more
  const more = [4, 5, 6].map((s) => batcher.submit(randomInput(1, 4, 2, s)));
  assert.equal(batcher.pending, 5);
  release();
  gate = Promise.resolve();
  assert.equal((await first).batchSize, 1);
  const grown = await Promise.all([...waiting, ...more.slice(0, 2)]);
  assert.deepEqual(grown.map((o) => o.batchSize), [4, 4, 4, 4], "the waiting group filled to maxBatch");
  t.fireAll(); // the 5th started a new group: its window closes and it runs alone
  assert.equal((await more[2]!).batchSize, 1);
  assert.deepEqual(calls.filter((c) => c.k === 2).map((c) => c.dims[0]), [1, 4, 1]);
});

Deno.test("createBatcher() rejects a bad maxBatch, waitMs or maxInFlight", () => {
  const { runner } = fakeRunner();
  assert.throws(() => createBatcher(runner, 2, { maxBatch: 0 }), /maxBatch/);
  assert.throws(() => createBatcher(runner, 2, { waitMs: -1 }), /waitMs/);
  assert.throws(() => createBatcher(runner, 2, { maxInFlight: 0 }), /maxInFlight/);
});
