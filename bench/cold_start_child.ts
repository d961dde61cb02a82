/**
 * One cold start, run in a fresh process by bench/cold_start.ts: load the runtime and the default model (embedding +
 * 12 layer sessions opened eagerly), then answer one SST-2 sentence (tokenize, embed, 12 layers, softmax), then a
 * second one (warm). Prints one JSON line. `performance.now()` counts from the process's time origin.
 *
 * Run: `deno run -A bench/cold_start_child.ts --runtime wasm|native [--opt all|basic|disabled] [--verify false]`
 * @module
 */
import { parseArgs } from "node:util";

const tStart = performance.now();
const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    runtime: { type: "string", default: "wasm" },
    opt: { type: "string", default: "all" },
    verify: { type: "string", default: "true" },
  },
});
const opt = args.opt as "disabled" | "basic" | "extended" | "all";
const verify = args.verify !== "false";

function vmHwmMb(): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"));
  return m ? Number(m[1]) / 1024 : NaN;
}
const rssMb = () => Deno.memoryUsage().rss / 2 ** 20;

const { modelSource, tokenizerFor } = await import("./data.ts");
const { padBatch, runLayers, rowsOf } = await import("../shared/model_io.ts");
const { softmax } = await import("../shared/math.ts");
type Runner = import("../shared/segments.ts").LoadedSegmentRunner;
const source = await modelSource();
const tokenizer = await tokenizerFor(source.manifest);
const tReady = performance.now();

let runner: Runner;
let tInit: number;
if (args.runtime === "wasm") {
  const { initWasm, loadWebRunner } = await import("../edge/runtime/onnx.ts");
  await initWasm();
  tInit = performance.now();
  runner = await loadWebRunner(source, { preload: "all", graphOptimizationLevel: opt, verify });
} else {
  const { loadNodeRunner } = await import("../gateway/runtime/onnx.ts");
  tInit = performance.now();
  runner = await loadNodeRunner(source, { preload: "all", graphOptimizationLevel: opt, verify });
}
const tLoaded = performance.now();
const rssLoaded = rssMb();

async function answer(text: string): Promise<number> {
  const batch = padBatch([tokenizer.encode(text)], { padId: tokenizer.padId });
  const h = await runner.embed(batch.inputIds, batch.tokenTypeIds);
  const r = await runLayers(runner, h, batch.attentionMask, 1, source.manifest.layers);
  return softmax(rowsOf(r.logits.at(-1)!)[0]!)[1]!;
}
const t0 = performance.now();
await answer("it 's a charming and often affecting journey .");
const tFirst = performance.now();
await answer("unflinchingly bleak and desperate");
const tSecond = performance.now();

console.log(JSON.stringify({
  runtime: args.runtime,
  opt,
  /** Process time origin to this module running (Deno startup + module graph load). */
  startupMs: tStart,
  /** Imports, manifest, vocabulary and tokenizer. */
  prepMs: tReady - tStart,
  verify,
  /** Runtime init (WASM: read, check and decompress the vendored binary, compile and instantiate it). */
  initMs: tInit - tReady,
  /** 13 sessions created (files read, sha256-checked when `verify`, graphs optimised). */
  sessionsMs: tLoaded - tInit,
  firstRequestMs: tFirst - t0,
  secondRequestMs: tSecond - tFirst,
  /** Time origin to the first answer. */
  toFirstAnswerMs: tFirst,
  rssAfterLoadMb: rssLoaded,
  rssAfterFirstMb: rssMb(),
  peakRssMb: vmHwmMb(),
}));
await runner.dispose();
