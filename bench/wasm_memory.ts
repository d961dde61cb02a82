/**
 * RSS of onnxruntime-web (1 thread) with the default model's 13 sessions open, under session options the edge runner
 * does not expose yet (`enableCpuMemArena`, `enableMemPattern`), and with lazily opened prefixes. One configuration
 * per process; run each in a fresh process:
 *
 *   for v in default no-arena no-pattern neither; do deno run -A bench/wasm_memory.ts --variant $v; done
 *   deno run -A bench/wasm_memory.ts --variant default --layers 4   # embed + layers 1..4 only
 *   deno run -A bench/wasm_memory.ts --dir /tmp/splitee-bench/sentiment-int8   # another model directory
 *
 * Prints one JSON line: RSS after init, after the sessions, after a T = 64 pass through them, and peak (VmHWM).
 * @module
 */
import { parseArgs } from "node:util";
import { initWasm } from "../edge/runtime/onnx.ts";
import { MODEL_DIR, modelSource } from "./data.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    variant: { type: "string", default: "default" },
    layers: { type: "string", default: "12" },
    dir: { type: "string" },
  },
});
const rssMb = () => Math.round(Deno.memoryUsage().rss / 2 ** 20);
const peakMb = () => Number(/VmHWM:\s+(\d+) kB/.exec(Deno.readTextFileSync("/proc/self/status"))![1]) / 1024;
const OPTIONS: Record<string, { enableCpuMemArena?: boolean; enableMemPattern?: boolean }> = {
  default: {},
  "no-arena": { enableCpuMemArena: false },
  "no-pattern": { enableMemPattern: false },
  neither: { enableCpuMemArena: false, enableMemPattern: false },
};
const extra = OPTIONS[args.variant!];
if (!extra) throw new Error(`--variant must be one of ${Object.keys(OPTIONS).join(", ")}`);
const layers = Number(args.layers);

const { manifest } = await modelSource();
const ort = await initWasm({ numThreads: 1 });
const rssInit = rssMb();
const t0 = performance.now();
const dir = args.dir ? new URL(`file://${args.dir.endsWith("/") ? args.dir : `${args.dir}/`}`) : MODEL_DIR;
const open = async (file: string) =>
  await ort.InferenceSession.create(await Deno.readFile(new URL(file, dir)), {
    executionProviders: ["wasm"],
    graphOptimizationLevel: "all",
    ...extra,
  });
const embed = await open(manifest.embed.file);
const segs = [];
for (const s of manifest.segments.slice(0, layers)) segs.push(await open(s.file));
const sessionsMs = performance.now() - t0;
const rssSessions = rssMb();

const t = 64, D = manifest.hiddenSize;
const ids = new ort.Tensor("int64", BigInt64Array.from({ length: t }, (_, i) => BigInt(1000 + i)), [1, t]);
const types = new ort.Tensor("int64", new BigInt64Array(t), [1, t]);
const mask = new ort.Tensor("float32", new Float32Array(t).fill(1), [1, t]);
const t1 = performance.now();
let h = (await embed.run({ [manifest.embed.inputs[0]!]: ids, [manifest.embed.inputs[1]!]: types }))[
  manifest.embed.outputs[0]!
]!;
for (const [k, s] of segs.entries()) {
  const seg = manifest.segments[k]!;
  h = (await s.run({ [seg.inputs[0]!]: h, [seg.inputs[1]!]: mask }))[seg.outputs[0]!]!;
}
const firstPassMs = performance.now() - t1;
if (h.dims[2] !== D) throw new Error("unexpected output");
console.log(JSON.stringify({
  variant: args.variant,
  dir: args.dir ?? "models/sentiment",
  layers,
  rssInitMb: rssInit,
  sessionsMs: Math.round(sessionsMs),
  rssSessionsMb: rssSessions,
  firstPassMs: Math.round(firstPassMs),
  rssAfterPassMb: rssMb(),
  peakRssMb: Math.round(peakMb()),
}));
