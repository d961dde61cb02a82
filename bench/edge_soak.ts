/**
 * Edge memory over time under mixed-length traffic: the check behind the edge's default of onnxruntime-web's memory
 * arena and memory pattern off (`EDGE_CPU_MEM_ARENA`, `EDGE_MEM_PATTERN`). Without the arena every tensor is
 * malloc'd and freed inside the WASM heap, which never shrinks, so fragmentation under changing sequence lengths
 * would show up as RSS that keeps climbing. Per configuration a fresh `edge/main.ts` (default model only, in-memory
 * KV, rate limit off, `GATEWAY_URL` on a closed port so that every offload fails fast and the edge completes the
 * request itself: all 12 layers run for many requests) gets `--concurrency` closed-loop clients for `--seconds`,
 * with texts alternating between SST-2 dev sentences (4-55 tokens) and IMDb test reviews (up to 256 tokens after
 * truncation); RSS (`VmRSS`) is sampled every 10 s. Configurations run one after another, `--rounds` times.
 *
 * Run: `deno run -A bench/edge_soak.ts [--seconds 150] [--concurrency 4] [--rounds 1] [--env K=V,...]... [--json out.json]`
 * (each `--env` adds a configuration with those variables; the default configuration always runs first).
 * @module
 */
import { ensureParentDir } from "../scripts/cli.ts";
import { parseArgs } from "node:util";
import { spawnService } from "../tests/e2e_spawn.ts";
import { imdbSample, sst2Dev } from "./data.ts";
import { parseEnvSpec } from "./env_spec.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "150" },
    concurrency: { type: "string", default: "4" },
    rounds: { type: "string", default: "1" },
    env: { type: "string", multiple: true },
    json: { type: "string" },
  },
});
const seconds = Number(args.seconds), concurrency = Number(args.concurrency);
const sst2 = (await sst2Dev()).map((r) => r.text);
const imdb = (await imdbSample(500)).map((r) => r.text);
const texts = sst2.flatMap((t, i) => [t, imdb[i % imdb.length]!]);
const configs: [string, Record<string, string>][] = [
  ["default", {}],
  ...(args.env ?? []).map((spec): [string, Record<string, string>] => [spec, parseEnvSpec(spec, "--env")]),
];
const rssMb = (pid: number) =>
  Math.round(Number(/VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`))![1]) / 1024);

async function soak(env: Record<string, string>) {
  const edge = await spawnService("edge/main.ts", {
    EDGE_PORT: "0",
    EDGE_MODEL_DIR: "models/sentiment",
    EDGE_KV_PATH: ":memory:",
    EDGE_RATE_LIMIT_RPS: "0",
    EDGE_MAX_TEXT_CHARS: "40000",
    GATEWAY_URL: "http://127.0.0.1:9",
    EDGE_OFFLOAD_TIMEOUT_MS: "500",
    SPLITEE_SEED: "1",
    ...env,
  }, /listening on (http:\/\/\S+)/);
  const samples: { s: number; rssMb: number; requests: number }[] = [];
  let next = 0, done = 0, errors = 0;
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  const client = async () => {
    while (performance.now() < deadline) {
      const text = texts[next++ % texts.length]!;
      const res = await fetch(`${edge.url}/v1/classify`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text }),
      });
      await res.body?.cancel();
      if (res.status === 200) done++;
      else errors++;
    }
  };
  const sampler = setInterval(() => {
    samples.push({ s: Math.round((performance.now() - t0) / 1000), rssMb: rssMb(edge.pid), requests: done });
  }, 10_000);
  try {
    await Promise.all(Array.from({ length: concurrency }, client));
  } finally {
    clearInterval(sampler);
    samples.push({ s: Math.round((performance.now() - t0) / 1000), rssMb: rssMb(edge.pid), requests: done });
    await edge.stop();
  }
  return { samples, requests: done, errors };
}

const results = [];
for (let round = 1; round <= Number(args.rounds); round++) {
  for (const [label, env] of configs) {
    const r = await soak(env);
    const rss = r.samples.map((s) => s.rssMb);
    const first = rss[0]!, last = rss.at(-1)!;
    results.push({ round, label, ...r });
    console.log(
      `round ${round} ${label}: ${r.requests} requests, ${r.errors} errors; RSS every 10 s: ${rss.join(" ")} MB ` +
        `(first ${first}, last ${last}, max ${Math.max(...rss)}, last vs first ${
          ((100 * (last - first)) / first).toFixed(1)
        }%)`,
    );
  }
}
if (args.json) {
  await ensureParentDir(args.json);
  await Deno.writeTextFile(args.json, JSON.stringify(results, null, 1));
}
