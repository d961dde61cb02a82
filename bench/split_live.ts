/**
 * Live latency of every split of a model too big for the edge (benchmark script, not a test): gateway (all layers),
 * link emulator (bench/link_emulator.ts, in this process) and an edge holding layers 1..K (`EDGE_MAX_SPLIT=K`) run on
 * loopback; the edge's `GATEWAY_URL` points at the emulator. Early exit is off (`SPLITEE_ALPHA=1`): with random
 * weights the exits mean nothing, every request offloads, and the fastest split is the one that keeps the least work
 * on the slower edge.
 *
 * Per RTT x bandwidth cell a fresh edge starts (in-memory KV, fixed seed, measured cost mode, its default policy
 * `splitee-s-adaptive`), and the same stream of SST-2 dev sentences is sent one at a time:
 * 1. each fixed split k = 1..K: `--n` requests pinned with `{"split": k, "earlyExit": false}` (pinned requests do
 *    not teach the policy);
 * 2. the measured-cost policy: `--warmup` unpinned requests, then `--n` more, measured.
 * Reported per cell: median and p95 client-side end-to-end latency of every fixed split and of the policy, the best
 * fixed split by median, the policy's median against it, and the split the policy played most in its measured part.
 *
 * Run: `deno run -A bench/split_live.ts --model models/.work-bert-base/model --max-split 4 [--rtts 5,20,50,100]
 *   [--mbps 10,100,1000] [--n 20] [--warmup 20] [--seed 7] [--gateway-threads 1] [--json out.json]`
 * (`--gateway-threads`: onnxruntime intra-op threads of the gateway; 1 by default because edge and gateway share the
 * benchmark host's cores, and idle onnxruntime worker threads spin)
 * @module
 */
import { parseArgs } from "node:util";
import { spawnService } from "../tests/e2e_spawn.ts";
import { startLinkEmulator } from "./link_emulator.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string", default: "models/.work-bert-base/model" },
    "max-split": { type: "string", default: "4" },
    rtts: { type: "string", default: "5,20,50,100" },
    mbps: { type: "string", default: "10,100,1000" },
    n: { type: "string", default: "20" },
    warmup: { type: "string", default: "20" },
    seed: { type: "string", default: "7" },
    "ms-per-unit": { type: "string", default: "10" },
    "gateway-threads": { type: "string", default: "1" },
    data: { type: "string", default: "tests/fixtures/e2e/sst2_dev_200.tsv" },
    json: { type: "string" },
  },
});
const K = Number(args["max-split"]);
const N = Number(args.n);
const WARMUP = Number(args.warmup);
const rtts = args.rtts.split(",").map(Number);
const mbpsList = args.mbps.split(",").map(Number);
const TOKEN = "split-live-token-0123456789abcdef";

const texts = (await Deno.readTextFile(args.data)).split("\n").slice(1).map((l) => l.split("\t")[0]!.trim())
  .filter((t) => t !== "");

function percentile(xs: readonly number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

async function classify(url: string, body: Record<string, unknown>) {
  const t = performance.now();
  const res = await fetch(`${url}/v1/classify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(60_000),
  });
  const json = await res.json();
  const ms = performance.now() - t;
  if (res.status !== 200) throw new Error(`classify answered ${res.status}: ${JSON.stringify(json)}`);
  if (json.degraded) throw new Error(`degraded answer (${json.degradedReason}): the gateway or link failed`);
  return { ms, split: json.splitLayer as number, answeredBy: json.answeredBy as string };
}

interface Stat {
  p50: number;
  p95: number;
}
interface Cell {
  rttMs: number;
  mbps: number;
  fixed: Stat[];
  policy: Stat & { mostPlayed: number; share: number };
  best: number;
  policyVsBest: number;
}

const gateway = await spawnService(
  "gateway/main.ts",
  {
    GATEWAY_PORT: "0",
    GATEWAY_TOKEN: TOKEN,
    GATEWAY_MODEL_DIRS: args.model,
    // Edge and gateway share this host's cores: onnxruntime's spinning worker threads would take the edge's CPU.
    GATEWAY_INTRA_OP_THREADS: args["gateway-threads"],
  },
  /serving .* on (http:\/\/\S+)/,
  300_000,
);
const link = startLinkEmulator({ upstream: gateway.url });
const cells: Cell[] = [];
try {
  for (const rttMs of rtts) {
    for (const mbps of mbpsList) {
      link.setLink({ rttMs, bandwidthBps: mbps * 1e6 });
      const edge = await spawnService(
        "edge/main.ts",
        {
          EDGE_PORT: "0",
          EDGE_MODEL_DIR: args.model,
          EDGE_MAX_SPLIT: String(K),
          GATEWAY_URL: link.url,
          GATEWAY_TOKEN: TOKEN,
          EDGE_KV_PATH: ":memory:",
          EDGE_RATE_LIMIT_RPS: "0",
          EDGE_OFFLOAD_TIMEOUT_MS: "30000",
          SPLITEE_COST_MODE: "measured",
          SPLITEE_ALPHA: "1",
          SPLITEE_SEED: args.seed,
          SPLITEE_MS_PER_UNIT: args["ms-per-unit"],
        },
        /listening on (http:\/\/\S+)/,
        300_000,
      );
      try {
        // One untimed pass over every split opens all sessions on both sides.
        for (let k = 1; k <= K; k++) await classify(edge.url, { text: texts[0], split: k, earlyExit: false });
        const fixed: Stat[] = [];
        for (let k = 1; k <= K; k++) {
          const ms: number[] = [];
          for (let i = 0; i < N; i++) {
            const r = await classify(edge.url, { text: texts[i % texts.length], split: k, earlyExit: false });
            if (r.split !== k || r.answeredBy !== "gateway") throw new Error(`pinned split ${k} answered ${r.split}`);
            ms.push(r.ms);
          }
          fixed.push({ p50: percentile(ms, 0.5), p95: percentile(ms, 0.95) });
        }
        for (let i = 0; i < WARMUP; i++) await classify(edge.url, { text: texts[(N + i) % texts.length] });
        const ms: number[] = [];
        const played: number[] = [];
        for (let i = 0; i < N; i++) {
          const r = await classify(edge.url, { text: texts[i % texts.length] });
          ms.push(r.ms);
          played.push(r.split);
        }
        const counts = new Map<number, number>();
        for (const s of played) counts.set(s, (counts.get(s) ?? 0) + 1);
        const [mostPlayed, times] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0]!;
        const best = fixed.reduce((b, s, i) => (s.p50 < fixed[b]!.p50 ? i : b), 0) + 1;
        const policy = { p50: percentile(ms, 0.5), p95: percentile(ms, 0.95), mostPlayed, share: times / N };
        const cell: Cell = { rttMs, mbps, fixed, policy, best, policyVsBest: policy.p50 / fixed[best - 1]!.p50 };
        cells.push(cell);
        console.log(
          `RTT ${rttMs} ms, ${mbps} Mbit/s: ` + fixed.map((s, i) =>
            `k=${i + 1} ${s.p50.toFixed(0)}/${s.p95.toFixed(0)}`
          )
            .join(", ") +
            ` | policy ${policy.p50.toFixed(0)}/${policy.p95.toFixed(0)} ms (mostly k=${mostPlayed}, ${
              (100 * policy.share).toFixed(0)
            }%), best fixed k=${best}, policy/best ${cell.policyVsBest.toFixed(2)}`,
        );
      } finally {
        await edge.kill();
      }
    }
  }
} finally {
  await link.shutdown();
  await gateway.kill();
}
const misses = cells.filter((c) => c.policyVsBest > 1.15);
console.log(
  `policy within 15% of the best fixed split's median in ${cells.length - misses.length}/${cells.length} cells`,
);
if (args.json) {
  await Deno.writeTextFile(
    args.json,
    JSON.stringify({ model: args.model, maxSplit: K, n: N, warmup: WARMUP, cells }, null, 2) + "\n",
  );
}
