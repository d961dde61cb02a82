import assert from "node:assert/strict";
import { type Manifest, parseManifest } from "./manifest.ts";
import { float32Tensor, padBatch } from "./model_io.ts";
import { createSegmentRunner, type HostSession, type HostTensor } from "./segments.ts";
import { manifestFixture } from "./testing/manifest_fixture.ts";

const D = 4;
function manifest(): Manifest {
  return parseManifest(
    manifestFixture({
      id: "fake",
      labels: ["a", "b"],
      hiddenSize: D,
      heads: 1,
      ffnSize: 8,
      maxLength: 16,
      headTokens: 4,
    }),
  );
}

/** A fake runtime: throws like onnxruntime-web when two runs overlap on one session. */
function fakeOpen(log: string[], options: { badLogits?: boolean; failOnce?: string } = {}) {
  let failed = false;
  return (file: string): Promise<HostSession> => {
    log.push(`open ${file}`);
    if (file === options.failOnce && !failed) {
      failed = true;
      return Promise.reject(new Error("disk hiccup"));
    }
    const isEmbed = file === "embed.onnx";
    let busy = false;
    return Promise.resolve({
      inputNames: isEmbed ? ["input_ids", "token_type_ids"] : ["hidden", "attention_mask"],
      outputNames: isEmbed ? ["hidden"] : ["hidden_out", "logits"],
      async run(feeds: Readonly<Record<string, HostTensor>>) {
        if (busy) throw new Error("Session already started");
        busy = true;
        await new Promise((r) => setTimeout(r, 2));
        busy = false;
        if (isEmbed) {
          const [b, t] = feeds.input_ids!.dims as [number, number];
          return { hidden: float32Tensor(new Float32Array(b * t * D).fill(1), [b, t, D]) };
        }
        const h = feeds.hidden!;
        const b = h.dims[0]!;
        const logits = float32Tensor(new Float32Array(b * (options.badLogits ? 3 : 2)), [b, options.badLogits ? 3 : 2]);
        return { hidden_out: h, logits };
      },
      release: () => (log.push(`release ${file}`), Promise.resolve()),
    });
  };
}

const batch = padBatch([{ inputIds: [2, 5, 3], tokenTypeIds: [0, 0, 0] }]);

Deno.test("createSegmentRunner() opens each session once, on first use, and serialises runs per session", async () => {
  const log: string[] = [];
  const runner = createSegmentRunner(manifest(), fakeOpen(log));
  assert.deepEqual(log, []);
  const hidden = await runner.embed(batch.inputIds, batch.tokenTypeIds);
  const outs = await Promise.all(Array.from({ length: 5 }, () => runner.layer(2, hidden, batch.attentionMask)));
  assert.equal(outs.length, 5);
  assert.deepEqual(log, ["open embed.onnx", "open layer_02.onnx"]);
  await runner.dispose();
  assert.deepEqual(log.slice(2).sort(), ["release embed.onnx", "release layer_02.onnx"]);
  await assert.rejects(runner.layer(1, hidden, batch.attentionMask), /runner is disposed/);
});

Deno.test("createSegmentRunner() without serializeRuns lets runs overlap (and the fake runtime then throws)", async () => {
  const runner = createSegmentRunner(manifest(), fakeOpen([]), { serializeRuns: false });
  const hidden = await runner.embed(batch.inputIds, batch.tokenTypeIds);
  // allSettled, not all: the run that did start must finish (and its timer fire) inside this test.
  const [first, second] = await Promise.allSettled([
    runner.layer(1, hidden, batch.attentionMask),
    runner.layer(1, hidden, batch.attentionMask),
  ]);
  assert.equal(first.status, "fulfilled");
  assert.equal(second.status, "rejected");
  assert.match(String((second as PromiseRejectedResult).reason), /Session already started/);
  await runner.dispose();
});

Deno.test("createSegmentRunner() retries a session that failed to open", async () => {
  const log: string[] = [];
  const runner = createSegmentRunner(manifest(), fakeOpen(log, { failOnce: "embed.onnx" }));
  await assert.rejects(runner.embed(batch.inputIds, batch.tokenTypeIds), /disk hiccup/);
  await runner.embed(batch.inputIds, batch.tokenTypeIds);
  assert.deepEqual(log, ["open embed.onnx", "open embed.onnx"]);
  await runner.dispose();
});

Deno.test("createSegmentRunner() rejects wrong shapes, layers and outputs with named errors", async () => {
  const runner = createSegmentRunner(manifest(), fakeOpen([]));
  const hidden = await runner.embed(batch.inputIds, batch.tokenTypeIds);
  const shortMask = padBatch([{ inputIds: [1, 2], tokenTypeIds: [0, 0] }]).attentionMask;
  await assert.rejects(runner.layer(1, hidden, shortMask), {
    name: "SegmentShapeError",
    message: "attention_mask is [1,2] but the hidden state needs [1,3]",
  });
  await assert.rejects(runner.layer(1, float32Tensor(new Float32Array(3 * 5), [1, 3, 5]), batch.attentionMask), {
    message: "hidden must be a float32 [B,T,4] tensor, got float32 [1,3,5]",
  });
  await assert.rejects(runner.embed(batch.inputIds, padBatch([{ inputIds: [1], tokenTypeIds: [0] }]).tokenTypeIds), {
    message: "token_type_ids is [1,1] but input_ids needs [1,3]",
  });
  await assert.rejects(runner.layer(3, hidden, batch.attentionMask), /has layers 1\.\.2, not 3/);
  await assert.rejects(runner.layer(1.5, hidden, batch.attentionMask), RangeError);
  await runner.dispose();

  const bad = createSegmentRunner(manifest(), fakeOpen([], { badLogits: true }));
  await assert.rejects(bad.layer(1, hidden, batch.attentionMask), {
    message: "layer_01.onnx output logits should be float32 [1,2], got float32 [1,3]",
  });
  await bad.dispose();
});

Deno.test("createSegmentRunner() refuses a session whose names differ from the manifest", async () => {
  const log: string[] = [];
  const open = fakeOpen(log);
  const runner = createSegmentRunner(
    manifest(),
    async (file) => ({ ...(await open(file)), inputNames: ["x", "attention_mask"] }),
  );
  await assert.rejects(runner.preload([1]), /embed.onnx lacks input_ids, token_type_ids/);
  assert.ok(log.includes("release embed.onnx"));
  await runner.dispose();
});
