/**
 * The exported segments against PyTorch (models/<id>/parity.json), on both runtimes: onnxruntime-web (WASM, the edge)
 * and onnxruntime-node (native, the gateway). Every segment is fed PyTorch's own input, so errors cannot accumulate;
 * a chained run from ids to the final exit checks the whole model as well.
 */
import assert from "node:assert/strict";
import { loadWebRunner } from "../edge/runtime/onnx.ts";
import { loadNodeRunner, readModelDir } from "../gateway/runtime/onnx.ts";
import { modelVersion, sha256Hex } from "../shared/manifest.ts";
import { float32Tensor, type ModelSource, padBatch, runAllExits } from "../shared/model_io.ts";
import type { LoadedSegmentRunner } from "../shared/segments.ts";
import type { Float32Tensor } from "../shared/tensor.ts";

/** The models under test: `SPLITEE_PARITY_MODEL=<dir>` checks one other export. @default the three committed models */
const MODEL_DIRS = (Deno.env.get("SPLITEE_PARITY_MODEL")?.split(",") ??
  ["sentiment", "paraphrase", "entailment"].map((m) => new URL(`../models/${m}`, import.meta.url).pathname))
  .map((d) => d.replace(/\/?$/, "/"));

interface ParityCase {
  dims: [number, number, number];
  inputIds: number[][];
  tokenTypeIds: number[][];
  attentionMask: number[][];
  embed: string;
  layers: { hidden: string; logits: number[][] }[];
}
interface Parity {
  model: string;
  version: string;
  tolerance: number;
  cases: ParityCase[];
}

function f32(base64: string): Float32Array {
  const bin = atob(base64);
  const bytes = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
  const view = new DataView(bytes.buffer);
  return Float32Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

/** Max |a - b| over real tokens only: padded positions carry no meaning under the contract. */
function hiddenDiff(a: Float32Tensor, expected: Float32Array, c: ParityCase): number {
  const [b, t, d] = c.dims;
  assert.deepEqual(a.dims, [b, t, d]);
  let max = 0;
  for (let r = 0; r < b; r++) {
    for (let j = 0; j < t; j++) {
      if (c.attentionMask[r]![j] !== 1) continue;
      for (let k = 0; k < d; k++) {
        const i = (r * t + j) * d + k;
        max = Math.max(max, Math.abs(a.data[i]! - expected[i]!));
      }
    }
  }
  return max;
}

/**
 * A diagnosis for a failure: dropout (p) left on in PyTorch zeroes a fraction p of the values and scales the rest by
 * 1 / (1 - p), which is what an export that forgot `model.eval()` stores.
 */
function dropoutHint(ours: Float32Array, stored: Float32Array): string {
  let zeros = 0, scale = 0, n = 0;
  for (let i = 0; i < stored.length; i++) {
    if (stored[i] === 0 && ours[i] !== 0) zeros++;
    else if (Math.abs(ours[i]!) > 1e-3) (scale += stored[i]! / ours[i]!), n++;
  }
  const p = zeros / stored.length;
  return p > 0.02 && Math.abs(scale / n - 1 / (1 - p)) < 0.05
    ? ` (parity.json looks computed with dropout on: ${(100 * p).toFixed(1)}% zeros, the rest scaled by ` +
      `${(scale / n).toFixed(3)}; export.py must put the model in eval mode before writing it)`
    : "";
}

function logitsDiff(a: Float32Tensor, expected: number[][]): number {
  assert.deepEqual(a.dims, [expected.length, expected[0]!.length]);
  return Math.max(...expected.flat().map((v, i) => Math.abs(a.data[i]! - v)));
}

function inputs(c: ParityCase) {
  const batch = padBatch(c.inputIds.map((ids, r) => ({
    inputIds: ids.slice(0, c.attentionMask[r]!.filter((m) => m === 1).length),
    tokenTypeIds: c.tokenTypeIds[r]!.slice(0, c.attentionMask[r]!.filter((m) => m === 1).length),
  })));
  // The stored inputs are PyTorch's exactly (pad id included), so feed them as they are.
  assert.deepEqual(batch.attentionMask.data, Float32Array.from(c.attentionMask.flat()));
  const ids = BigInt64Array.from(c.inputIds.flat(), BigInt);
  const types = BigInt64Array.from(c.tokenTypeIds.flat(), BigInt);
  const dims = [c.dims[0], c.dims[1]];
  return {
    inputIds: { dtype: "int64" as const, dims, data: ids },
    tokenTypeIds: { dtype: "int64" as const, dims, data: types },
    attentionMask: batch.attentionMask,
  };
}

for (const MODEL_DIR of MODEL_DIRS) {
  const source: ModelSource = await readModelDir(MODEL_DIR);
  const { manifest } = source;
  const parity: Parity = JSON.parse(await Deno.readTextFile(`${MODEL_DIR}parity.json`));
  const name = manifest.id;

  Deno.test(`${name}: manifest sha256s and version match the model's files`, async () => {
    for (const [name, expected] of Object.entries(manifest.files)) {
      assert.equal(await sha256Hex(await Deno.readFile(`${MODEL_DIR}${name}`)), expected, name);
    }
    assert.equal(await modelVersion(manifest.files), manifest.version);
    assert.equal(parity.model, manifest.id);
    assert.equal(parity.version, manifest.version, "parity.json was written for this export");
    assert.ok(parity.cases.length > 0 && parity.cases.every((c) => c.layers.length === manifest.layers));
  });

  const runtimes: [string, () => Promise<LoadedSegmentRunner>][] = [
    ["onnxruntime-web (WASM)", () => loadWebRunner(source)],
    ["onnxruntime-node (native)", () => loadNodeRunner(source, { intraOpThreads: 1 })],
  ];

  for (const [runtime, load] of runtimes) {
    Deno.test(`${name} on ${runtime}: every segment and the chained model match PyTorch within the manifest tolerance`, async (t) => {
      const runner = await load();
      const tol = parity.tolerance;
      try {
        await t.step("each segment on PyTorch's own input", async () => {
          const worst = { embed: 0, hidden: 0, logits: 0 };
          let hint = "";
          for (const c of parity.cases) {
            const x = inputs(c);
            const embedded = await runner.embed(x.inputIds, x.tokenTypeIds);
            worst.embed = Math.max(worst.embed, hiddenDiff(embedded, f32(c.embed), c));
            hint ||= dropoutHint(embedded.data, f32(c.embed));
            let input = f32(c.embed);
            for (let k = 1; k <= manifest.layers; k++) {
              const out = await runner.layer(k, float32Tensor(input, c.dims), x.attentionMask);
              const expected = c.layers[k - 1]!;
              const expectedHidden = f32(expected.hidden);
              worst.hidden = Math.max(worst.hidden, hiddenDiff(out.hidden, expectedHidden, c));
              worst.logits = Math.max(worst.logits, logitsDiff(out.logits, expected.logits));
              input = expectedHidden;
            }
          }
          console.log(`${name} ${runtime} per-segment max |diff|: ${JSON.stringify(worst)}`);
          assert.ok(worst.embed <= tol && worst.hidden <= tol && worst.logits <= tol, JSON.stringify(worst) + hint);
        });

        await t.step("chained from ids to the final exit", async () => {
          let worst = 0;
          for (const c of parity.cases) {
            const x = inputs(c);
            const logits = await runAllExits(runner, { ...x, lengths: [] });
            logits.forEach((l, i) => (worst = Math.max(worst, logitsDiff(l, c.layers[i]!.logits))));
          }
          console.log(`${name} ${runtime} chained max |logit diff| over all exits: ${worst}`);
          assert.ok(worst <= tol, `${worst}`);
        });

        await t.step("concurrent runs on one session give the sequential results", async () => {
          const c = parity.cases[0]!;
          const x = inputs(c);
          const h = float32Tensor(f32(c.embed), c.dims);
          const sequential = await runner.layer(1, h, x.attentionMask);
          const concurrent = await Promise.all(Array.from({ length: 4 }, () => runner.layer(1, h, x.attentionMask)));
          for (const out of concurrent) assert.deepEqual(out.logits.data, sequential.logits.data);
        });
      } finally {
        await runner.dispose();
      }
    });
  }

  Deno.test(`${name}: loadWebRunner() and loadNodeRunner() refuse a file whose sha256 differs from the manifest`, async () => {
    const tampered: ModelSource = {
      manifest,
      files: async (name) => {
        const bytes = await source.files(name);
        if (name === manifest.segments[0]!.file) bytes[bytes.length - 1] = bytes[bytes.length - 1]! ^ 1;
        return bytes;
      },
    };
    for (const runner of [await loadWebRunner(tampered), await loadNodeRunner(tampered)]) {
      await assert.rejects(
        runner.preload([1]),
        (e: Error) => e.name === "ModelIntegrityError" && e.message.includes("layer_01.onnx has sha256"),
      );
      await runner.dispose();
    }
  });
}
