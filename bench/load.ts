/**
 * Load script (not a test): drives the edge's `POST /v1/classify` on loopback at increasing concurrency for a fixed
 * time per level and reports throughput, p50/p95/p99 latency, errors (must be 0) and the RSS of both processes
 * before/after; `--soak S` then holds one concurrency for S seconds and reports the RSS growth (goal < 10%).
 *
 * By default it starts the gateway and the edge itself as child processes on 127.0.0.1 (free ports, a temporary KV
 * file, a random token, rate limit off); `--edge URL` targets a running edge instead (`--edge-pid` / `--gateway-pid`
 * give the processes whose RSS to read). Only loopback URLs are accepted. Bounded: every level stops at `--seconds`
 * or `--max-requests`, whichever comes first.
 *
 * `--gateway-env NAME=VALUE` (repeatable) adds a variable to the spawned gateway's environment only, e.g.
 * `GATEWAY_CPU_MEM_ARENA=true` or `DENO_V8_FLAGS=--max-semi-space-size=2`; `--edge-env NAME=VALUE` the same for the
 * edge. The soak prints the RSS of both processes
 * every 10 s; its "before" is the first sample, taken after the warm-up and every level.
 *
 * Run: `deno run -A bench/load.ts [--seconds 10] [--warmup 3] [--levels 1,8,32,64] [--soak 120] [--soak-concurrency 8]
 *   [--max-requests 200000] [--gateway-env NAME=VALUE ...] [--edge-env NAME=VALUE ...] [--json out.json]`
 * Exit code 1 when any request failed.
 * @module
 */
import { ensureParentDir } from "../scripts/cli.ts";
import { parseArgs } from "node:util";
import { GATEWAY_V8_FLAGS } from "../gateway/config.ts";
import { type ServiceProcess, spawnService } from "../tests/e2e_spawn.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "10" },
    warmup: { type: "string", default: "3" },
    levels: { type: "string", default: "1,8,32,64" },
    soak: { type: "string", default: "0" },
    "soak-concurrency": { type: "string", default: "8" },
    "max-requests": { type: "string", default: "200000" },
    edge: { type: "string" },
    "edge-pid": { type: "string" },
    "gateway-pid": { type: "string" },
    "gateway-env": { type: "string", multiple: true, default: [] },
    "edge-env": { type: "string", multiple: true, default: [] },
    json: { type: "string" },
  },
});
const seconds = Number(args.seconds);
const levels = args.levels.split(",").map(Number);
const soakSeconds = Number(args.soak);
const soakConcurrency = Number(args["soak-concurrency"]);
const maxRequests = Number(args["max-requests"]);
for (const [name, v] of [["seconds", seconds], ["soak", soakSeconds], ["max-requests", maxRequests]] as const) {
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} must be a non-negative number`);
}
if (levels.some((c) => !Number.isInteger(c) || c < 1 || c > 1024)) throw new Error("--levels: integers in [1, 1024]");
function envPairs(flag: string, pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const pair of pairs) {
    const m = /^([A-Za-z_][A-Za-z0-9_]*)=(.*)$/s.exec(pair);
    if (!m) throw new Error(`${flag} must be NAME=VALUE, got "${pair}"`);
    env[m[1]!] = m[2]!;
  }
  if (args.edge !== undefined && pairs.length > 0) {
    throw new Error(`${flag} applies to the services this script spawns; it cannot be used with --edge`);
  }
  return env;
}
const gatewayEnv = envPairs("--gateway-env", args["gateway-env"]);
const edgeEnv = envPairs("--edge-env", args["edge-env"]);

function assertLoopback(url: string): void {
  const host = new URL(url).hostname;
  if (!["127.0.0.1", "localhost", "[::1]", "::1"].includes(host)) {
    throw new Error(`refusing to load ${url}: loopback only (127.0.0.1, localhost, ::1)`);
  }
}

/** Resident set size of a process in MiB (Linux `/proc`), or null when unknown. */
function rssMiB(pid: number | undefined): number | null {
  if (pid === undefined) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(Deno.readTextFileSync(`/proc/${pid}/status`));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

async function sentences(): Promise<string[]> {
  const tsv = await Deno.readTextFile(new URL("../tests/fixtures/e2e/sst2_dev_200.tsv", import.meta.url));
  return tsv.split("\n").slice(1).map((l) => l.split("\t")[0]!.trim()).filter((t) => t !== "");
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

interface LevelResult {
  concurrency: number;
  seconds: number;
  requests: number;
  errors: number;
  errorKinds: Record<string, number>;
  rps: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
  offloaded: number;
  degraded: number;
  edgeRssBeforeMiB: number | null;
  edgeRssAfterMiB: number | null;
  gatewayRssBeforeMiB: number | null;
  gatewayRssAfterMiB: number | null;
}

/** Runs `concurrency` closed-loop clients for `durationS` seconds (or until `maxRequests`). */
async function drive(
  edgeUrl: string,
  texts: readonly string[],
  concurrency: number,
  durationS: number,
  pids: { edge?: number; gateway?: number },
  onTick?: (elapsedS: number) => void,
): Promise<LevelResult> {
  const latencies: number[] = [];
  const errorKinds: Record<string, number> = {};
  let offloaded = 0, degraded = 0, next = 0, started = 0;
  const edgeBefore = rssMiB(pids.edge), gatewayBefore = rssMiB(pids.gateway);
  const t0 = performance.now();
  const deadline = t0 + durationS * 1000;
  let lastTick = t0;
  const worker = async () => {
    while (performance.now() < deadline && started < maxRequests) {
      started++;
      const text = texts[next++ % texts.length]!;
      const t = performance.now();
      try {
        const res = await fetch(`${edgeUrl}/v1/classify`, {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ text }),
          signal: AbortSignal.timeout(30_000),
        });
        const body = await res.json();
        const ms = performance.now() - t;
        if (res.status !== 200) errorKinds[`http ${res.status}`] = (errorKinds[`http ${res.status}`] ?? 0) + 1;
        else {
          latencies.push(ms);
          if (body.answeredBy === "gateway") offloaded++;
          if (body.degraded) degraded++;
        }
      } catch (e) {
        const kind = e instanceof Error ? e.name : "error";
        errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
      }
      const now = performance.now();
      if (onTick && now - lastTick >= 10_000) {
        lastTick = now;
        onTick((now - t0) / 1000);
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - t0) / 1000;
  const sorted = Float64Array.from(latencies).sort();
  const errors = Object.values(errorKinds).reduce((a, b) => a + b, 0);
  return {
    concurrency,
    seconds: +elapsed.toFixed(2),
    requests: latencies.length + errors,
    errors,
    errorKinds,
    rps: +(latencies.length / elapsed).toFixed(1),
    p50Ms: +percentile(sorted, 0.5).toFixed(1),
    p95Ms: +percentile(sorted, 0.95).toFixed(1),
    p99Ms: +percentile(sorted, 0.99).toFixed(1),
    maxMs: +(sorted.at(-1) ?? NaN).toFixed(1),
    offloaded,
    degraded,
    edgeRssBeforeMiB: round(edgeBefore),
    edgeRssAfterMiB: round(rssMiB(pids.edge)),
    gatewayRssBeforeMiB: round(gatewayBefore),
    gatewayRssAfterMiB: round(rssMiB(pids.gateway)),
  };
}

function round(x: number | null): number | null {
  return x === null ? null : +x.toFixed(1);
}

function growth(before: number | null, after: number | null): string {
  return before === null || after === null ? "n/a" : `${(((after - before) / before) * 100).toFixed(1)}%`;
}

const texts = await sentences();
const services: ServiceProcess[] = [];
let edgeUrl = args.edge;
const pids: { edge?: number; gateway?: number } = {};
if (args["edge-pid"]) pids.edge = Number(args["edge-pid"]);
if (args["gateway-pid"]) pids.gateway = Number(args["gateway-pid"]);
const kvDir = edgeUrl ? undefined : await Deno.makeTempDir({ prefix: "splitee-load-" });
let exitCode = 0;
try {
  if (edgeUrl === undefined) {
    const token = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0"))
      .join("");
    const gateway = await spawnService("gateway/main.ts", {
      DENO_V8_FLAGS: GATEWAY_V8_FLAGS, // as `deno task gateway` runs it; `--gateway-env DENO_V8_FLAGS=` overrides
      ...gatewayEnv,
      GATEWAY_PORT: "0",
      GATEWAY_HOSTNAME: "127.0.0.1",
      GATEWAY_TOKEN: token,
    }, /serving .* on (http:\/\/\S+)/);
    services.push(gateway);
    console.error(/^gateway: models=.*$/m.exec(gateway.output())?.[0] ?? "gateway: (no configuration line)");
    const edge = await spawnService("edge/main.ts", {
      EDGE_PORT: "0",
      EDGE_HOSTNAME: "127.0.0.1",
      GATEWAY_URL: gateway.url,
      GATEWAY_TOKEN: token,
      EDGE_KV_PATH: `${kvDir}/policy.kv`,
      EDGE_RATE_LIMIT_RPS: "0",
      ...edgeEnv,
    }, /listening on (http:\/\/\S+)/);
    services.push(edge);
    edgeUrl = edge.url;
    pids.edge = edge.pid;
    pids.gateway = gateway.pid;
  }
  assertLoopback(edgeUrl);
  // Warm-up: every ONNX session opened on both sides before anything is measured.
  await drive(edgeUrl, texts, 4, Number(args.warmup), {});

  const results: LevelResult[] = [];
  for (const c of levels) {
    const r = await drive(edgeUrl, texts, c, seconds, pids);
    results.push(r);
    console.error(`concurrency ${c}: ${JSON.stringify(r)}`);
  }
  let soak: Record<string, unknown> | undefined;
  if (soakSeconds > 0) {
    const samples: Array<{ s: number; edgeMiB: number | null; gatewayMiB: number | null }> = [];
    const sample = (s: number) =>
      samples.push({ s, edgeMiB: round(rssMiB(pids.edge)), gatewayMiB: round(rssMiB(pids.gateway)) });
    sample(0);
    const r = await drive(edgeUrl, texts, soakConcurrency, soakSeconds, pids, (s) => {
      sample(+s.toFixed(0));
      console.error(
        `soak ${s.toFixed(0)} s: edge ${samples.at(-1)!.edgeMiB} MiB, gateway ${samples.at(-1)!.gatewayMiB} MiB`,
      );
    });
    sample(r.seconds);
    // Growth over the whole soak, and over its second half (a one-time step, such as an allocator arena sized to
    // the largest input seen, shows in the first figure only; a leak shows in both).
    const mid = samples.find((x) => x.s >= soakSeconds / 2) ?? samples[0]!;
    soak = {
      ...r,
      samples,
      edgeGrowth: growth(r.edgeRssBeforeMiB, r.edgeRssAfterMiB),
      gatewayGrowth: growth(r.gatewayRssBeforeMiB, r.gatewayRssAfterMiB),
      edgeGrowthSecondHalf: growth(mid.edgeMiB, r.edgeRssAfterMiB),
      gatewayGrowthSecondHalf: growth(mid.gatewayMiB, r.gatewayRssAfterMiB),
    };
    results.push(r);
  }
  const policy = await (await fetch(`${edgeUrl}/v1/policy`)).json();

  console.log(
    `\nLoad on ${edgeUrl}/v1/classify, ${texts.length} SST-2 dev sentences round-robin, ${seconds} s per level`,
  );
  console.log(
    "\n| concurrency | requests | errors | req/s | p50 ms | p95 ms | p99 ms | max ms | offloaded | degraded | edge RSS MiB before -> after | gateway RSS MiB before -> after |",
  );
  console.log("|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---|");
  for (const r of results) {
    console.log(
      `| ${r.concurrency}${
        r === results.at(-1) && soak ? ` (soak ${soakSeconds} s)` : ""
      } | ${r.requests} | ${r.errors} | ${r.rps} | ${r.p50Ms} | ${r.p95Ms} | ${r.p99Ms} | ${r.maxMs} | ${r.offloaded} | ${r.degraded} | ${r.edgeRssBeforeMiB} -> ${r.edgeRssAfterMiB} | ${r.gatewayRssBeforeMiB} -> ${r.gatewayRssAfterMiB} |`,
    );
  }
  if (soak) {
    console.log(
      `\nSoak RSS growth (goal < 10%): edge ${soak.edgeGrowth}, gateway ${soak.gatewayGrowth} over ${soakSeconds} s; ` +
        `second half: edge ${soak.edgeGrowthSecondHalf}, gateway ${soak.gatewayGrowthSecondHalf}`,
    );
    const samples = soak.samples as Array<{ s: number; edgeMiB: number | null; gatewayMiB: number | null }>;
    console.log(
      `RSS samples (s: edge/gateway MiB): ${samples.map((x) => `${x.s}: ${x.edgeMiB}/${x.gatewayMiB}`).join(", ")}`,
    );
  }
  console.log(
    `\nPolicy after the run: ${policy.policy}, t = ${policy.t}, chosen arm ${policy.chosenArm}, recent offload rate ${policy.recent?.offloadRate}`,
  );
  const errors = results.reduce((a, r) => a + r.errors, 0);
  console.log(`Errors: ${errors}`);
  if (errors > 0) exitCode = 1;
  if (args.json) {
    await ensureParentDir(args.json);
    await Deno.writeTextFile(
      args.json,
      JSON.stringify({ args, levels: results, soak, policy: { t: policy.t, recent: policy.recent } }, null, 2),
    );
  }
} finally {
  for (const s of services.reverse()) {
    const code = await s.stop("SIGTERM").catch(async (e) => {
      console.error(e instanceof Error ? e.message : e);
      await s.kill();
      return -1;
    });
    if (code !== 0) exitCode = 1;
  }
  if (kvDir) await Deno.remove(kvDir, { recursive: true });
}
Deno.exit(exitCode);
