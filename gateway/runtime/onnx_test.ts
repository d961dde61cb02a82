import assert from "node:assert/strict";
import { padBatch, runAllExits } from "../../shared/model_io.ts";
import { CudaUnavailableError, loadNodeRunner, readModelDir } from "./onnx.ts";

const MODEL = new URL("../../models/sentiment", import.meta.url).pathname;
const CUDA_PROVIDER = new URL(
  "../../node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so",
  import.meta.url,
);
const hasCudaProvider = await Deno.stat(CUDA_PROVIDER).then(() => true, () => false);

Deno.test({
  name: "loadNodeRunner() asking for CUDA without the provider fails with CudaUnavailableError and the install command",
  ignore: hasCudaProvider,
  async fn() {
    await assert.rejects(loadNodeRunner(MODEL, { executionProvider: "cuda" }), (e: unknown) => {
      assert.ok(e instanceof CudaUnavailableError);
      assert.match(e.message, /Cannot open embed\.onnx on the CUDA execution provider/);
      assert.match(e.message, /ONNXRUNTIME_NODE_INSTALL=cuda12 deno install --allow-scripts=npm:onnxruntime-node/);
      return true;
    });
  },
});

Deno.test("readModelDir() and loadNodeRunner() reject a missing or invalid model directory clearly", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await assert.rejects(readModelDir(`${dir}/none`), Deno.errors.NotFound);
    await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify({ schema: 1, id: "x" }));
    await assert.rejects(loadNodeRunner(dir), { name: "ManifestError", message: /manifest.json: version must be/ });
    await assert.rejects(loadNodeRunner(MODEL, { intraOpThreads: 0 }), /intraOpThreads must be a positive integer/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("loadNodeRunner() runs every layer with preload: all", async () => {
  const runner = await loadNodeRunner(MODEL, { preload: "all", intraOpThreads: 1 });
  try {
    assert.equal(runner.layers, runner.manifest.layers);
    const ids = { dtype: "int64" as const, dims: [1, 3], data: BigInt64Array.of(2n, 10n, 3n) };
    const types = { dtype: "int64" as const, dims: [1, 3], data: new BigInt64Array(3) };
    let hidden = await runner.embed(ids, types);
    const mask = { dtype: "float32" as const, dims: [1, 3], data: new Float32Array([1, 1, 1]) };
    for (let k = 1; k <= runner.layers; k++) {
      const out = await runner.layer(k, hidden, mask);
      assert.ok(out.logits.data.every(Number.isFinite));
      hidden = out.hidden;
    }
  } finally {
    await runner.dispose();
  }
});

Deno.test("loadNodeRunner() gives the same logits with the CPU memory arena and memory patterns off", async () => {
  const batch = padBatch([
    { inputIds: [2, 10, 11, 3], tokenTypeIds: [0, 0, 0, 0] },
    { inputIds: [2, 12, 3], tokenTypeIds: [0, 0, 0] },
  ]);
  const logitsOf = async (options: { cpuMemArena: boolean; memPattern: boolean }) => {
    const runner = await loadNodeRunner(MODEL, { ...options, intraOpThreads: 1 });
    try {
      return (await runAllExits(runner, batch)).map((t) => Float32Array.from(t.data));
    } finally {
      await runner.dispose();
    }
  };
  const on = await logitsOf({ cpuMemArena: true, memPattern: true });
  const off = await logitsOf({ cpuMemArena: false, memPattern: false });
  assert.equal(off.length, on.length);
  for (const [k, a] of on.entries()) {
    const b = off[k]!;
    assert.equal(b.length, a.length);
    for (const [i, x] of a.entries()) assert.ok(Math.abs(x - b[i]!) < 1e-5, `exit ${k + 1}[${i}]: ${x} vs ${b[i]}`);
  }
});
