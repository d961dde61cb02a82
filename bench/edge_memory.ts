/**
 * RSS of the real edge process (`edge/main.ts`, onnxruntime-web) serving three models versus one, side by side in one
 * run. Per configuration and round a fresh edge is spawned with `EDGE_PORT=0`, `EDGE_KV_PATH=:memory:`,
 * `EDGE_RATE_LIMIT_RPS=0` and `GATEWAY_URL` on a closed port (every offload fails fast and the edge completes the
 * request itself, so a model's sessions all open once its policy has explored the deep arms). RSS (`VmRSS`) and peak
 * (`VmHWM`) of the child are read from `/proc/<pid>/status`:
 * - `listening`: when the listening line appears (the default model's sessions still preloading);
 * - `idle`: once RSS has not moved by more than 1 MB for 3 s (the preload has finished);
 * - `1 request`: after one request to the default model (sentiment);
 * - `13 requests`: after 12 more to the default model (UCB explores all 12 arms first, so all its sessions are open);
 * - for the three-model edge, the same for `paraphrase-en` and then `entailment-en` (sentence pairs).
 *
 * With `--baseline ROOT` (a folder holding another export of `sentiment/`, `paraphrase/` and `entailment/`, e.g. the
 * previous commit's models), the same two configurations also run on those files, interleaved in each round.
 *
 * Each `--env K=V[,K=V...]` adds the two configurations once more with those variables in the child's environment
 * (e.g. `EDGE_CPU_MEM_ARENA=true`, or glibc's `MALLOC_ARENA_MAX=2`).
 *
 * Run: `deno run -A bench/edge_memory.ts [--rounds 2] [--baseline /tmp/old-models] [--env K=V,...]... [--json out.json]`
 * @module
 */
import { ensureParentDir } from "../scripts/cli.ts";
import { parseArgs } from "node:util";
import { spawnService } from "../tests/e2e_spawn.ts";
import { sst2Dev } from "./data.ts";
import { parseEnvSpec } from "./env_spec.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    rounds: { type: "string", default: "1" },
    json: { type: "string" },
    baseline: { type: "string" },
    env: { type: "string", multiple: true },
  },
});

interface Mem {
  readonly step: string;
  readonly rssMb: number;
  readonly peakMb: number;
}

function memOf(pid: number, step: string): Mem {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (field: string) => Number(new RegExp(`${field}:\\s+(\\d+) kB`).exec(status)![1]);
  return { step, rssMb: Math.round(kb("VmRSS") / 1024), peakMb: Math.round(kb("VmHWM") / 1024) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitIdle(pid: number): Promise<number> {
  const t0 = performance.now();
  let last = memOf(pid, "").rssMb;
  let stableSince = performance.now();
  while (performance.now() - t0 < 60_000) {
    await sleep(200);
    const now = memOf(pid, "").rssMb;
    if (Math.abs(now - last) > 1) {
      last = now;
      stableSince = performance.now();
    } else if (performance.now() - stableSince >= 3000) break;
  }
  return Math.round(performance.now() - t0);
}

const sentences = (await sst2Dev()).map((r) => r.text);
const PAIRS: Record<string, [string, string][]> = {
  "paraphrase-en": [
    ["The company said profits rose in the third quarter.", "Profits increased in the third quarter, the firm said."],
    ["He left the meeting early.", "The weather was cold all week."],
  ],
  "entailment-en": [
    ["A man is playing a guitar on stage.", "A person is performing music."],
    ["Two dogs run through a field.", "The animals are sleeping indoors."],
  ],
};

/** Sends one request; returns how many layers the edge ran for it. */
async function classify(port: number, model: string | undefined, i: number): Promise<number> {
  const body = model === undefined
    ? { text: sentences[i % sentences.length]! }
    : { model, text: PAIRS[model]![i % 2]![0], textPair: PAIRS[model]![i % 2]![1] };
  const res = await fetch(`http://127.0.0.1:${port}/v1/classify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`classify ${model ?? "default"} answered ${res.status}: ${text}`);
  return (JSON.parse(text) as { exitConfidences: number[] }).exitConfidences.length;
}

async function measure(label: string, env: Record<string, string>, models: (string | undefined)[]) {
  const t0 = performance.now();
  const child = await spawnService("edge/main.ts", {
    EDGE_PORT: "0",
    EDGE_KV_PATH: ":memory:",
    EDGE_RATE_LIMIT_RPS: "0",
    GATEWAY_URL: "http://127.0.0.1:9",
    EDGE_OFFLOAD_TIMEOUT_MS: "500",
    ...env,
  }, /listening on (http:\/\/\S+)/);
  const steps: Mem[] = [];
  try {
    const port = Number(new URL(child.url).port);
    const listenMs = Math.round(performance.now() - t0);
    steps.push(memOf(child.pid, "listening"));
    const idleMs = await waitIdle(child.pid);
    steps.push(memOf(child.pid, "idle"));
    let n = 0;
    for (const model of models) {
      const name = model ?? "sentiment-en (default)";
      let deepest = await classify(port, model, n++);
      steps.push(memOf(child.pid, `${name}: 1 request (${deepest} layers run)`));
      for (let i = 0; i < 12; i++) deepest = Math.max(deepest, await classify(port, model, n++));
      steps.push(memOf(child.pid, `${name}: 13 requests (deepest: ${deepest} layers)`));
    }
    return { label, listenMs, idleMs, steps };
  } finally {
    await child.stop();
  }
}

type Config = readonly [string, Record<string, string>, readonly (string | undefined)[]];
const THREE = [undefined, "paraphrase-en", "entailment-en"] as const;
const configs: Config[] = [
  ["3 models (default EDGE_MODEL_DIRS)", {}, THREE],
  ["sentiment only (EDGE_MODEL_DIR=models/sentiment)", { EDGE_MODEL_DIR: "models/sentiment" }, [undefined]],
];
if (args.baseline !== undefined) {
  const root = Deno.realPathSync(args.baseline);
  configs.push(
    [`baseline 3 models (${root})`, {
      EDGE_MODEL_DIRS: ["sentiment", "paraphrase", "entailment"].map((m) => `${root}/${m}`).join(","),
    }, THREE],
    [`baseline sentiment only (${root}/sentiment)`, { EDGE_MODEL_DIR: `${root}/sentiment` }, [undefined]],
  );
}

for (const spec of args.env ?? []) {
  const extra = parseEnvSpec(spec, "--env");
  configs.push(
    [`3 models, ${spec}`, extra, THREE],
    [`sentiment only, ${spec}`, { EDGE_MODEL_DIR: "models/sentiment", ...extra }, [undefined]],
  );
}

const results = [];
for (let round = 1; round <= Number(args.rounds); round++) {
  for (const [label, env, models] of configs) {
    const r = await measure(label, env, [...models]);
    results.push({ round, ...r });
    console.log(`\nround ${round}: ${label} (listening after ${r.listenMs} ms, idle after ${r.idleMs} ms more)`);
    console.log("| step | RSS MB | peak RSS MB |\n|---|---:|---:|");
    for (const s of r.steps) console.log(`| ${s.step} | ${s.rssMb} | ${s.peakMb} |`);
  }
}
if (args.json) {
  await ensureParentDir(args.json);
  await Deno.writeTextFile(args.json, JSON.stringify(results, null, 2));
}
