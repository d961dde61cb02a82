/**
 * Accuracy impact of lossy hidden-state encodings on the wire. For every split layer i in 1..L-1: layers 1..i run in
 * float32, each row's real-token hidden state goes through the real wire path (createOffloadRequest ->
 * encodeOffloadRequest -> decodeOffloadRequest -> unpackHidden) as float16 or int8, and layers i+1..L run on the
 * result; the final exit's prediction is compared with the all-float32 path. All on onnxruntime-node (the encodings
 * are the only difference). Rows are sorted by length and padded into batches (padding never changes a real token's
 * result: the export contract), and padded positions keep their float32 values (they are masked).
 *
 * A float32 control (split after layer 1 through the same wire path) must give zero flips: it checks the harness.
 *
 * Run: `deno run -A bench/wire_accuracy.ts [--set sst2|imdb|both] [--imdb-rows 1000] [--batch-tokens 4096]
 *       [--threads N] [--limit N (smoke test)] [--json out.json]`
 * @module
 */

import { ensureParentDir } from "../scripts/cli.ts";
import { parseArgs } from "node:util";
import { loadNodeRunner } from "../gateway/runtime/onnx.ts";
import { argmax, softmax } from "../shared/math.ts";
import { float32Tensor, padBatch, rowsOf, runLayers } from "../shared/model_io.ts";
import type { Float32Tensor } from "../shared/tensor.ts";
import {
  createOffloadRequest,
  decodeOffloadRequest,
  encodeOffloadRequest,
  unpackHidden,
  type WireDtype,
} from "../shared/wire/mod.ts";
import { imdbSample, modelSource, type Row, sst2Dev, tokenizerFor } from "./data.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    set: { type: "string", default: "both" },
    "imdb-rows": { type: "string", default: "1000" },
    "batch-tokens": { type: "string", default: "4096" },
    threads: { type: "string" },
    limit: { type: "string" },
    json: { type: "string" },
  },
});
const source = await modelSource();
const { manifest } = source;
const L = manifest.layers, D = manifest.hiddenSize;
const model = { id: manifest.id, version: manifest.version };
const limits = { model, layers: L, hiddenSize: D };
const tokenizer = await tokenizerFor(manifest);
const runner = await loadNodeRunner(source, {
  preload: "all",
  ...(args.threads ? { intraOpThreads: Number(args.threads) } : {}),
});
const batchTokens = Number(args["batch-tokens"]);
const LOSSY: readonly WireDtype[] = ["float16", "int8"];

/** Every row's real tokens of `hidden` ([B,T,D]) through the wire as `dtype`; padded positions copied unchanged. */
function throughWire(hidden: Float32Tensor, lengths: readonly number[], splitLayer: number, dtype: WireDtype) {
  const [, t] = hidden.dims as [number, number, number];
  const out = new Float32Array(hidden.data);
  lengths.forEach((len, r) => {
    const base = r * t * D;
    const req = createOffloadRequest({
      model,
      splitLayer,
      dims: [len, D],
      hidden: hidden.data.slice(base, base + len * D),
      dtype,
    });
    const decoded = decodeOffloadRequest(encodeOffloadRequest(req, limits), limits);
    out.set(unpackHidden(decoded), base);
  });
  return float32Tensor(out, hidden.dims);
}

interface Cell {
  correct: number;
  flips: number;
  maxProbDelta: number;
}

interface SetResult {
  name: string;
  rows: number;
  baselineCorrect: number;
  /** `[dtype][splitLayer - 1]` */
  cells: Record<string, Cell[]>;
  seconds: number;
}

async function evaluate(name: string, all: readonly Row[]): Promise<SetResult> {
  const rows = args.limit ? all.slice(0, Number(args.limit)) : all;
  const started = performance.now();
  const enc = rows.map((r) => tokenizer.encode(r.text));
  const order = enc.map((_, i) => i).sort((a, b) => enc[a]!.inputIds.length - enc[b]!.inputIds.length);
  const keys = [...LOSSY, "float32 control"];
  const cells: Record<string, Cell[]> = Object.fromEntries(
    keys.map((k) => [k, Array.from({ length: L - 1 }, () => ({ correct: 0, flips: 0, maxProbDelta: 0 }))]),
  );
  let baselineCorrect = 0;
  let done = 0;
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && (end - start + 1) * enc[order[end]!]!.inputIds.length <= batchTokens) end++;
    const idx = order.slice(start, end);
    start = end;
    const batch = padBatch(idx.map((i) => enc[i]!), { padId: tokenizer.padId });
    const mask = batch.attentionMask;
    const h0 = await runner.embed(batch.inputIds, batch.tokenTypeIds);
    const hiddens: Float32Tensor[] = [];
    const base = await runLayers(runner, h0, mask, 1, L, (_, out) => void hiddens.push(out.hidden));
    const baseProbs = rowsOf(base.logits[L - 1]!).map((l) => softmax(l));
    const basePred = baseProbs.map((p) => argmax(p));
    idx.forEach((i, r) => (baselineCorrect += basePred[r] === rows[i]!.label ? 1 : 0));
    const score = (key: string, split: number, logits: Float32Tensor) => {
      const cell = cells[key]![split - 1]!;
      rowsOf(logits).forEach((l, r) => {
        const p = softmax(l);
        const pred = argmax(p);
        if (pred === rows[idx[r]!]!.label) cell.correct++;
        if (pred !== basePred[r]) cell.flips++;
        for (let c = 0; c < p.length; c++) {
          cell.maxProbDelta = Math.max(cell.maxProbDelta, Math.abs(p[c]! - baseProbs[r]![c]!));
        }
      });
    };
    for (let split = 1; split < L; split++) {
      for (const dtype of LOSSY) {
        const h = throughWire(hiddens[split - 1]!, batch.lengths, split, dtype);
        score(dtype, split, (await runLayers(runner, h, mask, split + 1, L)).logits.at(-1)!);
      }
    }
    const control = throughWire(hiddens[0]!, batch.lengths, 1, "float32");
    const ctl = (await runLayers(runner, control, mask, 2, L)).logits.at(-1)!;
    score("float32 control", 1, ctl);
    done += idx.length;
    Deno.stderr.writeSync(
      new TextEncoder().encode(
        `\r${name}: ${done}/${rows.length} rows, ${((performance.now() - started) / 1000).toFixed(0)}s`,
      ),
    );
  }
  Deno.stderr.writeSync(new TextEncoder().encode("\n"));
  // The control ran at split 1 only.
  cells["float32 control"] = cells["float32 control"]!.slice(0, 1);
  return { name, rows: rows.length, baselineCorrect, cells, seconds: (performance.now() - started) / 1000 };
}

const results: SetResult[] = [];
if (args.set === "sst2" || args.set === "both") results.push(await evaluate("SST-2 dev", await sst2Dev()));
if (args.set === "imdb" || args.set === "both") {
  const n = Number(args["imdb-rows"]);
  results.push(await evaluate(`IMDb test sample (${n}, seed fixed)`, await imdbSample(n)));
}
await runner.dispose();

const pts = (x: number) => `${x >= 0 ? "+" : ""}${x.toFixed(2)}`;
for (const r of results) {
  const baseAcc = (100 * r.baselineCorrect) / r.rows;
  console.log(
    `\n## ${r.name}: ${r.rows} rows, float32 accuracy (exit ${L}) ${baseAcc.toFixed(2)}%, ${r.seconds.toFixed(0)}s`,
  );
  console.log(`| split layer | ${LOSSY.map((d) => `${d} Δacc (pts) | ${d} flips | ${d} max Δp`).join(" | ")} |`);
  console.log(`|---:|${LOSSY.map(() => "---:|---:|---:").join("|")}|`);
  for (let s = 1; s < L; s++) {
    const parts = LOSSY.map((d) => {
      const c = r.cells[d]![s - 1]!;
      return `${pts((100 * c.correct) / r.rows - baseAcc)} | ${c.flips} | ${c.maxProbDelta.toExponential(1)}`;
    });
    console.log(`| ${s} | ${parts.join(" | ")} |`);
  }
  for (const d of LOSSY) {
    const cs = r.cells[d]!;
    const maxAbs = Math.max(...cs.map((c) => Math.abs((100 * c.correct) / r.rows - baseAcc)));
    const maxFlips = Math.max(...cs.map((c) => c.flips));
    const allFlips = cs.reduce((a, c) => a + c.flips, 0);
    console.log(
      `${d}: max |Δacc| ${maxAbs.toFixed(2)} pts; flips per split at most ${maxFlips}/${r.rows} ` +
        `(${((100 * maxFlips) / r.rows).toFixed(2)}%); over all ${L - 1} splits ${allFlips}/${r.rows * (L - 1)} ` +
        `(${((100 * allFlips) / (r.rows * (L - 1))).toFixed(3)}%)`,
    );
  }
  const ctl = r.cells["float32 control"]![0]!;
  console.log(`float32 control (split 1): ${ctl.flips} flips, max Δp ${ctl.maxProbDelta.toExponential(1)}`);
}
if (args.json) {
  await ensureParentDir(args.json);
  await Deno.writeTextFile(args.json, JSON.stringify(results, null, 1));
}
