/**
 * The live counterpart of the paper's cost-reduction table: both services as real processes on loopback, one edge
 * per policy (SplitEE-S, final layer on the edge, offload everything after layer 1), the same labelled stream through
 * `POST /v1/classify` at a fixed concurrency. Reports requests/s, p50/p99 latency, accuracy against the labels,
 * offload rate, mean split and exit layer, and the measured costs (edge ms, communication ms, payload bytes).
 *
 * Usage: deno run -A bench/live_policies.ts [--sst2 872] [--imdb 1000] [--concurrency 4]
 *          [--policies splitee-s,final,offload-all] [--alpha 0.7] [--json]
 * @module
 */

import { type ServiceProcess, spawnService } from "../tests/e2e_spawn.ts";
import { imdbSample, median, type Row, sst2Dev } from "./data.ts";

interface Flags {
  sst2: number;
  imdb: number;
  concurrency: number;
  policies: string[];
  alpha: string;
  json: boolean;
}

function parseFlags(argv: readonly string[]): Flags {
  const f: Flags = {
    sst2: 872,
    imdb: 1000,
    concurrency: 4,
    policies: ["splitee-s", "final", "offload-all"],
    alpha: "0.7",
    json: false,
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!, v = argv[i + 1] ?? "";
    if (a === "--json") f.json = true;
    else if (a === "--sst2") (f.sst2 = Number(v), i++);
    else if (a === "--imdb") (f.imdb = Number(v), i++);
    else if (a === "--concurrency") (f.concurrency = Number(v), i++);
    else if (a === "--policies") (f.policies = v.split(","), i++);
    else if (a === "--alpha") (f.alpha = v, i++);
    else throw new Error(`unknown flag ${a}`);
  }
  return f;
}

interface Answer {
  readonly ms: number;
  readonly label: number;
  readonly body: {
    labelIndex: number;
    splitLayer: number;
    exitLayer: number;
    answeredBy: string;
    degraded: boolean;
    costs: { lambdaUnits: number; measured: { edgeMs: number; commMs: number | null; payloadBytes: number | null } };
  };
}

async function drive(
  url: string,
  rows: readonly Row[],
  concurrency: number,
): Promise<{ answers: Answer[]; s: number }> {
  const answers: Answer[] = [];
  let next = 0;
  const t0 = performance.now();
  const worker = async () => {
    while (next < rows.length) {
      const row = rows[next++]!;
      const start = performance.now();
      const res = await fetch(`${url}/v1/classify`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: row.text }),
      });
      const body = await res.json();
      if (!res.ok) throw new Error(`HTTP ${res.status}: ${JSON.stringify(body)}`);
      answers.push({ ms: performance.now() - start, label: row.label, body });
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { answers, s: (performance.now() - t0) / 1000 };
}

function summarize(policy: string, dataset: string, run: { answers: Answer[]; s: number }) {
  const a = run.answers;
  const mean = (xs: number[]) => xs.length ? xs.reduce((x, y) => x + y, 0) / xs.length : NaN;
  const sorted = a.map((x) => x.ms).sort((x, y) => x - y);
  const offloaded = a.filter((x) => x.body.answeredBy === "gateway");
  return {
    policy,
    dataset,
    n: a.length,
    rps: a.length / run.s,
    p50Ms: median(sorted),
    p99Ms: sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))]!,
    accuracy: a.filter((x) => x.body.labelIndex === x.label).length / a.length,
    offloadRate: offloaded.length / a.length,
    degraded: a.filter((x) => x.body.degraded).length,
    meanSplit: mean(a.map((x) => x.body.splitLayer)),
    meanExit: mean(a.map((x) => x.body.exitLayer)),
    costUnits: mean(a.map((x) => x.body.costs.lambdaUnits)),
    edgeMs: mean(a.map((x) => x.body.costs.measured.edgeMs)),
    commMs: mean(offloaded.map((x) => x.body.costs.measured.commMs ?? NaN)),
    payloadBytes: mean(offloaded.map((x) => x.body.costs.measured.payloadBytes ?? NaN)),
  };
}

const flags = parseFlags(Deno.args);
const streams: Array<[string, Row[]]> = [
  ["SST-2 dev", (await sst2Dev()).slice(0, flags.sst2)],
  ["IMDb test", await imdbSample(flags.imdb)],
];
const token = Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
const gateway = await spawnService("gateway/main.ts", {
  GATEWAY_PORT: "0",
  GATEWAY_HOSTNAME: "127.0.0.1",
  GATEWAY_TOKEN: token,
}, /serving .* on (http:\/\/\S+)/);
const rows: ReturnType<typeof summarize>[] = [];
try {
  for (const policy of flags.policies) {
    for (const [name, stream] of streams) {
      const edge: ServiceProcess = await spawnService("edge/main.ts", {
        EDGE_PORT: "0",
        EDGE_HOSTNAME: "127.0.0.1",
        GATEWAY_URL: gateway.url,
        GATEWAY_TOKEN: token,
        EDGE_KV_PATH: ":memory:",
        EDGE_RATE_LIMIT_RPS: "0",
        EDGE_MAX_TEXT_CHARS: "40000", // the longest IMDb test review has ~14,000 characters
        SPLITEE_POLICY: policy,
        SPLITEE_ALPHA: flags.alpha,
        SPLITEE_SEED: "1",
      }, /listening on (http:\/\/\S+)/);
      try {
        await drive(edge.url, stream.slice(0, 8), 1); // open every session before timing
        const row = summarize(policy, name, await drive(edge.url, stream, flags.concurrency));
        rows.push(row);
        console.error(JSON.stringify(row));
      } finally {
        await edge.stop("SIGTERM");
      }
    }
  }
} finally {
  await gateway.stop("SIGTERM");
}

if (flags.json) {
  for (const r of rows) console.log(JSON.stringify(r));
} else {
  const f = (x: number, d = 1) => Number.isNaN(x) ? "-" : x.toFixed(d);
  console.log(
    "| stream | policy | n | req/s | p50 ms | p99 ms | accuracy % | offload % | mean split | mean exit | cost (lambda units) " +
      "| edge ms | comm ms / offload | bytes / offload |",
  );
  console.log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
  for (const r of rows) {
    console.log(
      `| ${r.dataset} | ${r.policy} | ${r.n} | ${f(r.rps)} | ${f(r.p50Ms)} | ${f(r.p99Ms)} | ${
        f(100 * r.accuracy, 2)
      } ` +
        `| ${f(100 * r.offloadRate)} | ${f(r.meanSplit, 2)} | ${f(r.meanExit, 2)} | ${f(r.costUnits, 3)} | ` +
        `${f(r.edgeMs)} | ${f(r.commMs)} | ${f(r.payloadBytes, 0)} |`,
    );
  }
}
