import assert from "node:assert/strict";
import { float32Tensor, int64Tensor, padBatch, rowsOf, runAllExits, runLayers } from "./model_io.ts";
import type { Float32Tensor, Int64Tensor, SegmentRunner } from "./tensor.ts";

/** A fake 4-layer runner: embed writes id + 0.5 per position (D = 1); layer k adds k; logits = [k, mean hidden]. */
function fakeRunner(calls: string[] = []): SegmentRunner {
  return {
    layers: 4,
    embed(ids: Int64Tensor, _types: Int64Tensor) {
      calls.push("embed");
      const [b, t] = ids.dims as [number, number];
      return Promise.resolve(float32Tensor(Float32Array.from(ids.data, (x) => Number(x) + 0.5), [b, t, 1]));
    },
    layer(k: number, hidden: Float32Tensor, mask: Float32Tensor) {
      calls.push(`layer ${k}`);
      const [b, t] = hidden.dims as [number, number, number];
      const out = hidden.data.map((x) => x + k);
      const logits = new Float32Array(b * 2);
      for (let r = 0; r < b; r++) {
        let sum = 0, n = 0;
        for (let j = 0; j < t; j++) {
          if (mask.data[r * t + j] === 1) (sum += out[r * t + j]!), n++;
        }
        logits.set([k, sum / n], r * 2);
      }
      return Promise.resolve({ hidden: float32Tensor(out, [b, t, 1]), logits: float32Tensor(logits, [b, 2]) });
    },
    dispose: () => Promise.resolve(),
  };
}

Deno.test("padBatch() pads to the longest sample with padId, zero segments and a 0 mask", () => {
  const batch = padBatch([
    { inputIds: [2, 7, 3], tokenTypeIds: [0, 0, 0] },
    { inputIds: [2, 8, 9, 4, 3], tokenTypeIds: [0, 0, 0, 1, 1] },
  ], { padId: 1 });
  assert.deepEqual(batch.inputIds.dims, [2, 5]);
  assert.deepEqual([...batch.inputIds.data], [2n, 7n, 3n, 1n, 1n, 2n, 8n, 9n, 4n, 3n]);
  assert.deepEqual([...batch.tokenTypeIds.data], [0n, 0n, 0n, 0n, 0n, 0n, 0n, 0n, 1n, 1n]);
  assert.deepEqual([...batch.attentionMask.data], [1, 1, 1, 0, 0, 1, 1, 1, 1, 1]);
  assert.deepEqual(batch.attentionMask.dims, [2, 5]);
  assert.deepEqual(batch.lengths, [3, 5]);
  assert.deepEqual(
    padBatch([{ inputIds: [5], tokenTypeIds: [0] }], { length: 3 }).inputIds.data,
    BigInt64Array.of(5n, 0n, 0n),
  );
});

Deno.test("padBatch() rejects empty and inconsistent input", () => {
  assert.throws(() => padBatch([]), /at least one sample/);
  assert.throws(() => padBatch([{ inputIds: [], tokenTypeIds: [] }]), /sample 0 has no tokens/);
  assert.throws(() => padBatch([{ inputIds: [1, 2], tokenTypeIds: [0] }]), /2 ids but 1 segment ids/);
  assert.throws(
    () => padBatch([{ inputIds: [1, 2], tokenTypeIds: [0, 0] }], { length: 1 }),
    /shorter than the longest/,
  );
});

Deno.test("float32Tensor() and int64Tensor() check dims against data", () => {
  assert.throws(() => float32Tensor(new Float32Array(5), [2, 3]), /dims \[2,3\] do not match 5 values/);
  assert.throws(() => int64Tensor(new BigInt64Array(2), [2, -1]), RangeError);
  assert.deepEqual(float32Tensor(new Float32Array(6), [2, 3]).dims, [2, 3]);
});

Deno.test("runLayers() runs from..to in order and returns every exit's logits", async () => {
  const calls: string[] = [];
  const runner = fakeRunner(calls);
  const batch = padBatch([{ inputIds: [1, 2], tokenTypeIds: [0, 0] }, { inputIds: [3], tokenTypeIds: [0] }]);
  const hidden = await runner.embed(batch.inputIds, batch.tokenTypeIds);
  const result = await runLayers(runner, hidden, batch.attentionMask, 2, 4);
  assert.deepEqual(calls, ["embed", "layer 2", "layer 3", "layer 4"]);
  assert.equal(result.last, 4);
  assert.equal(result.logits.length, 3);
  // +2+3+4 = 9 on each position; row 1's padding (id 0) is excluded from its mean
  assert.deepEqual([...result.hidden.data], [10.5, 11.5, 12.5, 9.5]);
  assert.deepEqual([...result.logits[2]!.data], [4, 11, 4, 12.5]);
  assert.deepEqual(rowsOf(result.logits[0]!).map((r) => [...r]), [[2, 4], [2, 5.5]]);
});

Deno.test("runLayers() stops after the layer whose onExit returns true, and runs nothing for from = to + 1", async () => {
  const calls: string[] = [];
  const runner = fakeRunner(calls);
  const batch = padBatch([{ inputIds: [1], tokenTypeIds: [0] }]);
  const hidden = await runner.embed(batch.inputIds, batch.tokenTypeIds);
  const seen: number[] = [];
  const result = await runLayers(runner, hidden, batch.attentionMask, 1, 4, (k, out) => {
    seen.push(k, out.logits.data[0]!);
    return k === 2;
  });
  assert.deepEqual(seen, [1, 1, 2, 2]);
  assert.equal(result.last, 2);
  assert.deepEqual(calls, ["embed", "layer 1", "layer 2"]);
  const none = await runLayers(runner, hidden, batch.attentionMask, 5, 4);
  assert.equal(none.hidden, hidden);
  assert.deepEqual(none.logits, []);
  assert.equal(none.last, 4);
});

Deno.test("runLayers() rejects a range outside the model", async () => {
  const runner = fakeRunner();
  const h = float32Tensor(new Float32Array(1), [1, 1, 1]);
  const m = float32Tensor(new Float32Array([1]), [1, 1]);
  await assert.rejects(runLayers(runner, h, m, 0, 2), /cannot run layers 0\.\.2 of a 4-layer model/);
  await assert.rejects(runLayers(runner, h, m, 2, 5), RangeError);
  await assert.rejects(runLayers(runner, h, m, 4, 2), RangeError);
});

Deno.test("runAllExits() embeds and returns the logits of exits 1..L", async () => {
  const logits = await runAllExits(fakeRunner(), padBatch([{ inputIds: [1], tokenTypeIds: [0] }]));
  assert.deepEqual(logits.map((l) => [...l.data]), [[1, 2.5], [2, 4.5], [3, 7.5], [4, 11.5]]);
  assert.throws(() => rowsOf(float32Tensor(new Float32Array(2), [2])), /expected a \[B,C\] tensor/);
});
