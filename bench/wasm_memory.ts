/**
 * RSS of onnxruntime-web (1 thread) with the default model's 13 sessions open, under session options the edge runner
 * does not expose yet (`enableCpuMemArena`, `enableMemPattern`), and with lazily opened prefixes. One configuration
 * per process; run each in a fresh process:
 *
 *   for v in default no-arena no-pattern neither; do deno run -A bench/wasm_memory.ts --variant $v; done
 *   deno run -A bench/wasm_memory.ts --variant default --layers 4   # embed + layers 1..4 only
 *   deno run -A bench/wasm_memory.ts --dir /tmp/splitee-bench/sentiment-int8   # another model directory
 *   deno run -A --v8-flags=--expose-gc bench/wasm_memory.ts --dirs models/sentiment,models/paraphrase,models/entailment
 *
 * Prints one JSON line: RSS after init, after the sessions, after a T = 64 pass through them, and peak (VmHWM).
 * With `--dirs`, opens every listed model's sessions one model after the other in the same process (one
 * onnxruntime-web instance, as the edge does) and prints one JSON line per model with the RSS after its sessions and
 * pass; with `--v8-flags=--expose-gc` the JS heap is collected before each reading, so the increments are the WASM
 * heap's and not the garbage collector's timing.
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
    dirs: { type: "string" },
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
if (args.dirs !== undefined) {
  await perModel(args.dirs.split(","));
  Deno.exit(0);
}
const rssInit = rssMb();
const t0 = performance.now();
const dir = args.dir ? new URL(`file://${args.dir.endsWith("/") ? args.dir : `${args.dir}/`}`) : MODEL_DIR;
const sessions = await openSessions(dir, manifest);
const sessionsMs = performance.now() - t0;
const rssSessions = rssMb();
const t1 = performance.now();
const h = await passT64(manifest, sessions);
const firstPassMs = performance.now() - t1;
if (h.dims[2] !== manifest.hiddenSize) throw new Error("unexpected output");
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

type Manifest = typeof manifest;
type Session = Awaited<ReturnType<typeof ort.InferenceSession.create>>;
interface Sessions {
  readonly embed: Session;
  readonly segs: Session[];
}

/** The embedding's and the first `--layers` layers' sessions of the model whose files are in `base`. */
async function openSessions(base: URL, m: Manifest): Promise<Sessions> {
  const open = async (file: string) =>
    await ort.InferenceSession.create(await Deno.readFile(new URL(file, base)), {
      executionProviders: ["wasm"],
      graphOptimizationLevel: "all",
      ...extra,
    });
  const embed = await open(m.embed.file);
  const segs = [];
  for (const s of m.segments.slice(0, layers)) segs.push(await open(s.file));
  return { embed, segs };
}

/** One pass of 64 tokens through the sessions; returns the last hidden state. */
async function passT64(m: Manifest, { embed, segs }: Sessions) {
  const n = 64;
  const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {
    [m.embed.inputs[0]!]: new ort.Tensor("int64", BigInt64Array.from({ length: n }, (_, i) => BigInt(1000 + i)), [
      1,
      n,
    ]),
  };
  if (m.embed.inputs[1] !== undefined) {
    feeds[m.embed.inputs[1]] = new ort.Tensor("int64", new BigInt64Array(n), [1, n]);
  }
  const mask = new ort.Tensor("float32", new Float32Array(n).fill(1), [1, n]);
  let hidden = (await embed.run(feeds))[m.embed.outputs[0]!]!;
  for (const [k, s] of segs.entries()) {
    const seg = m.segments[k]!;
    hidden = (await s.run({ [seg.inputs[0]!]: hidden, [seg.inputs[1]!]: mask }))[seg.outputs[0]!]!;
  }
  return hidden;
}

/** `--dirs`: every model's sessions and one T = 64 pass, model after model, RSS after each (GC first when exposed). */
async function perModel(dirs: string[]): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const settledMb = () => {
    gc?.();
    return rssMb();
  };
  console.log(JSON.stringify({ step: "init", gcBeforeReading: gc !== undefined, rssMb: settledMb() }));
  const keep: unknown[] = [];
  for (const d of dirs) {
    const base = new URL(`file://${Deno.realPathSync(d)}/`);
    const m = JSON.parse(await Deno.readTextFile(new URL("manifest.json", base))) as typeof manifest;
    const t0 = performance.now();
    const sessions = await openSessions(base, m);
    const ms = performance.now() - t0;
    const rssSessionsMb = settledMb();
    await passT64(m, sessions);
    keep.push(sessions);
    console.log(JSON.stringify({
      step: d,
      sessions: 1 + sessions.segs.length,
      sessionsMs: Math.round(ms),
      rssSessionsMb,
      rssAfterPassMb: settledMb(),
      peakRssMb: Math.round(peakMb()),
    }));
  }
}
