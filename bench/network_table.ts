/**
 * The split under real network conditions (benchmark script, not a test): gateway, link emulator
 * (bench/link_emulator.ts) and edge run as separate processes on loopback, the edge's `GATEWAY_URL` pointing at the
 * emulator, the edge in measured cost mode (lambda and o from measured milliseconds, edge/cost_meter.ts). For every
 * RTT x bandwidth cell the emulator is reconfigured (`PUT /_link`), a fresh edge is started with an in-memory KV
 * (`EDGE_KV_PATH=:memory:`, so cells do not share learned statistics) and a fixed seed, and the same stream of SST-2
 * dev sentences is sent one at a time. One gateway serves every cell.
 *
 * Reported per cell: p50 measured communication ms per offload (the edge's round trip minus the gateway's compute
 * time), p50 request payload bytes, the split the policy converged to (most chosen arm over the last `--tail`
 * requests), the offload rate overall and over the tail, accuracy against the labels, mean client-side latency, and
 * the o and lambda (reward units) the edge ended with.
 *
 * A first row with no delay and no cap (plain loopback through the emulator) is the reference; `--baseline false` drops it.
 *
 * Run: `deno run -A bench/network_table.ts [--requests 200] [--tail 50] [--alpha 0.95] [--rtts 5,20,80]
 *   [--mbps 1,10,100] [--seed 7] [--ms-per-unit 10] [--baseline false] [--json out.json]`
 * @module
 */
import { ensureParentDir } from "../scripts/cli.ts";
import { parseArgs } from "node:util";
import { type ServiceProcess, spawnService } from "../tests/e2e_spawn.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    requests: { type: "string", default: "200" },
    tail: { type: "string", default: "50" },
    alpha: { type: "string", default: "0.95" },
    rtts: { type: "string", default: "5,20,80" },
    mbps: { type: "string", default: "1,10,100" },
    seed: { type: "string", default: "7" },
    "ms-per-unit": { type: "string", default: "10" },
    baseline: { type: "string", default: "true" },
    data: { type: "string", default: "tests/fixtures/e2e/sst2_dev_200.tsv" },
    json: { type: "string" },
  },
});
const nRequests = Number(args.requests);
const tail = Number(args.tail);
const rtts = args.rtts.split(",").map(Number);
const mbpsList = args.mbps.split(",").map(Number);
if (!Number.isInteger(nRequests) || nRequests < 1) throw new Error("--requests must be a positive integer");
if (!Number.isInteger(tail) || tail < 1 || tail > nRequests) throw new Error("--tail must be in [1, --requests]");
if ([...rtts, ...mbpsList].some((x) => !Number.isFinite(x) || x < 0)) throw new Error("--rtts/--mbps: numbers >= 0");

const ROOT = new URL("../", import.meta.url);

interface Row {
  readonly text: string;
  readonly label: number;
}

async function readRows(path: string): Promise<Row[]> {
  const lines = (await Deno.readTextFile(new URL(path, ROOT))).split("\n").map((l) => l.replace(/\r$/, ""));
  const header = lines[0]!.split("\t");
  const ti = header.indexOf("sentence"), li = header.indexOf("label");
  if (ti < 0 || li < 0) throw new Error(`${path} needs columns sentence and label`);
  return lines.slice(1).filter((l) => l.trim() !== "").map((l) => {
    const c = l.split("\t");
    return { text: c[ti]!.trim(), label: Number(c[li]) };
  });
}

function percentile(xs: readonly number[], p: number): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))]!;
}

function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function mode(xs: readonly number[]): number {
  const counts = new Map<number, number>();
  for (const x of xs) counts.set(x, (counts.get(x) ?? 0) + 1);
  let best = NaN, n = -1;
  for (const [x, c] of counts) if (c > n || (c === n && x < best)) [best, n] = [x, c];
  return best;
}

interface Cell {
  rttMs: number;
  mbps: number;
  requests: number;
  errors: number;
  offloads: number;
  commP50Ms: number;
  /** What the emulator alone adds per exchange: RTT + (mean bytes up + down) * 8 / bandwidth. */
  linkModelMs: number;
  payloadP50Bytes: number;
  convergedSplit: number;
  convergedShare: number;
  offloadRate: number;
  tailOffloadRate: number;
  accuracy: number;
  meanLatencyMs: number;
  meanCostUnits: number;
  finalO: number;
  finalLambda: number;
  splitCounts: Record<string, number>;
}

async function runCell(
  linkUrl: string,
  token: string,
  rttMs: number,
  mbps: number,
  rows: readonly Row[],
): Promise<Cell> {
  const put = await fetch(`${linkUrl}/_link`, {
    method: "PUT",
    body: JSON.stringify({ rttMs, bandwidthBps: mbps * 1e6 }),
  });
  if (!put.ok) throw new Error(`link emulator refused settings: ${await put.text()}`);
  await put.body?.cancel();
  const before = await (await fetch(`${linkUrl}/_link`)).json();
  const edge = await spawnService("edge/main.ts", {
    EDGE_PORT: "0",
    EDGE_HOSTNAME: "127.0.0.1",
    GATEWAY_URL: linkUrl,
    GATEWAY_TOKEN: token,
    EDGE_KV_PATH: ":memory:",
    EDGE_RATE_LIMIT_RPS: "0",
    EDGE_OFFLOAD_TIMEOUT_MS: "5000",
    SPLITEE_COST_MODE: "measured",
    SPLITEE_ALPHA: args.alpha,
    SPLITEE_SEED: args.seed,
    SPLITEE_MS_PER_UNIT: args["ms-per-unit"],
  }, /listening on (http:\/\/\S+)/);
  const splits: number[] = [], offloaded: boolean[] = [], comm: number[] = [], payload: number[] = [];
  const latency: number[] = [], costUnits: number[] = [];
  let correct = 0, errors = 0;
  try {
    for (let i = 0; i < nRequests; i++) {
      const row = rows[i % rows.length]!;
      const t = performance.now();
      const res = await fetch(`${edge.url}/v1/classify`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: row.text }),
        signal: AbortSignal.timeout(30_000),
      });
      const body = await res.json();
      const ms = performance.now() - t;
      if (res.status !== 200) {
        errors++;
        continue;
      }
      latency.push(ms);
      splits.push(body.splitLayer);
      costUnits.push(body.costs.lambdaUnits);
      const off = body.answeredBy === "gateway";
      offloaded.push(off);
      if (body.degraded) errors++;
      if (body.costs.measured.commMs !== null) comm.push(body.costs.measured.commMs);
      if (body.costs.measured.payloadBytes !== null) payload.push(body.costs.measured.payloadBytes);
      if (body.labelIndex === row.label) correct++;
    }
    const policy = await (await fetch(`${edge.url}/v1/policy`)).json();
    const after = await (await fetch(`${linkUrl}/_link`)).json();
    const exchanges = after.requests - before.requests;
    const bytesPerExchange = (after.bytesUp - before.bytesUp + after.bytesDown - before.bytesDown) / exchanges;
    const tailSplits = splits.slice(-tail);
    const converged = mode(tailSplits);
    const splitCounts: Record<string, number> = {};
    for (const s of tailSplits) splitCounts[s] = (splitCounts[s] ?? 0) + 1;
    return {
      rttMs,
      mbps,
      requests: nRequests,
      errors,
      offloads: offloaded.filter(Boolean).length,
      commP50Ms: percentile(comm, 0.5),
      linkModelMs: exchanges > 0 ? rttMs + (mbps > 0 ? (bytesPerExchange * 8 * 1000) / (mbps * 1e6) : 0) : NaN,
      payloadP50Bytes: percentile(payload, 0.5),
      convergedSplit: converged,
      convergedShare: tailSplits.filter((s) => s === converged).length / tailSplits.length,
      offloadRate: offloaded.filter(Boolean).length / offloaded.length,
      tailOffloadRate: offloaded.slice(-tail).filter(Boolean).length / Math.min(tail, offloaded.length),
      accuracy: correct / latency.length,
      meanLatencyMs: mean(latency),
      meanCostUnits: mean(costUnits),
      finalO: policy.costs.o,
      finalLambda: policy.costs.lambda,
      splitCounts,
    };
  } finally {
    const code = await edge.stop("SIGTERM").catch(async () => {
      await edge.kill();
      return -1;
    });
    if (code !== 0) console.error(`edge exited with ${code}:\n${edge.output().slice(-2000)}`);
  }
}

const f = (x: number, d: number) => (Number.isFinite(x) ? x.toFixed(d) : "–");
const pct = (x: number) => `${(100 * x).toFixed(0)}%`;

const rows = (await readRows(args.data)).slice(0, nRequests);
const token = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
const services: ServiceProcess[] = [];
const cells: Cell[] = [];
try {
  const gateway = await spawnService("gateway/main.ts", {
    GATEWAY_PORT: "0",
    GATEWAY_HOSTNAME: "127.0.0.1",
    GATEWAY_TOKEN: token,
    GATEWAY_INTRA_OP_THREADS: "1",
  }, /serving .* on (http:\/\/\S+)/);
  services.push(gateway);
  const link = await spawnService(
    "bench/link_emulator.ts",
    { LINK_UPSTREAM: gateway.url },
    /listening on (http:\/\/\S+)/,
  );
  services.push(link);
  const grid: Array<[number, number]> = args.baseline === "false" ? [] : [[0, 0]];
  for (const rtt of rtts) for (const mbps of mbpsList) grid.push([rtt, mbps]);
  for (const [rtt, mbps] of grid) {
    const t = performance.now();
    const cell = await runCell(link.url, token, rtt, mbps, rows);
    cells.push(cell);
    const s = ((performance.now() - t) / 1000).toFixed(1);
    console.error(`RTT ${rtt} ms, ${mbps} Mbit/s (${s} s): ${JSON.stringify(cell)}`);
  }
} finally {
  for (const s of services.reverse()) {
    await s.stop("SIGTERM").catch(() => s.kill());
  }
}

console.log(
  `\n${nRequests} SST-2 dev sentences per cell (${args.data}, in file order, one at a time), SPLITEE_ALPHA=${args.alpha}, ` +
    `SPLITEE_COST_MODE=measured (SPLITEE_MS_PER_UNIT=${args["ms-per-unit"]}: ${
      args["ms-per-unit"]
    } ms = 1 reward unit), SPLITEE_SEED=${args.seed}, ` +
    `fresh edge with EDGE_KV_PATH=:memory: per cell; "converged split" = most chosen arm over the last ${tail} requests.\n`,
);
console.log(
  "| RTT ms | Mbit/s | link model ms | comm ms / offload (p50) | payload bytes (p50) | converged split (share of tail) | offload rate (all / tail) | accuracy | mean latency ms | mean cost (units) | final o | final lambda | errors |",
);
console.log("|---:|---:|---:|---:|---:|---|---|---:|---:|---:|---:|---:|---:|");
for (const c of cells) {
  console.log(
    `| ${c.rttMs} | ${c.mbps === 0 ? "no cap" : c.mbps} | ${f(c.linkModelMs, 1)} | ${
      f(c.commP50Ms, 1)
    } (${c.offloads} offloads) | ${f(c.payloadP50Bytes, 0)} | ` +
      `${c.convergedSplit} (${pct(c.convergedShare)}) | ${pct(c.offloadRate)} / ${pct(c.tailOffloadRate)} | ` +
      `${f(100 * c.accuracy, 1)}% | ${f(c.meanLatencyMs, 1)} | ${f(c.meanCostUnits, 3)} | ${f(c.finalO, 2)} | ${
        f(c.finalLambda, 3)
      } | ${c.errors} |`,
  );
}
if (args.json) {
  await ensureParentDir(args.json);
  await Deno.writeTextFile(args.json, JSON.stringify({ args, cells }, null, 2));
}
Deno.exit(cells.some((c) => c.errors > 0) ? 1 : 0);
