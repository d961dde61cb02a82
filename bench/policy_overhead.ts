/**
 * CPU time (user + system, all threads of this process, `process.cpuUsage()`) and wall time of the policy's KV work
 * versus whole edge requests, in one process: the companion of bench/policy_overhead_bench.ts for a shared machine,
 * where wall times mostly measure waiting for a core. Cases, each run `--n` times in a row after a warm-up:
 * - `flush cycle`: 8 x (decide + `store.apply`) + `flush()` (atomic `sum` commit + re-read, as with `syncMs` = 0),
 *   the default `EDGE_POLICY_FLUSH_EVERY = 8`; per request = / 8. KV on disk (temporary directory) and `:memory:`;
 * - `flush cycle without re-read`: the same with `syncMs` > 0 (the edge default), where the flush adds its own batch
 *   locally and the periodic sync brings the other instances' updates;
 * - `partial flush`: 1 x (decide + apply) + `flush()` without re-read: what a flush costs when the 500 ms timer fires
 *   with a single pending update (below ~2 requests/s);
 * - `sync`: one `readTotals` (what the 1 s re-read costs);
 * - `edge request`: `app.request("/v1/classify")` through `createEdgeService` (onnxruntime-web, SST-2 sentences,
 *   disk KV with the default flush and sync settings), policies `early-exit` (stops at the first confident exit)
 *   and `final` (12 layers).
 *
 * Run: `deno run -A bench/policy_overhead.ts [--n 200] [--json out.json]`
 * @module
 */
import { ensureParentDir } from "../scripts/cli.ts";
import { cpuUsage } from "node:process";
import { parseArgs } from "node:util";
import { PolicyStore, readTotals } from "../edge/policy_store.ts";
import { createPolicy } from "../shared/policy/mod.ts";
import { createPrng } from "../shared/prng.ts";
import { edgeRequests } from "./edge_requests.ts";
import { createPolicySteps } from "./policy_steps.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: { n: { type: "string", default: "200" }, json: { type: "string" } },
});
const N = Number(args.n);
const L = 12;
const FLUSH_EVERY = 8;
/** Requests sent through a fresh edge service before timing (JIT tiering, first KV flushes and syncs). */
const WARMUP_REQUESTS = 50;
const dir = await Deno.makeTempDir({ prefix: "splitee-policy-overhead-" });

const prng = createPrng(1);
const step = createPolicySteps(prng, L);

interface Result {
  readonly case: string;
  readonly n: number;
  /** Mean wall ms per iteration. */
  readonly wallMs: number;
  /** Mean CPU ms (user + system) per iteration. */
  readonly cpuMs: number;
  /** Median wall ms per iteration. */
  readonly p50WallMs: number;
}
const results: Result[] = [];

async function time(name: string, n: number, warmup: number, fn: () => Promise<void>): Promise<Result> {
  for (let i = 0; i < warmup; i++) await fn();
  const walls: number[] = [];
  const c0 = cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    walls.push(performance.now() - t);
  }
  const wall = performance.now() - t0;
  const c = cpuUsage(c0);
  walls.sort((a, b) => a - b);
  const r = {
    case: name,
    n,
    wallMs: wall / n,
    cpuMs: (c.user + c.system) / 1000 / n,
    p50WallMs: walls[Math.floor(n / 2)]!,
  };
  results.push(r);
  console.log(
    `${name.padEnd(72)} wall ${r.wallMs.toFixed(3)} ms (p50 ${r.p50WallMs.toFixed(3)}), CPU ${r.cpuMs.toFixed(3)} ms`,
  );
  return r;
}

try {
  for (const backend of ["disk", "memory"] as const) {
    for (const name of ["splitee-s", "splitee-s-adaptive"] as const) {
      const kv = await Deno.openKv(backend === "disk" ? `${dir}/${name}.kv` : ":memory:");
      try {
        const policy = createPolicy(name, { layers: L, alpha: 0.7, lambda: 0.1, o: 0.5 }, { prng });
        const prefix = ["splitee", "policy", "bench", name];
        const shape = { layers: L, adaptiveCosts: policy.config.adaptiveCosts };
        const store = await PolicyStore.open({ kv, prefix, shape, flushEvery: FLUSH_EVERY, syncMs: 0 });
        for (let i = 0; i < 400; i++) store.apply((s) => policy.update(s, step(policy, s)));
        await store.flush();
        const counters = policy.config.adaptiveCosts ? 61 : 25;
        await time(
          `${backend}: flush cycle, 8 x (decide + apply) + flush, ${name} (${counters} counters)`,
          N,
          20,
          async () => {
            for (let i = 0; i < FLUSH_EVERY; i++) store.apply((s) => policy.update(s, step(policy, s)));
            await store.flush();
          },
        );
        await time(`${backend}: sync (readTotals), ${name}`, N, 20, async () => {
          await readTotals(kv, prefix, shape);
        });
        await store.close();
        // The edge's default (EDGE_POLICY_SYNC_MS = 1000 > 0): the flush adds its batch locally, no re-read. The
        // hour-long sync timer never fires during the measurement.
        const synced = await PolicyStore.open({ kv, prefix, shape, flushEvery: FLUSH_EVERY, syncMs: 3_600_000 });
        await time(
          `${backend}: flush cycle without re-read (syncMs > 0, the default), ${name} (${counters} counters)`,
          N,
          20,
          async () => {
            for (let i = 0; i < FLUSH_EVERY; i++) synced.apply((s) => policy.update(s, step(policy, s)));
            await synced.flush();
          },
        );
        // The low-traffic case: the 500 ms timer flushes whatever is pending, here a single update (fewer non-zero
        // deltas to commit than a full batch of 8).
        await time(
          `${backend}: partial flush without re-read, 1 x (decide + apply) + flush, ${name} (${counters} counters)`,
          N,
          20,
          async () => {
            synced.apply((s) => policy.update(s, step(policy, s)));
            await synced.flush();
          },
        );
        await synced.close();
      } finally {
        kv.close();
      }
    }
  }

  const requests = await edgeRequests();
  for (const policyName of ["early-exit", "final"] as const) {
    const edge = await requests.edge(policyName, `${dir}/edge-${policyName}.kv`);
    let layers = 0;
    await time(`edge request, policy ${policyName} (disk KV, default flush/sync)`, N, WARMUP_REQUESTS, async () => {
      layers += await requests.classify(edge);
    });
    console.log(`  (mean layers run per request incl. warm-up: ${(layers / (N + WARMUP_REQUESTS)).toFixed(2)})`);
    await edge.close();
  }
  await requests.runner.dispose();
} finally {
  await Deno.remove(dir, { recursive: true });
}
if (args.json) {
  await ensureParentDir(args.json);
  await Deno.writeTextFile(args.json, JSON.stringify(results, null, 2));
}
