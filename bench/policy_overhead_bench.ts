/**
 * The policy's own overhead per request, side by side with an edge request in one run:
 * - `decide + update`: the pure policy (SplitEE-S, L = 12), as in shared/policy/policy_bench.ts;
 * - `decide + store.apply`: the same through edge/policy_store.ts (state merge + delta bookkeeping), no KV write;
 * - `8 x (decide + apply) + flush`: one flush at the default `EDGE_POLICY_FLUSH_EVERY = 8` (an atomic commit of
 *   `sum` mutations plus the re-read of the totals); divide by 8 for the amortised cost per request;
 * - the flush's two halves alone: the atomic `sum` commit, and `readTotals` (what a `sync` re-read costs);
 * - the same flush for the adaptive-cost state (`splitee-s-adaptive`, 61 counters instead of 25);
 * - whole edge requests through `createEdgeService` + `app.request("/v1/classify")` (onnxruntime-web, SST-2
 *   sentences, default flush/sync settings, so their own KV writes are included): `early-exit` (stops at the
 *   first confident exit, usually layer 1) and `final` (all 12 layers on the edge). No gateway is involved.
 *
 * Each KV group runs against a real on-disk KV file (a temporary directory, removed at exit) and against `:memory:`.
 *
 * Run: `deno bench -A bench/policy_overhead_bench.ts`
 * @module
 */
import { PolicyStore, readTotals } from "../edge/policy_store.ts";
import { createPolicy, type Policy } from "../shared/policy/mod.ts";
import { createPrng } from "../shared/prng.ts";
import { edgeRequests } from "./edge_requests.ts";
import { createPolicySteps } from "./policy_steps.ts";

const L = 12;
const FLUSH_EVERY = 8;
const dir = await Deno.makeTempDir({ prefix: "splitee-policy-bench-" });
const kvs: Deno.Kv[] = [];
const closers: (() => Promise<void>)[] = [];
globalThis.addEventListener("unload", () => {
  for (const kv of kvs) kv.close();
  Deno.removeSync(dir, { recursive: true });
});
async function openKv(backend: "disk" | "memory", name: string): Promise<Deno.Kv> {
  const kv = await Deno.openKv(backend === "disk" ? `${dir}/${name}.kv` : ":memory:");
  kvs.push(kv);
  return kv;
}

/** Seeded: the exit confidences of plausible requests, then the policies' tie breaks. */
const prng = createPrng(1);
const step = createPolicySteps(prng, L);

async function openStore(kv: Deno.Kv, policy: Policy, name: string, flushEvery: number): Promise<PolicyStore> {
  const store = await PolicyStore.open({
    kv,
    prefix: ["splitee", "policy", "bench", name],
    shape: { layers: L, adaptiveCosts: policy.config.adaptiveCosts },
    flushEvery,
    flushMs: flushEvery === FLUSH_EVERY ? 500 : 1e9,
    syncMs: 0,
  });
  closers.push(() => store.close());
  return store;
}

for (const backend of ["disk", "memory"] as const) {
  const group = `policy + KV (${backend})`;
  for (const name of ["splitee-s", "splitee-s-adaptive"] as const) {
    const policy = createPolicy(name, { layers: L, alpha: 0.7, lambda: 0.1, o: 0.5 }, { prng });
    const kv = await openKv(backend, name);
    // Warm the counters up so that every key exists and the state is not trivial.
    const warm = await openStore(kv, policy, name, FLUSH_EVERY);
    for (let i = 0; i < 400; i++) warm.apply((s) => policy.update(s, step(policy, s)));
    await warm.flush();
    const flushing = await openStore(kv, policy, name, FLUSH_EVERY);
    const tag = name === "splitee-s" ? "" : " [adaptive, 61 counters]";

    if (name === "splitee-s") {
      let state = flushing.state();
      Deno.bench({
        name: `decide + update (pure policy)`,
        group,
        fn() {
          state = policy.update(state, step(policy, state));
        },
      });
      const noFlush = await openStore(kv, policy, `${name}-noflush`, 1e9);
      Deno.bench({
        name: `decide + store.apply (no KV write)`,
        group,
        fn() {
          noFlush.apply((s) => policy.update(s, step(policy, s)));
        },
      });
    }
    Deno.bench({
      name: `8 x (decide + store.apply) + flush (commit + re-read)${tag}`,
      group,
      baseline: name === "splitee-s",
      async fn() {
        for (let i = 0; i < FLUSH_EVERY - 1; i++) flushing.apply((s) => policy.update(s, step(policy, s)));
        // The 8th apply starts the flush itself (fire-and-forget in the edge); wait for it here.
        flushing.apply((s) => policy.update(s, step(policy, s)));
        await flushing.flush();
      },
    });
    if (name === "splitee-s") {
      const prefix = ["splitee", "policy", "bench", name];
      const keys: Deno.KvKey[] = [[...prefix, "t"]];
      for (const field of ["counts", "rewardSums"]) for (let i = 0; i < L; i++) keys.push([...prefix, field, i]);
      Deno.bench({
        name: `atomic commit of ${keys.length} sum mutations alone`,
        group,
        async fn() {
          const op = kv.atomic();
          for (const key of keys) op.sum(key, 1n);
          const r = await op.commit();
          if (!r.ok) throw new Error("commit rejected");
        },
      });
      Deno.bench({
        name: `sync: readTotals (${keys.length} counters)`,
        group,
        async fn() {
          await readTotals(kv, prefix, { layers: L, adaptiveCosts: false });
        },
      });
    }
  }
}

// Whole edge requests, default flush (8 / 500 ms) and sync (1 s) settings, KV on disk.
const requests = await edgeRequests();
for (const policyName of ["early-exit", "final"] as const) {
  const edge = await requests.edge(policyName, `${dir}/edge-${policyName}.kv`);
  closers.push(() => edge.close());
  Deno.bench({
    name: `edge request through the service, policy ${policyName} (SST-2 sentence, KV on disk)`,
    group: "edge request",
    baseline: policyName === "early-exit",
    async fn() {
      await requests.classify(edge);
    },
  });
}

// Stop the stores' timers once every bench has run (the unload handler closes the KVs).
Deno.bench({
  name: "(teardown: closes the stores; not a measurement)",
  group: "teardown",
  n: 1,
  warmup: 0,
  async fn() {
    await Promise.allSettled(closers.map((close) => close()));
  },
});
