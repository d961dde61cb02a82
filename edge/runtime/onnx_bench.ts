/**
 * Per-layer latency of one segment (layer_01 of models/sentiment), batch 1, at T = 16, 64 and 128 tokens:
 * onnxruntime-web (WASM, 1 and 2 threads) against onnxruntime-node (native, 1 intra-op thread), raw `session.run`
 * on the same inputs, plus the WASM runner (queue + host tensor conversion) to show its overhead.
 * Run: `deno bench -A edge/runtime/onnx_bench.ts`. Benches may import onnxruntime-node directly
 * (scripts/check_deps.ts); edge/ code may not import gateway/.
 */
import * as ortNode from "onnxruntime-node";
import { parseManifest } from "../../shared/manifest.ts";
import { float32Tensor } from "../../shared/model_io.ts";
import { createPrng } from "../../shared/prng.ts";
import { initWasm, loadWebRunner } from "./onnx.ts";

const DIR = new URL("../../models/sentiment/", import.meta.url);
const manifest = parseManifest(JSON.parse(await Deno.readTextFile(new URL("manifest.json", DIR))));
const segment = manifest.segments[0]!;
const bytes = await Deno.readFile(new URL(segment.file, DIR));
const D = manifest.hiddenSize;
const [HIDDEN, MASK] = segment.inputs;

const web1 = await initWasm({ numThreads: 1 });
const web2 = await initWasm({ numThreads: 2 });
const wasm1 = await web1.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
const wasm2 = await web2.InferenceSession.create(bytes, { executionProviders: ["wasm"] });
const native = await ortNode.InferenceSession.create(bytes, { intraOpNumThreads: 1, executionProviders: ["cpu"] });
const runner = await loadWebRunner({ manifest, files: (name) => Deno.readFile(new URL(name, DIR)) });

const prng = createPrng(7);
for (const t of [16, 64, 128]) {
  const hidden = Float32Array.from({ length: t * D }, () => prng.next() * 2 - 1);
  const mask = new Float32Array(t).fill(1);
  const group = `layer_01, batch 1, T=${t}`;
  const w1 = {
    [HIDDEN]: new web1.Tensor("float32", hidden, [1, t, D]),
    [MASK]: new web1.Tensor("float32", mask, [1, t]),
  };
  const w2 = {
    [HIDDEN]: new web2.Tensor("float32", hidden, [1, t, D]),
    [MASK]: new web2.Tensor("float32", mask, [1, t]),
  };
  const n = {
    [HIDDEN]: new ortNode.Tensor("float32", hidden, [1, t, D]),
    [MASK]: new ortNode.Tensor("float32", mask, [1, t]),
  };
  const h = float32Tensor(hidden, [1, t, D]);
  const m = float32Tensor(mask, [1, t]);
  Deno.bench(`native 1 thread T=${t}`, { group, baseline: true }, async () => void (await native.run(n)));
  Deno.bench(`wasm 1 thread T=${t}`, { group }, async () => void (await wasm1.run(w1)));
  Deno.bench(`wasm 2 threads T=${t}`, { group }, async () => void (await wasm2.run(w2)));
  Deno.bench(`wasm 1 thread via SegmentRunner T=${t}`, { group }, async () => void (await runner.layer(1, h, m)));
}
