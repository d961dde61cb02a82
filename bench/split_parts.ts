/**
 * The measured parts of a split, for any exported or imported model (benchmark script, not a test), side by side in
 * one run:
 * - per-layer time: one layer segment (`layer_01`; every layer has the same graph shape), batch 1, T real tokens,
 *   raw `run` through the project's runners on identical inputs: onnxruntime-web (WASM, 1 thread: what Deno Deploy
 *   runs) versus onnxruntime-node (1 intra-op thread and onnxruntime's default), plus the embedding segment on both;
 * - bytes per offload request on the wire (the real `encodeOffloadRequest` msgpack body) per wire dtype.
 * Medians over `--reps` runs after `--warmup` runs, per T. Writes JSON with `--json` (bench/split_replay.ts reads it).
 *
 * Run: `deno run -A bench/split_parts.ts --model models/.work-bert-base/model [--tokens 16,64,128,256] [--reps 20]
 *   [--warmup 3] [--json out.json]`
 * @module
 */
import { parseArgs } from "node:util";
import { loadWebRunner } from "../edge/runtime/onnx.ts";
import { loadNodeRunner } from "../gateway/runtime/onnx.ts";
import { parseManifest } from "../shared/manifest.ts";
import { float32Tensor, int64Tensor } from "../shared/model_io.ts";
import type { SegmentRunner } from "../shared/tensor.ts";
import { createOffloadRequest, encodeOffloadRequest, WIRE_DTYPES, type WireDtype } from "../shared/wire/mod.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string", default: "models/.work-bert-base/model" },
    tokens: { type: "string", default: "16,64,128,256" },
    reps: { type: "string", default: "20" },
    warmup: { type: "string", default: "3" },
    json: { type: "string" },
  },
});
const dir = args.model.replace(/\/+$/, "");
const TOKENS = args.tokens.split(",").map(Number);
const REPS = Number(args.reps);
const WARMUP = Number(args.warmup);
if (TOKENS.some((t) => !Number.isInteger(t) || t < 1)) throw new Error("--tokens: positive integers");

const manifest = parseManifest(JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`)));
const D = manifest.hiddenSize;
const source = { manifest, files: (name: string) => Deno.readFile(`${dir}/${name}`) };

/** Median of `reps` timed calls after `warmup` untimed ones, in ms. */
async function timeIt(fn: () => Promise<unknown>): Promise<number> {
  for (let i = 0; i < WARMUP; i++) await fn();
  const ms: number[] = [];
  for (let i = 0; i < REPS; i++) {
    const t = performance.now();
    await fn();
    ms.push(performance.now() - t);
  }
  ms.sort((a, b) => a - b);
  return ms[Math.floor(ms.length / 2)]!;
}

function inputs(t: number) {
  const ids = new BigInt64Array(t).map((_, i) => BigInt(1000 + ((i * 37) % 20000) % (manifest.maxLength * 50)));
  const hidden = float32Tensor(new Float32Array(t * D).map((_, i) => Math.sin(i) * 0.5), [1, t, D]);
  const mask = float32Tensor(new Float32Array(t).fill(1), [1, t]);
  return { ids: int64Tensor(ids, [1, t]), types: int64Tensor(new BigInt64Array(t), [1, t]), hidden, mask };
}

async function timeRunner(runner: SegmentRunner, t: number): Promise<{ layerMs: number; embedMs: number }> {
  const x = inputs(t);
  const layerMs = await timeIt(() => runner.layer(1, x.hidden, x.mask));
  const embedMs = await timeIt(() => runner.embed(x.ids, x.types));
  return { layerMs, embedMs };
}

/** Encoded offload request bytes for T tokens (values do not change the size, only T and the dtype). */
function requestBytes(t: number, dtype: WireDtype): number {
  const model = { id: manifest.id, version: manifest.version };
  const hidden = new Float32Array(t * D).map((_, i) => Math.sin(i));
  const req = createOffloadRequest({ model, splitLayer: 1, dims: [t, D], hidden, dtype });
  return encodeOffloadRequest(req, { model, layers: manifest.layers, hiddenSize: D }).byteLength;
}

const web = await loadWebRunner(source, { numThreads: 1, cpuMemArena: false, memPattern: false, preload: [1] });
const node1 = await loadNodeRunner(dir, { intraOpThreads: 1 });
const nodeDefault = await loadNodeRunner(dir, {});

interface Row {
  tokens: number;
  wasm1: { layerMs: number; embedMs: number };
  node1: { layerMs: number; embedMs: number };
  nodeDefault: { layerMs: number; embedMs: number };
  bytes: Record<WireDtype, number>;
}
const rows: Row[] = [];
for (const t of TOKENS.filter((t) => t <= manifest.maxLength)) {
  // Interleaved per T so that background load affects the three alike.
  const row: Row = {
    tokens: t,
    node1: await timeRunner(node1, t),
    wasm1: await timeRunner(web, t),
    nodeDefault: await timeRunner(nodeDefault, t),
    bytes: Object.fromEntries(WIRE_DTYPES.map((d) => [d, requestBytes(t, d)])) as Record<WireDtype, number>,
  };
  rows.push(row);
  console.log(
    `T=${t}: layer wasm ${row.wasm1.layerMs.toFixed(2)} ms, node(1t) ${row.node1.layerMs.toFixed(2)} ms ` +
      `(${(row.wasm1.layerMs / row.node1.layerMs).toFixed(2)}x), node(default) ${
        row.nodeDefault.layerMs.toFixed(2)
      } ms; ` +
      `embed wasm ${row.wasm1.embedMs.toFixed(2)} / node ${row.node1.embedMs.toFixed(2)} ms; bytes ` +
      WIRE_DTYPES.map((d) => `${d} ${row.bytes[d]}`).join(", "),
  );
}
await Promise.all([web.dispose(), node1.dispose(), nodeDefault.dispose()]);

const out = {
  model: { id: manifest.id, layers: manifest.layers, hiddenSize: D, heads: manifest.heads, ffnSize: manifest.ffnSize },
  reps: REPS,
  cores: navigator.hardwareConcurrency,
  rows,
};
if (args.json) await Deno.writeTextFile(args.json, JSON.stringify(out, null, 2) + "\n");
