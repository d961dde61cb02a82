/**
 * Load script (not a test): the gateway app in-process (`app.request`, no network) with the real onnxruntime-node
 * runner over models/sentiment, fed real SST-2 dev sentences as hidden states after split layer 1 (the heaviest
 * remainder: layers 2..L). For each batching configuration and each concurrency level it runs closed-loop clients
 * for a fixed time and reports throughput and p50/p99 latency (request in to response bytes out). Errors must be 0.
 * Configurations are interleaved (level by level, config by config) and the whole sweep repeated `--rounds` times;
 * each cell reports the median over rounds, so a noisy neighbour on a shared host hits every config alike.
 *
 * Run: `deno run -A bench/gateway_batching.ts [--seconds 5] [--warmup 1] [--levels 1,8,32] [--configs off,16:2]
 *   [--threads 0] [--split 1] [--rounds 2] [--json out.json]`
 * A config is `off` or `MAX:WAIT_MS[:IN_FLIGHT]` (GATEWAY_BATCH_MAX, GATEWAY_BATCH_WAIT_MS, and the batcher's
 * `maxInFlight`, default 1). `--threads 0` is onnxruntime's
 * default (one per core), like the gateway's default.
 * @module
 */
import { ensureParentDir } from "../scripts/cli.ts";
import { parseArgs } from "node:util";
import { float32Tensor, padBatch, runLayers } from "../shared/model_io.ts";
import { createOffloadRequest, encodeOffloadRequest } from "../shared/wire/mod.ts";
import { createApp } from "../gateway/app.ts";
import { loadNodeRunner } from "../gateway/runtime/onnx.ts";
import { MODEL_DIR, sst2Dev, tokenizerFor } from "./data.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: {
    seconds: { type: "string", default: "5" },
    warmup: { type: "string", default: "1" },
    levels: { type: "string", default: "1,8,32" },
    configs: { type: "string", default: "off,16:2" },
    threads: { type: "string", default: "0" },
    split: { type: "string", default: "1" },
    requests: { type: "string", default: "256" },
    rounds: { type: "string", default: "2" },
    json: { type: "string" },
  },
});
const seconds = Number(args.seconds);
const warmup = Number(args.warmup);
const levels = args.levels.split(",").map(Number);
const threads = Number(args.threads);
const split = Number(args.split);
const configs = args.configs.split(",").map((c) => {
  if (c === "off") return { name: "off", batch: undefined };
  const [max, wait, inFlight = 1] = c.split(":").map(Number);
  if (!Number.isInteger(max) || !Number.isInteger(wait) || max! < 2 || wait! < 0 || !(inFlight >= 1)) {
    throw new Error(`--configs: "off" or MAX:WAIT_MS[:IN_FLIGHT], got "${c}"`);
  }
  return {
    name: `${max}:${wait}ms${inFlight > 1 ? `:${inFlight}` : ""}`,
    batch: { maxBatch: max!, waitMs: wait!, maxInFlight: inFlight },
  };
});

const runner = await loadNodeRunner(MODEL_DIR.pathname, {
  preload: "all",
  ...(threads > 0 ? { intraOpThreads: threads } : {}),
});
const manifest = runner.manifest;
const D = manifest.hiddenSize;
const model = { id: manifest.id, version: manifest.version };

// Real inputs: the first N SST-2 dev sentences, embedded and run through layers 1..split one at a time (no padding).
const tokenizer = await tokenizerFor(manifest);
const rows = (await sst2Dev()).slice(0, Number(args.requests));
const bodies: Uint8Array<ArrayBuffer>[] = [];
const lengths: number[] = [];
for (const row of rows) {
  const enc = tokenizer.encode(row.text);
  const batch = padBatch([{ inputIds: enc.inputIds, tokenTypeIds: enc.tokenTypeIds }]);
  const t = batch.lengths[0]!;
  const embedded = await runner.embed(batch.inputIds, batch.tokenTypeIds);
  const { hidden } = await runLayers(runner, embedded, batch.attentionMask, 1, split);
  lengths.push(t);
  bodies.push(encodeOffloadRequest(createOffloadRequest({
    model,
    splitLayer: split,
    dims: [t, D],
    hidden: float32Tensor(hidden.data, [t, D]).data,
  })));
}
const sortedLengths = [...lengths].sort((a, b) => a - b);
console.log(
  `inputs: ${bodies.length} SST-2 dev sentences, tokens p50 ${sortedLengths[lengths.length >> 1]} ` +
    `min ${sortedLengths[0]} max ${sortedLengths.at(-1)}, split layer ${split} (layers ${
      split + 1
    }..${manifest.layers}), ` +
    `intraOpThreads ${threads || "default"}, ${navigator.hardwareConcurrency} CPUs`,
);

// The ceiling batching can reach here: direct runLayers cost per row by batch size (T = 32, the bucket of ~25 tokens).
console.log("\n| rows B (T=32) | ms per batch | ms per row | per-row speed-up vs B=1 |\n|---:|---:|---:|---:|");
let perRow1 = NaN;
for (const b of [1, 4, 8, 16, 32]) {
  const h = float32Tensor(Float32Array.from({ length: b * 32 * D }, (_, i) => Math.sin(i) * 0.5), [b, 32, D]);
  const m = float32Tensor(new Float32Array(b * 32).fill(1), [b, 32]);
  for (let i = 0; i < 3; i++) await runLayers(runner, h, m, split + 1, manifest.layers);
  const n = Math.max(5, Math.round(160 / b));
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await runLayers(runner, h, m, split + 1, manifest.layers);
  const ms = (performance.now() - t0) / n;
  if (b === 1) perRow1 = ms;
  console.log(`| ${b} | ${ms.toFixed(2)} | ${(ms / b).toFixed(3)} | ${(perRow1 / (ms / b)).toFixed(2)}x |`);
}
console.log();

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!;
}

interface Level {
  config: string;
  concurrency: number;
  requests: number;
  errors: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  meanBatch: number;
}

async function drive(app: ReturnType<typeof createApp>, concurrency: number, forSeconds: number) {
  const latencies: number[] = [];
  let errors = 0;
  let next = 0;
  const started = performance.now();
  const deadline = started + forSeconds * 1000;
  const client = async () => {
    while (performance.now() < deadline) {
      const body = bodies[next++ % bodies.length]!;
      const t0 = performance.now();
      const res = await app.request("/v1/complete", {
        method: "POST",
        body,
        headers: { "content-type": "application/msgpack" },
      });
      const bytes = await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      if (res.status !== 200 || bytes.byteLength === 0) errors++;
    }
  };
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsed = (performance.now() - started) / 1000;
  return { latencies, errors, elapsed };
}

// Counts the batches run by the first remaining layer and their rows: mean batch size = rows / batches.
const counts = { batches: 0, rows: 0 };
const counting: typeof runner = Object.assign(Object.create(runner), {
  layer(k: number, hidden: Parameters<typeof runner.layer>[1], mask: Parameters<typeof runner.layer>[2]) {
    if (k === split + 1) {
      counts.batches++;
      counts.rows += hidden.dims[0]!;
    }
    return runner.layer(k, hidden, mask);
  },
});

const apps = configs.map((config) =>
  createApp({
    models: [{ runner: counting, model: manifest }],
    provider: "cpu",
    auth: { mode: "insecure-local" },
    log: (m, e) => console.error(m, e),
    ...(config.batch ? { batch: config.batch } : {}),
  })
);
const runs: Level[] = [];
for (let round = 0; round < Number(args.rounds); round++) {
  for (const concurrency of levels) {
    for (const [i, config] of configs.entries()) {
      const app = apps[i]!;
      if (warmup > 0) await drive(app, concurrency, warmup);
      counts.batches = counts.rows = 0;
      const { latencies, errors, elapsed } = await drive(app, concurrency, seconds);
      const sorted = Float64Array.from(latencies).sort();
      const level: Level = {
        config: config.name,
        concurrency,
        requests: latencies.length,
        errors,
        rps: +(latencies.length / elapsed).toFixed(1),
        p50Ms: +percentile(sorted, 0.5).toFixed(2),
        p99Ms: +percentile(sorted, 0.99).toFixed(2),
        meanBatch: +(counts.rows / Math.max(1, counts.batches)).toFixed(2),
      };
      runs.push(level);
      console.log(JSON.stringify({ round, ...level }));
    }
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
const results: Level[] = [];
for (const config of configs) {
  for (const concurrency of levels) {
    const cell = runs.filter((r) => r.config === config.name && r.concurrency === concurrency);
    const m = (f: (r: Level) => number) => +median(cell.map(f)).toFixed(2);
    results.push({
      config: config.name,
      concurrency,
      requests: cell.reduce((a, r) => a + r.requests, 0),
      errors: cell.reduce((a, r) => a + r.errors, 0),
      rps: m((r) => r.rps),
      p50Ms: m((r) => r.p50Ms),
      p99Ms: m((r) => r.p99Ms),
      meanBatch: m((r) => r.meanBatch),
    });
  }
}

const base1 = results.find((r) => r.config === "off" && r.concurrency === 1);
console.log(
  "\n| batching | concurrency | requests | errors | mean batch | req/s | p50 ms | p99 ms | vs off req/s | p99 / off p50 at 1 |",
);
console.log("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
for (const r of results) {
  const off = results.find((x) => x.config === "off" && x.concurrency === r.concurrency);
  const ratio = off ? (r.rps / off.rps).toFixed(2) + "x" : "-";
  const p99 = base1 ? (r.p99Ms / base1.p50Ms).toFixed(2) + "x" : "-";
  console.log(
    `| ${r.config} | ${r.concurrency} | ${r.requests} | ${r.errors} | ${r.meanBatch} | ${r.rps} | ${r.p50Ms} | ${r.p99Ms} | ${ratio} | ${p99} |`,
  );
}
if (args.json) {
  await ensureParentDir(args.json);
  await Deno.writeTextFile(args.json, JSON.stringify({ args, runs, results }, null, 2));
}
await runner.dispose();
if (results.some((r) => r.errors > 0)) Deno.exit(1);
