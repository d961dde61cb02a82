import assert from "node:assert/strict";
import { padBatch } from "../shared/model_io.ts";
import { loadWebRunner } from "./runtime/onnx.ts";
import { loadModelFiles, MODEL_DIR, openOnnxRuntimeWebOnce } from "./testing.ts";
import { BeyondMaxSplitError, prefixRunner } from "./prefix_runner.ts";

await openOnnxRuntimeWebOnce(); // outside every test: onnxruntime-web's never-closed probe port (see its docs)

Deno.test("prefixRunner() runs layers 1..K and never opens (or reads) a deeper layer's file", async () => {
  const { manifest } = await loadModelFiles();
  const read: string[] = [];
  const runner = await loadWebRunner({
    manifest,
    files: (name) => (read.push(name), Deno.readFile(new URL(name, MODEL_DIR))),
  });
  const edge = prefixRunner(runner, 2);
  try {
    assert.equal(edge.layers, manifest.layers);
    const batch = padBatch([{ inputIds: [2, 10, 11, 3], tokenTypeIds: [0, 0, 0, 0] }]);
    let hidden = await edge.embed(batch.inputIds, batch.tokenTypeIds);
    for (const k of [1, 2]) hidden = (await edge.layer(k, hidden, batch.attentionMask)).hidden;
    await assert.rejects(edge.layer(3, hidden, batch.attentionMask), BeyondMaxSplitError);
    assert.deepEqual(read, [manifest.embed.file, manifest.segments[0]!.file, manifest.segments[1]!.file]);
  } finally {
    await edge.dispose();
  }
  assert.throws(() => prefixRunner(runner, 0), RangeError);
  assert.throws(() => prefixRunner(runner, manifest.layers + 1), RangeError);
});
