import assert from "node:assert/strict";
import { parseManifest } from "../../shared/manifest.ts";
import { padBatch, runAllExits } from "../../shared/model_io.ts";
import {
  initWasm,
  loadVendoredWasm,
  loadWebRunner,
  ORT_WEB_VERSION,
  VENDORED_WASM,
  WASM_BYTES,
  WASM_SHA256,
  wasmLock,
} from "./onnx.ts";
import { openOnnxRuntimeWebOnce } from "../testing.ts";

const ROOT = new URL("../../", import.meta.url);
const MODEL = new URL("models/sentiment/", ROOT);
await openOnnxRuntimeWebOnce(); // outside every test: onnxruntime-web's never-closed probe port (see its docs)

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

Deno.test("loadVendoredWasm() returns exactly the binary of the onnxruntime-web version deno.json pins", async () => {
  const wasm = await loadVendoredWasm();
  assert.equal(wasm.length, WASM_BYTES);
  assert.equal(await sha256(wasm), WASM_SHA256);
  const denoJson = JSON.parse(await Deno.readTextFile(new URL("deno.json", ROOT)));
  assert.equal(denoJson.imports["onnxruntime-web"], `npm:onnxruntime-web@${ORT_WEB_VERSION}`);
  const npmCopy = new URL("node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm", ROOT);
  assert.equal(await sha256(await Deno.readFile(npmCopy)), WASM_SHA256, "vendored binary = the installed package's");
  assert.ok(VENDORED_WASM.pathname.endsWith(".wasm.gz"));
});

Deno.test("initWasm() is memoised and rejects a bad thread count", async () => {
  assert.equal(initWasm(), initWasm({ numThreads: 1 }));
  assert.equal((await initWasm()).env.versions.web, ORT_WEB_VERSION);
  await assert.rejects(initWasm({ numThreads: 0 }), /numThreads must be a positive integer/);
});

Deno.test("loadWebRunner() opens sessions lazily and only for the layers used", async () => {
  const manifest = parseManifest(JSON.parse(await Deno.readTextFile(new URL("manifest.json", MODEL))));
  const read: string[] = [];
  const runner = await loadWebRunner({
    manifest,
    files: (name) => (read.push(name), Deno.readFile(new URL(name, MODEL))),
  });
  try {
    assert.deepEqual(read, []);
    const batch = padBatch([{ inputIds: [2, 10, 11, 3], tokenTypeIds: [0, 0, 0, 0] }]);
    const hidden = await runner.embed(batch.inputIds, batch.tokenTypeIds);
    const out = await runner.layer(1, hidden, batch.attentionMask);
    await runner.layer(1, out.hidden, batch.attentionMask);
    assert.deepEqual(read, [manifest.embed.file, manifest.segments[0]!.file]);
    assert.deepEqual(out.logits.dims, [1, manifest.labels.length]);
    await assert.rejects(runner.layer(manifest.layers + 1, hidden, batch.attentionMask), /has layers 1\.\./);
    await assert.rejects(runner.layer(1, hidden, padBatch([{ inputIds: [1], tokenTypeIds: [0] }]).attentionMask), {
      name: "SegmentShapeError",
    });
  } finally {
    await runner.dispose();
  }
  await assert.rejects(
    runner.embed(
      padBatch([{ inputIds: [1], tokenTypeIds: [0] }]).inputIds,
      padBatch([{ inputIds: [1], tokenTypeIds: [0] }]).tokenTypeIds,
    ),
    /runner is disposed/,
  );
});

Deno.test("loadWebRunner() gives the same logits with the memory arena and memory pattern on or off", async () => {
  const manifest = parseManifest(JSON.parse(await Deno.readTextFile(new URL("manifest.json", MODEL))));
  const batch = padBatch([
    { inputIds: [2, 10, 11, 3], tokenTypeIds: [0, 0, 0, 0] },
    { inputIds: [2, 12, 3], tokenTypeIds: [0, 0, 0] },
  ]);
  const logitsOf = async (options: { cpuMemArena: boolean; memPattern: boolean }) => {
    const runner = await loadWebRunner({ manifest, files: (name) => Deno.readFile(new URL(name, MODEL)) }, options);
    try {
      return (await runAllExits(runner, batch)).flatMap((exit) => [...exit.data]);
    } finally {
      await runner.dispose();
    }
  };
  const on = await logitsOf({ cpuMemArena: true, memPattern: true });
  const off = await logitsOf({ cpuMemArena: false, memPattern: false });
  assert.equal(on.length, 2 * manifest.labels.length * manifest.layers);
  assert.deepEqual(off, on, "the options change where tensors live, not what is computed");
});

Deno.test("loadWebRunner(): concurrent runs over several lazily opened models never overlap inside the WASM instance", async () => {
  // Reproduces the failure that a process-wide lock fixes: with runs serialised per session only, 200 concurrent jobs
  // over three models (long and short inputs, sessions opened on first use) failed 97 times ("failed to call
  // OrtRun()", null dereferences, or a trap: "operation does not support unaligned accesses").
  const runners = await Promise.all(["sentiment", "paraphrase", "entailment"].map(async (id) => {
    const dir = new URL(`models/${id}/`, ROOT);
    const manifest = parseManifest(JSON.parse(await Deno.readTextFile(new URL("manifest.json", dir))));
    return await loadWebRunner(
      { manifest, files: (name) => Deno.readFile(new URL(name, dir)) },
      { cpuMemArena: false, memPattern: false },
    );
  }));
  try {
    const job = async (i: number) => {
      const runner = runners[i % runners.length]!;
      const tokens = Math.min(i % 5 === 0 ? 128 : 6 + (i % 23), runner.manifest.maxLength);
      const ids = Array.from({ length: tokens }, (_, t) => 5 + ((t * 7 + i) % 60));
      const batch = padBatch([{ inputIds: ids, tokenTypeIds: ids.map(() => 0) }]);
      let hidden = await runner.embed(batch.inputIds, batch.tokenTypeIds);
      const depth = 1 + ((i * 5) % runner.layers);
      let logits: Float32Array = new Float32Array(0);
      for (let k = 1; k <= depth; k++) {
        const out = await runner.layer(k, hidden, batch.attentionMask);
        hidden = out.hidden;
        logits = out.logits.data;
      }
      return logits;
    };
    const results = await Promise.allSettled(Array.from({ length: 60 }, (_, i) => job(i)));
    const failures = results.filter((r) => r.status === "rejected").map((r) =>
      String((r as PromiseRejectedResult).reason)
    );
    assert.deepEqual(failures.slice(0, 3), [], `${failures.length} of 60 concurrent jobs failed`);
    for (const r of results) {
      assert.ok(r.status === "fulfilled" && [...r.value].every(Number.isFinite));
    }
    assert.equal(wasmLock().maxConcurrent, 1);
    assert.equal(wasmLock().trapped, false);
  } finally {
    await Promise.all(runners.map((r) => r.dispose()));
  }
});
