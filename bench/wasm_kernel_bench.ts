/**
 * The kernel floor of the WASM/native ratio: one float32 MatMul with the shape of each of a layer's projections
 * (`bench/matmul_models.py` writes them from the default model's manifest into `SPLITEE_MATMUL_DIR`, default
 * /tmp/splitee-bench/matmul), batch 1, T = 16 / 64 / 128 rows, onnxruntime-node with 1 intra-op thread (baseline)
 * versus onnxruntime-web with 1 thread. The projections are most of a layer's arithmetic, so a whole WASM layer
 * cannot come closer to native than these ratios, whatever its graph looks like.
 *
 * Run: `/usr/bin/python3 bench/matmul_models.py models/sentiment /tmp/splitee-bench/matmul`, then
 *      `deno bench -A bench/wasm_kernel_bench.ts`
 * @module
 */
import * as ortNode from "onnxruntime-node";
import { initWasm } from "../edge/runtime/onnx.ts";
import { createPrng } from "../shared/prng.ts";

const dir = Deno.env.get("SPLITEE_MATMUL_DIR") ?? "/tmp/splitee-bench/matmul";
const files = [...Deno.readDirSync(dir)].map((e) => e.name).filter((n) => /^matmul_\d+x\d+\.onnx$/.test(n)).sort();
if (files.length === 0) throw new Error(`no matmul_KxN.onnx in ${dir}: run bench/matmul_models.py first`);
const web = await initWasm({ numThreads: 1 });
const prng = createPrng(11);

for (const file of files) {
  const [k, n] = file.match(/(\d+)x(\d+)/)!.slice(1).map(Number) as [number, number];
  const bytes = await Deno.readFile(`${dir}/${file}`);
  const native = await ortNode.InferenceSession.create(bytes, { intraOpNumThreads: 1, executionProviders: ["cpu"] });
  const wasm = await web.InferenceSession.create(bytes, {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
  });
  for (const t of [16, 64, 128]) {
    const x = Float32Array.from({ length: t * k }, () => prng.next() * 2 - 1);
    const group = `MatMul [${t}x${k}] x [${k}x${n}] (${((2 * t * k * n) / 1e6).toFixed(1)} MFLOP)`;
    const nFeeds = { x: new ortNode.Tensor("float32", x, [1, t, k]) };
    const wFeeds = { x: new web.Tensor("float32", x, [1, t, k]) };
    Deno.bench(
      `native 1 thread ${k}x${n} T=${t}`,
      { group, baseline: true },
      async () => void (await native.run(nFeeds)),
    );
    Deno.bench(`wasm 1 thread ${k}x${n} T=${t}`, { group }, async () => void (await wasm.run(wFeeds)));
  }
}
