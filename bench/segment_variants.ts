/**
 * Edge segment variants (the committed export vs a variant directory: int8 dynamic quantisation from
 * bench/quantize_segments.py, float16 from bench/fp16_segments.py, fused layers from bench/fuse_segments.py): accuracy of
 * every exit on SST-2 dev and a fixed-seed IMDb test sample, and prediction agreement with float32 per exit.
 * Both variants run on the same runtime (native by default: same ONNX graphs and MLAS kernels as WASM, much faster to
 * evaluate; `--runtime wasm` checks the WASM build itself). The variant's files are loaded with `verify: false`
 * (its manifest is the float32 one).
 *
 * Run: `deno run -A bench/segment_variants.ts --variant /tmp/splitee-bench/sentiment-int8 [--runtime native|wasm]
 *       [--set sst2|imdb|both] [--imdb-rows 1000] [--limit N] [--json out.json]`
 * @module
 */
import { ensureParentDir } from "../scripts/cli.ts";
import { parseArgs } from "node:util";
import { loadWebRunner } from "../edge/runtime/onnx.ts";
import { loadNodeRunner } from "../gateway/runtime/onnx.ts";
import { argmax } from "../shared/math.ts";
import { type ModelSource, padBatch, rowsOf, runAllExits } from "../shared/model_io.ts";
import type { SegmentRunner } from "../shared/tensor.ts";
import { imdbSample, modelSource, type Row, sst2Dev, tokenizerFor } from "./data.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    variant: { type: "string" },
    runtime: { type: "string", default: "native" },
    set: { type: "string", default: "both" },
    "imdb-rows": { type: "string", default: "1000" },
    limit: { type: "string" },
    json: { type: "string" },
  },
});
if (!args.variant) throw new Error("--variant <dir> is required");
const base = await modelSource();
const dir = args.variant.endsWith("/") ? args.variant : `${args.variant}/`;
const variant: ModelSource = { manifest: base.manifest, files: (name) => Deno.readFile(`${dir}${name}`) };
const L = base.manifest.layers;
const tokenizer = await tokenizerFor(base.manifest);
const load = (src: ModelSource, verify: boolean) =>
  args.runtime === "wasm"
    ? loadWebRunner(src, { preload: "all", verify })
    : loadNodeRunner(src, { preload: "all", verify });
/** Column name of the variant in the tables and the JSON: its directory's name. */
const VARIANT = dir.replace(/\/+$/, "").split("/").pop()!;
const runners: Record<string, SegmentRunner> = { float32: await load(base, true), variant: await load(variant, false) };

async function predictions(runner: SegmentRunner, rows: readonly Row[]): Promise<number[][]> {
  const enc = rows.map((r) => tokenizer.encode(r.text));
  const order = enc.map((_, i) => i).sort((a, b) => enc[a]!.inputIds.length - enc[b]!.inputIds.length);
  const preds: number[][] = new Array(rows.length); // [row][exit]
  const budget = args.runtime === "wasm" ? 1024 : 4096;
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && (end - start + 1) * enc[order[end]!]!.inputIds.length <= budget) end++;
    const idx = order.slice(start, end);
    start = end;
    const logits = await runAllExits(runner, padBatch(idx.map((i) => enc[i]!), { padId: tokenizer.padId }));
    const perExit = logits.map((t) => rowsOf(t).map((r) => argmax(r)));
    idx.forEach((i, r) => (preds[i] = perExit.map((p) => p[r]!)));
  }
  return preds;
}

const results: unknown[] = [];
const sets: [string, () => Promise<Row[]>][] = [];
if (args.set !== "imdb") sets.push(["SST-2 dev", sst2Dev]);
if (args.set !== "sst2") {
  sets.push([`IMDb test sample (${args["imdb-rows"]})`, () => imdbSample(Number(args["imdb-rows"]))]);
}
for (const [name, read] of sets) {
  const all = await read();
  const rows = args.limit ? all.slice(0, Number(args.limit)) : all;
  const t0 = performance.now();
  const p32 = await predictions(runners.float32!, rows);
  const t1 = performance.now();
  const p8 = await predictions(runners.variant!, rows);
  const t2 = performance.now();
  const acc = (p: number[][], k: number) => (100 * rows.filter((r, i) => p[i]![k] === r.label).length) / rows.length;
  console.log(
    `\n## ${name}: ${rows.length} rows, ${args.runtime}; all exits float32 ${((t1 - t0) / 1000).toFixed(1)}s, ` +
      `${VARIANT} ${((t2 - t1) / 1000).toFixed(1)}s`,
  );
  console.log(`| exit | float32 acc | ${VARIANT} acc | Δ (pts) | ${VARIANT} disagrees with float32 |`);
  console.log("|---:|---:|---:|---:|---:|");
  const perExit = [];
  for (let k = 0; k < L; k++) {
    const a32 = acc(p32, k), a8 = acc(p8, k);
    const flips = rows.filter((_, i) => p32[i]![k] !== p8[i]![k]).length;
    perExit.push({ exit: k + 1, float32: a32, variant: a8, flips });
    console.log(
      `| ${k + 1} | ${a32.toFixed(2)} | ${a8.toFixed(2)} | ${(a8 - a32 >= 0 ? "+" : "") + (a8 - a32).toFixed(2)} | ` +
        `${flips} (${((100 * flips) / rows.length).toFixed(2)}%) |`,
    );
  }
  const maxAbs = Math.max(...perExit.map((e) => Math.abs(e.variant - e.float32)));
  console.log(`max |Δacc| over exits: ${maxAbs.toFixed(2)} pts`);
  results.push({
    name,
    rows: rows.length,
    runtime: args.runtime,
    perExit,
    seconds: { float32: (t1 - t0) / 1000, variant: (t2 - t1) / 1000 },
  });
}
for (const r of Object.values(runners)) await r.dispose();
if (args.json) {
  await ensureParentDir(args.json);
  await Deno.writeTextFile(args.json, JSON.stringify(results, null, 1));
}
