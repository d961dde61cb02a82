/**
 * Where the split pays: an OFFLINE REPLAY OF MEASURED PARTS (benchmark script, not a test). It combines
 * - per-layer and embedding times of a big model on the edge (onnxruntime-web, 1 thread) and on the gateway
 *   (onnxruntime-node), and the bytes of an offload request, at T tokens (bench/split_parts.ts `--json`;
 *   linear interpolation between the measured T);
 * - a link of RTT x bandwidth (a transfer costs `RTT + (request + response bytes) * 8 / bandwidth`, as
 *   bench/link_emulator.ts emulates it);
 * - the real per-exit confidences of a trained model on an evaluation set (the `deno task exits` JSONL),
 * into the latency each sample would have had at each split k (exit rule "split"):
 * `embed + k * edgeLayer + (C_k >= alpha ? 0 : link + (L - k) * gatewayLayer)`, and k = L finishes on the edge.
 * Per cell it reports the best fixed split by mean latency, that latency, the first and last split's, and what the
 * measured-cost policy (`splitee-s-adaptive` with the edge's own CostMeter, fed the same modelled milliseconds on a
 * simulated clock) reaches on the same stream, over the whole stream and after `--warmup` samples. Nothing here is
 * a live measurement: the latencies are sums of measured parts.
 *
 * Run: `deno run -A bench/split_replay.ts --parts parts.json --exits exits.jsonl [--tokens 64] [--alpha 0.9]
 *   [--rtts 5,20,50,100] [--mbps 10,100,1000] [--dtype float32] [--warmup 200] [--json out.json]`
 * @module
 */
import { parseArgs } from "node:util";
import { CostMeter } from "../edge/cost_meter.ts";
import { confidenceRow, parseExitsJsonl } from "../shared/eval/matrix.ts";
import { createPolicy, nextAction, type Observation } from "../shared/policy/mod.ts";
import { createPrng } from "../shared/prng.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    parts: { type: "string" },
    exits: { type: "string" },
    tokens: { type: "string", default: "64" },
    alpha: { type: "string", default: "0.9" },
    rtts: { type: "string", default: "5,20,50,100" },
    mbps: { type: "string", default: "10,100,1000" },
    dtype: { type: "string", default: "float32" },
    "response-bytes": { type: "string", default: "400" },
    "ms-per-unit": { type: "string", default: "10" },
    warmup: { type: "string", default: "200" },
    json: { type: "string" },
  },
});
if (!args.parts || !args.exits) {
  console.error("usage: deno run -A bench/split_replay.ts --parts parts.json --exits exits.jsonl [options]");
  Deno.exit(2);
}
const T = Number(args.tokens);
const ALPHA = Number(args.alpha);
const WARMUP = Number(args.warmup);
const MS_PER_UNIT = Number(args["ms-per-unit"]);
const rtts = args.rtts.split(",").map(Number);
const mbpsList = args.mbps.split(",").map(Number);

interface PartsRow {
  tokens: number;
  wasm1: { layerMs: number; embedMs: number };
  node1: { layerMs: number; embedMs: number };
  bytes: Record<string, number>;
}
const parts = JSON.parse(await Deno.readTextFile(args.parts)) as { model: { id: string }; rows: PartsRow[] };
const matrix = parseExitsJsonl(await Deno.readTextFile(args.exits));
const L = matrix.layers;

/** Linear interpolation of `f` over the measured token counts (clamped to the measured range). */
function at(f: (r: PartsRow) => number): number {
  const rows = [...parts.rows].sort((a, b) => a.tokens - b.tokens);
  if (T <= rows[0]!.tokens) return f(rows[0]!) * (T / rows[0]!.tokens);
  for (let i = 1; i < rows.length; i++) {
    const a = rows[i - 1]!, b = rows[i]!;
    if (T <= b.tokens) return f(a) + ((f(b) - f(a)) * (T - a.tokens)) / (b.tokens - a.tokens);
  }
  const last = rows.at(-1)!;
  return f(last) * (T / last.tokens);
}
const edgeLayerMs = at((r) => r.wasm1.layerMs);
const edgeEmbedMs = at((r) => r.wasm1.embedMs);
const gatewayLayerMs = at((r) => r.node1.layerMs);
const requestBytes = at((r) => r.bytes[args.dtype]!);
const responseBytes = Number(args["response-bytes"]);

const rows = Array.from({ length: matrix.samples }, (_, i) => confidenceRow(matrix, i));
const predictions = (i: number, k: number) => matrix.predictions[i * L + k - 1]!;

/** Latency of sample i at split k, and whether it offloaded. */
function latency(row: Float64Array, k: number, linkMs: number): { ms: number; offloaded: boolean; exit: number } {
  const edge = edgeEmbedMs + k * edgeLayerMs;
  if (k >= L || row[k - 1]! >= ALPHA) return { ms: edge, offloaded: false, exit: k };
  return { ms: edge + linkMs + (L - k) * gatewayLayerMs, offloaded: true, exit: L };
}

interface Cell {
  rttMs: number;
  mbps: number;
  linkMs: number;
  meanMs: number[];
  best: number;
  bestMs: number;
  bestAccuracy: number;
  policyMs: number;
  policyAfterWarmupMs: number;
  bestAfterWarmupMs: number;
  policyAccuracy: number;
  policyMostPlayed: number;
}

const cells: Cell[] = [];
for (const rttMs of rtts) {
  for (const mbps of mbpsList) {
    const linkMs = rttMs + ((requestBytes + responseBytes) * 8 * 1000) / (mbps * 1e6);
    const perArm: number[][] = Array.from({ length: L }, () => []);
    const correct = new Array<number>(L).fill(0);
    for (let i = 0; i < rows.length; i++) {
      for (let k = 1; k <= L; k++) {
        const r = latency(rows[i]!, k, linkMs);
        perArm[k - 1]!.push(r.ms);
        if (predictions(i, r.exit) === matrix.labels[i]) correct[k - 1]!++;
      }
    }
    const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
    const meanMs = perArm.map(mean);
    const best = meanMs.reduce((b, m, i) => (m < meanMs[b]! ? i : b), 0) + 1;

    // The live edge's measured-cost policy on the same stream, on a simulated clock.
    let clock = 0;
    const meter = new CostMeter({
      mode: "measured",
      lambda: 0.1,
      o: 0.5,
      msPerUnit: MS_PER_UNIT,
      weight: 0.2,
      halfLifeMs: 30_000,
      failurePenalty: 1,
      now: () => clock,
    });
    const prng = createPrng(7);
    const policy = createPolicy("splitee-s-adaptive", { layers: L, alpha: ALPHA }, { prng });
    let state = policy.initialState();
    const policyMs: number[] = [];
    const played = new Map<number, number>();
    let policyCorrect = 0;
    for (let i = 0; i < rows.length; i++) {
      const row = rows[i]!;
      const decision = policy.decide(state, prng, meter.costs());
      let last = 1;
      let action: "exit" | "offload" = "exit";
      for (let k = 1; k <= decision.arm; k++) {
        last = k;
        const next = nextAction(decision, k, row[k - 1]!, policy.config);
        if (next !== "continue") {
          action = next;
          break;
        }
      }
      const offloaded = action === "offload";
      const ms = edgeEmbedMs + last * edgeLayerMs + (offloaded ? linkMs + (L - last) * gatewayLayerMs : 0);
      meter.recordEdge(edgeLayerMs);
      if (offloaded) meter.recordOffload(linkMs, (L - last) * gatewayLayerMs);
      clock += ms;
      const costs = meter.observationCosts(false);
      let observation: Observation = { arm: decision.arm, confidences: row.subarray(0, last), ...costs };
      if (offloaded || last === L) observation = { ...observation, finalConfidence: row[L - 1]! };
      state = policy.update(state, observation);
      policyMs.push(ms);
      if (i >= WARMUP) played.set(decision.arm, (played.get(decision.arm) ?? 0) + 1);
      if (predictions(i, offloaded ? L : last) === matrix.labels[i]) policyCorrect++;
    }
    const mostPlayed = [...played.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? NaN;
    const cell: Cell = {
      rttMs,
      mbps,
      linkMs,
      meanMs,
      best,
      bestMs: meanMs[best - 1]!,
      bestAccuracy: correct[best - 1]! / rows.length,
      policyMs: mean(policyMs),
      policyAfterWarmupMs: mean(policyMs.slice(WARMUP)),
      bestAfterWarmupMs: mean(perArm[best - 1]!.slice(WARMUP)),
      policyAccuracy: policyCorrect / rows.length,
      policyMostPlayed: mostPlayed,
    };
    cells.push(cell);
    console.log(
      `RTT ${rttMs} ms, ${mbps} Mbit/s (link ${linkMs.toFixed(1)} ms): best fixed k=${best} ${
        cell.bestMs.toFixed(1)
      } ms (k=1 ${meanMs[0]!.toFixed(1)}, k=${L} ${meanMs[L - 1]!.toFixed(1)}); policy ${
        cell.policyMs.toFixed(1)
      } ms, ` +
        `after warm-up ${cell.policyAfterWarmupMs.toFixed(1)} vs ${cell.bestAfterWarmupMs.toFixed(1)} (${
          (cell.policyAfterWarmupMs / cell.bestAfterWarmupMs).toFixed(2)
        }x), mostly k=${mostPlayed}; accuracy best ${(100 * cell.bestAccuracy).toFixed(1)}% policy ${
          (100 * cell.policyAccuracy).toFixed(1)
        }%`,
    );
  }
}
const exitShare = Array.from({ length: L }, (_, k) => rows.filter((r) => r[k]! >= ALPHA).length / rows.length);
console.log(`share of samples with C_k >= alpha, k = 1..${L}: ${exitShare.map((p) => p.toFixed(3)).join(" ")}`);
const interior = cells.filter((c) => c.best !== 1 && c.best !== L).length;
const within = cells.filter((c) => c.policyAfterWarmupMs <= 1.15 * c.bestAfterWarmupMs).length;
console.log(
  `T=${T}, alpha=${ALPHA}, edge layer ${edgeLayerMs.toFixed(2)} ms, gateway layer ${gatewayLayerMs.toFixed(2)} ms, ` +
    `request ${requestBytes.toFixed(0)} B: best split neither first nor last in ${interior}/${cells.length} cells; ` +
    `policy within 15% after warm-up in ${within}/${cells.length}`,
);
if (args.json) {
  await Deno.writeTextFile(
    args.json,
    JSON.stringify(
      { parts: parts.model, exits: args.exits, tokens: T, alpha: ALPHA, edgeLayerMs, gatewayLayerMs, exitShare, cells },
      null,
      2,
    ) + "\n",
  );
}
