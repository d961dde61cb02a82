/**
 * Edge compute, side by side in one run: one layer segment (layer_01 of models/sentiment; all 12 are the same graph
 * shape), batch 1, T = 16 / 64 / 128 real tokens, raw `session.run` on identical inputs:
 * - onnxruntime-node (native) with 1 intra-op thread (the baseline of each group) and with onnxruntime's default;
 * - onnxruntime-web (WASM, 1 thread: what Deno Deploy runs) at graph optimisation levels disabled / basic / all;
 * - onnxruntime-web with 2 threads (local hosts only), level all;
 * - when a variant exists, its layer_01 on WASM 1 thread and native 1 thread, level all: int8 dynamic quantisation
 *   (bench/quantize_segments.py; directory `SPLITEE_INT8_DIR`, default /tmp/splitee-bench/sentiment-int8) and
 *   hand-fused contrib operators (bench/fuse_segments.py; `SPLITEE_FUSED_DIR`, default
 *   /tmp/splitee-bench/sentiment-fused), float16 weights cast to float32 in the graph and the whole graph in float16
 *   (bench/fp16_segments.py --mode storage / compute; `SPLITEE_FP16W_DIR` / `SPLITEE_FP16_DIR`, default
 *   /tmp/splitee-bench/sentiment-fp16w / sentiment-fp16).
 * A second set of groups times the whole edge request path through the SegmentRunner at T = 64: embedding + 12
 * layers (13 `run` calls), WASM 1 thread versus native 1 thread.
 *
 * Run: `deno bench -A bench/edge_compute_bench.ts`
 * @module
 */
import * as ortNode from "onnxruntime-node";
import { initWasm, loadWebRunner } from "../edge/runtime/onnx.ts";
import { loadNodeRunner } from "../gateway/runtime/onnx.ts";
import { float32Tensor, int64Tensor, runLayers } from "../shared/model_io.ts";
import { createPrng } from "../shared/prng.ts";
import { MODEL_DIR, modelSource } from "./data.ts";

const source = await modelSource();
const { manifest } = source;
const segment = manifest.segments[0]!;
const bytes = await Deno.readFile(new URL(segment.file, MODEL_DIR));
const D = manifest.hiddenSize;
const [HIDDEN, MASK] = segment.inputs as [string, string];
const LEVELS = ["disabled", "basic", "all"] as const;

const web1 = await initWasm({ numThreads: 1 });
const web2 = await initWasm({ numThreads: 2 });
const wasm1 = Object.fromEntries(
  await Promise.all(
    LEVELS.map(async (level) => [
      level,
      await web1.InferenceSession.create(bytes, { executionProviders: ["wasm"], graphOptimizationLevel: level }),
    ]),
  ),
);
const wasm2 = await web2.InferenceSession.create(bytes, {
  executionProviders: ["wasm"],
  graphOptimizationLevel: "all",
});
const native1 = await ortNode.InferenceSession.create(bytes, { intraOpNumThreads: 1, executionProviders: ["cpu"] });
const nativeN = await ortNode.InferenceSession.create(bytes, { executionProviders: ["cpu"] });

const VARIANT_DIRS = {
  int8: Deno.env.get("SPLITEE_INT8_DIR") ?? "/tmp/splitee-bench/sentiment-int8",
  fused: Deno.env.get("SPLITEE_FUSED_DIR") ?? "/tmp/splitee-bench/sentiment-fused",
  "fp16 storage": Deno.env.get("SPLITEE_FP16W_DIR") ?? "/tmp/splitee-bench/sentiment-fp16w",
  "fp16 compute": Deno.env.get("SPLITEE_FP16_DIR") ?? "/tmp/splitee-bench/sentiment-fp16",
};
const variants = [];
for (const [name, dir] of Object.entries(VARIANT_DIRS)) {
  const variantBytes = await Deno.readFile(`${dir}/${segment.file}`).catch(() => undefined);
  if (variantBytes === undefined) continue;
  variants.push({
    name,
    wasm: await web1.InferenceSession.create(variantBytes, {
      executionProviders: ["wasm"],
      graphOptimizationLevel: "all",
    }),
    native: await ortNode.InferenceSession.create(variantBytes, { intraOpNumThreads: 1, executionProviders: ["cpu"] }),
  });
}

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
  Deno.bench(`native 1 thread T=${t}`, { group, baseline: true }, async () => void (await native1.run(n)));
  Deno.bench(`native default threads T=${t}`, { group }, async () => void (await nativeN.run(n)));
  for (const level of LEVELS) {
    Deno.bench(`wasm 1 thread opt=${level} T=${t}`, { group }, async () => void (await wasm1[level]!.run(w1)));
  }
  Deno.bench(`wasm 2 threads opt=all T=${t}`, { group }, async () => void (await wasm2.run(w2)));
  for (const v of variants) {
    Deno.bench(`${v.name} native 1 thread T=${t}`, { group }, async () => void (await v.native.run(n)));
    Deno.bench(`${v.name} wasm 1 thread opt=all T=${t}`, { group }, async () => void (await v.wasm.run(w1)));
  }
}

// The whole edge prefix through the runners (host tensor conversion and run queue included), and the WASM runner
// without onnxruntime's per-session memory arena and memory pattern (less resident memory; what does it cost?).
const web = await loadWebRunner(source, { preload: "all" });
const webNoArena = await loadWebRunner(source, { preload: "all", cpuMemArena: false, memPattern: false });
const node = await loadNodeRunner(source, { preload: "all", intraOpThreads: 1 });
{
  const t = 64;
  const ids = int64Tensor(BigInt64Array.from({ length: t }, (_, i) => BigInt(1000 + i)), [1, t]);
  const types = int64Tensor(new BigInt64Array(t), [1, t]);
  const mask = float32Tensor(new Float32Array(t).fill(1), [1, t]);
  const group = `embed + 12 layers via SegmentRunner, batch 1, T=${t}`;
  const runners = [
    ["native 1 thread", node],
    ["wasm 1 thread", web],
    ["wasm 1 thread, no arena, no pattern", webNoArena],
  ] as const;
  for (const [name, runner] of runners) {
    Deno.bench(`${name} embed + 12 layers T=${t}`, { group, baseline: name === "native 1 thread" }, async () => {
      const h = await runner.embed(ids, types);
      await runLayers(runner, h, mask, 1, manifest.layers);
    });
  }
}
