/**
 * Cold start of the real edge process (`edge/main.ts`): spawn -> listening line -> first answer of the default model
 * -> first answer of each other served model, for the three default models and for the default model alone. Fresh
 * process per run, runs interleaved; no gateway (a closed port: the first request of each model plays arm 12 on the
 * edge anyway, so no offload is attempted), `:memory:` KV. Medians in ms.
 *
 * With `--baseline ROOT` (a folder holding another export of `sentiment/`, `paraphrase/` and `entailment/`) and
 * optionally `--baseline-env K=V[,K=V...]`, both configurations also run on those files with those variables (e.g.
 * the previous commit's models and settings), interleaved with the others in every run.
 *
 * Run: `deno run -A bench/edge_cold_start.ts [--runs 3] [--baseline DIR [--baseline-env K=V,...]] [--json out.json]`
 * @module
 */
import { ensureParentDir } from "../scripts/cli.ts";
import { parseArgs } from "node:util";
import { spawnService } from "../tests/e2e_spawn.ts";
import { median } from "./data.ts";
import { parseEnvSpec } from "./env_spec.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    runs: { type: "string", default: "3" },
    json: { type: "string" },
    baseline: { type: "string" },
    "baseline-env": { type: "string" },
  },
});
const RUNS = Number(args.runs);
const BODIES: Record<string, unknown> = {
  "sentiment-en": { text: "a gorgeous, witty, seductive movie." },
  "paraphrase-en": {
    model: "paraphrase-en",
    text: "How do I learn guitar fast?",
    textPair: "What is the quickest way to learn guitar?",
  },
  "entailment-en": {
    model: "entailment-en",
    text: "A man is playing a guitar on stage.",
    textPair: "Nobody is playing music.",
  },
};
const CONFIGS = [
  { name: "3 models (default)", env: {} as Record<string, string>, models: Object.keys(BODIES) },
  {
    name: "sentiment only",
    env: { EDGE_MODEL_DIR: "models/sentiment" } as Record<string, string>,
    models: ["sentiment-en"],
  },
];
if (args.baseline !== undefined) {
  const root = Deno.realPathSync(args.baseline);
  const extra = parseEnvSpec(args["baseline-env"] ?? "", "--baseline-env");
  const dirs = ["sentiment", "paraphrase", "entailment"].map((m) => `${root}/${m}`).join(",");
  CONFIGS.push(
    { name: "baseline: 3 models", env: { EDGE_MODEL_DIRS: dirs, ...extra }, models: Object.keys(BODIES) },
    {
      name: "baseline: sentiment only",
      env: { EDGE_MODEL_DIR: `${root}/sentiment`, ...extra },
      models: ["sentiment-en"],
    },
  );
}

/** One fresh edge: ms from spawn to listening, to each model's first answer (in order), and the RSS at the end. */
async function once(env: Record<string, string>, models: string[]): Promise<Record<string, number>> {
  const t0 = performance.now();
  const edge = await spawnService("edge/main.ts", {
    EDGE_PORT: "0",
    EDGE_KV_PATH: ":memory:",
    EDGE_RATE_LIMIT_RPS: "0",
    GATEWAY_URL: "http://127.0.0.1:9",
    SPLITEE_SEED: "1",
    ...env,
  }, /listening on (http:\/\/\S+)/);
  const result: Record<string, number> = { listening: performance.now() - t0 };
  const url = edge.url;
  for (const model of models) {
    const res = await fetch(`${url}/v1/classify`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(BODIES[model]),
    });
    if (res.status !== 200) throw new Error(`${model}: ${res.status} ${await res.text()}`);
    await res.body?.cancel();
    result[`first ${model}`] = performance.now() - t0;
  }
  const status = await Deno.readTextFile(`/proc/${edge.pid}/status`);
  result["RSS MB"] = Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024;
  await edge.stop();
  return result;
}

const samples = new Map<string, Record<string, number>[]>(CONFIGS.map((c) => [c.name, []]));
for (let r = 0; r < RUNS; r++) {
  for (const c of CONFIGS) samples.get(c.name)!.push(await once(c.env, c.models));
}
const summary = CONFIGS.map((c) => {
  const runs = samples.get(c.name)!;
  const keys = Object.keys(runs[0]!);
  return { config: c.name, ...Object.fromEntries(keys.map((k) => [k, Math.round(median(runs.map((x) => x[k]!)))])) };
});
for (const row of summary) console.log(JSON.stringify(row));
if (args.json) {
  await ensureParentDir(args.json);
  await Deno.writeTextFile(args.json, JSON.stringify({ runs: RUNS, summary, samples: [...samples] }));
}
