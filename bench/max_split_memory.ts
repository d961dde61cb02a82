/**
 * Edge RSS and cold start against `EDGE_MAX_SPLIT` (benchmark script, not a test): for each K a fresh real edge
 * process (`edge/main.ts`, onnxruntime-web) serves one model with `EDGE_MAX_SPLIT=K`, `EDGE_KV_PATH=:memory:`,
 * `EDGE_RATE_LIMIT_RPS=0`, `SPLITEE_ALPHA=1` (no early exit) and `GATEWAY_URL` on a closed port, so every offload
 * fails fast and the answer comes from exit K-or-shallower (degraded), which exercises exactly the layers the edge
 * holds. Per K:
 * - cold start: spawn -> listening line, and spawn -> first answer (ms);
 * - RSS (`VmRSS`) once the background preload of layers 1..K has finished (RSS still for 3 s), after 3K requests
 *   (SplitEE-S plays every arm 1..K), and the peak (`VmHWM`), in MB, against Deno Deploy's 512 MB.
 *
 * Run: `deno run -A bench/max_split_memory.ts --model models/.work-bert-base/model [--ks 2,4,6] [--json out.json]`
 * @module
 */
import { parseArgs } from "node:util";
import { spawnService } from "../tests/e2e_spawn.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    model: { type: "string", default: "models/.work-bert-base/model" },
    ks: { type: "string", default: "2,4,6" },
    text: { type: "string", default: "a gorgeous, witty, seductive movie that is also long enough to matter." },
    json: { type: "string" },
  },
});
const KS = args.ks.split(",").map(Number);
const DEPLOY_LIMIT_MB = 512;

function mem(pid: number): { rssMb: number; peakMb: number } {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN);
  return { rssMb: kb("VmRSS") / 1024, peakMb: kb("VmHWM") / 1024 };
}

async function waitIdle(pid: number): Promise<number> {
  let last = mem(pid).rssMb;
  let still = 0;
  for (let i = 0; i < 600 && still < 6; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const now = mem(pid).rssMb;
    still = Math.abs(now - last) < 1 ? still + 1 : 0;
    last = now;
  }
  return last;
}

async function classify(url: string): Promise<{ status: number; splitLayer: number }> {
  const res = await fetch(`${url}/v1/classify`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ text: args.text }),
  });
  const body = await res.json();
  return { status: res.status, splitLayer: body.splitLayer };
}

interface Row {
  k: number;
  listenMs: number;
  firstAnswerMs: number;
  idleRssMb: number;
  afterRequestsRssMb: number;
  peakMb: number;
  armsPlayed: number[];
}
const rows: Row[] = [];
for (const k of KS) {
  const t0 = performance.now();
  const edge = await spawnService(
    "edge/main.ts",
    {
      EDGE_PORT: "0",
      EDGE_MODEL_DIR: args.model,
      EDGE_MAX_SPLIT: String(k),
      EDGE_KV_PATH: ":memory:",
      EDGE_RATE_LIMIT_RPS: "0",
      SPLITEE_ALPHA: "1",
      GATEWAY_URL: "http://127.0.0.1:9",
      EDGE_BREAKER_FAILURES: "100000",
    },
    /listening on (http:\/\/\S+)/,
    300_000,
  );
  try {
    const listenMs = performance.now() - t0;
    const first = await classify(edge.url);
    const firstAnswerMs = performance.now() - t0;
    if (first.status !== 200) throw new Error(`first answer ${first.status}:\n${edge.output()}`);
    const idleRssMb = await waitIdle(edge.pid);
    const arms = new Set<number>();
    for (let i = 0; i < 3 * k; i++) {
      const r = await classify(edge.url);
      if (r.status !== 200) throw new Error(`answer ${r.status}`);
      arms.add(r.splitLayer);
    }
    const after = mem(edge.pid);
    const row: Row = {
      k,
      listenMs,
      firstAnswerMs,
      idleRssMb,
      afterRequestsRssMb: after.rssMb,
      peakMb: after.peakMb,
      armsPlayed: [...arms].sort((a, b) => a - b),
    };
    rows.push(row);
    console.log(
      `K=${k}: listening ${listenMs.toFixed(0)} ms, first answer ${firstAnswerMs.toFixed(0)} ms; RSS idle ` +
        `${idleRssMb.toFixed(0)} MB, after ${3 * k} requests ${after.rssMb.toFixed(0)} MB, peak ${
          after.peakMb.toFixed(0)
        } MB (${after.peakMb <= DEPLOY_LIMIT_MB ? "within" : "OVER"} ${DEPLOY_LIMIT_MB} MB); arms ${row.armsPlayed}`,
    );
  } finally {
    await edge.kill();
  }
}
const fits = rows.filter((r) => r.peakMb <= DEPLOY_LIMIT_MB).map((r) => r.k);
console.log(`largest K within ${DEPLOY_LIMIT_MB} MB (peak): ${fits.length ? Math.max(...fits) : "none"}`);
if (args.json) await Deno.writeTextFile(args.json, JSON.stringify({ model: args.model, rows }, null, 2) + "\n");
