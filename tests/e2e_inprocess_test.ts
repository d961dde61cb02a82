/**
 * The edge app wired to the real gateway app in-process (`fetch: (req) => gatewayApp.fetch(req)`), with the real
 * runners: onnxruntime-web on the edge, onnxruntime-node on the gateway.
 * - 200 SST-2 dev sentences: whatever split the policy chooses, the answer equals a single-process full-model run
 *   (same exit: label equal, probabilities within 1e-4; offloaded answers equal the full model's final exit).
 * - Measured cost mode: a slow gateway moves the chosen split toward the edge, and it moves back when the gateway
 *   is fast again.
 * - Policy statistics survive an edge restart, and two edges on one KV file share them.
 */
import { expect } from "expect";
import { createApp as createGatewayApp } from "../gateway/app.ts";
import { loadNodeRunner } from "../gateway/runtime/onnx.ts";
import { padBatch, rowsOf, runAllExits } from "../shared/model_io.ts";
import { softmax } from "../shared/math.ts";
import { WordPieceTokenizer } from "../shared/tokenizer/mod.ts";
import { serverTimingMs } from "../edge/offload_client.ts";
import {
  classifyVia,
  clockedRunner,
  edgeService,
  loadEdgeModel,
  readSst2,
  VirtualClock,
  withTempDir,
} from "./e2e_helpers.ts";

const TOKEN = "e2e-token-0123456789abcdef";
const { edgeRunner, manifest, vocabText } = await loadEdgeModel();
const gatewayRunner = await loadNodeRunner(new URL("../models/sentiment", import.meta.url).pathname, {
  intraOpThreads: 1,
});
const gatewayApp = createGatewayApp({
  models: [{ runner: gatewayRunner, model: manifest }],
  provider: "cpu",
  auth: { mode: "token", token: TOKEN },
});

/**
 * In-process gateway on a virtual clock: each exchange takes {@linkcode GATEWAY_COMPUTE_MS} of compute (its
 * Server-Timing says so) plus an adjustable network delay, so the edge measures exactly `delayMs` of communication
 * whatever the machine's speed or load.
 */
function delayedGateway(clock: VirtualClock) {
  const state = { delayMs: 0 };
  const fetch = async (req: Request) => {
    const res = await gatewayApp.fetch(req);
    expect(serverTimingMs(res.headers.get("server-timing"), "compute")).toBeGreaterThanOrEqual(0);
    const headers = new Headers(res.headers);
    headers.set("server-timing", `compute;dur=${GATEWAY_COMPUTE_MS}`);
    clock.advance(state.delayMs + GATEWAY_COMPUTE_MS);
    return new Response(res.body, { status: res.status, headers });
  };
  return { state, fetch };
}

/** Gateway compute time per offload on the virtual clock of the measured-cost tests. */
const GATEWAY_COMPUTE_MS = 3;

/** Edge time per layer on the virtual clock of the measured-cost tests. */
const EDGE_MS_PER_LAYER = 1;

Deno.test({
  name: "e2e in-process: 200 SST-2 sentences equal a single-process full-model run, whatever the split",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const sentences = (await readSst2()).slice(0, 200);
    expect(sentences).toHaveLength(200);
    const tokenizer = new WordPieceTokenizer(vocabText, {
      maxLength: manifest.maxLength,
      headTokens: manifest.tokenizer.headTokens,
    });
    const edge = await edgeService(
      { GATEWAY_TOKEN: TOKEN },
      edgeRunner,
      (r) => gatewayApp.fetch(r),
    );
    const splits = new Set<number>();
    let offloaded = 0;
    let agreeWithFinal = 0;
    for (const { text } of sentences) {
      const res = await classifyVia(edge.app, { text });
      const enc = tokenizer.encode(text);
      const exits = (await runAllExits(edgeRunner, padBatch([enc]))).map((t) => softmax(rowsOf(t)[0]!));
      const reference = exits[res.exitLayer - 1]!;
      const finalLabel = manifest.labels[argmaxOf(exits[manifest.layers - 1]!)];
      expect(res.degraded).toBe(false);
      expect(res.label).toBe(manifest.labels[argmaxOf(reference)]);
      res.probabilities.forEach((p, i) => expect(Math.abs(p - reference[i]!)).toBeLessThan(1e-4));
      if (res.answeredBy === "gateway") {
        offloaded++;
        expect(res.exitLayer).toBe(manifest.layers);
        expect(res.label).toBe(finalLabel);
        expect(res.costs.measured.payloadBytes).toBeGreaterThan(enc.inputIds.length * manifest.hiddenSize * 4);
        expect(res.costs.measured.commMs).toBeGreaterThanOrEqual(0);
      }
      if (res.label === finalLabel) agreeWithFinal++;
      splits.add(res.splitLayer);
    }
    expect(offloaded).toBeGreaterThan(0);
    expect(splits.size).toBeGreaterThan(1);
    console.log(
      `  ${offloaded}/200 offloaded, splits used ${[...splits].sort((a, b) => a - b).join(",")}, ` +
        `${agreeWithFinal}/200 labels equal the final exit's`,
    );
    await edge.close();
  },
});

Deno.test({
  name: "e2e in-process: GATEWAY_AUTH=hmac on both sides signs every offload; replays and bearer edges are refused",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const hmacGateway = createGatewayApp({
      models: [{ runner: gatewayRunner, model: manifest }],
      provider: "cpu",
      auth: { mode: "hmac", token: TOKEN },
      // Started a second ago: a signature stamped with the second a gateway starts in is refused (gateway/hmac_auth.ts).
      startedAt: Date.now() - 1000,
      log: () => {},
    });
    const sent: Request[] = [];
    const fetch = (req: Request) => {
      sent.push(req.clone());
      return hmacGateway.fetch(req);
    };
    const env = { GATEWAY_TOKEN: TOKEN, SPLITEE_POLICY: "fixed-3", SPLITEE_ALPHA: "0.999" };
    const edge = await edgeService({ ...env, GATEWAY_AUTH: "hmac" }, edgeRunner, fetch);
    const sentences = (await readSst2()).slice(0, 10).map((s) => s.text);
    const answers = [];
    for (const text of sentences) answers.push(await classifyVia(edge.app, { text }));
    await edge.close();
    const offloaded = answers.filter((r) => r.answeredBy === "gateway");
    expect(offloaded.length).toBeGreaterThan(0);
    expect(answers.every((r) => !r.degraded)).toBe(true);
    expect(sent.length).toBe(offloaded.length);
    for (const req of sent) {
      expect(req.headers.get("authorization")).toBeNull();
      expect(req.headers.get("x-splitee-signature")).toMatch(/^v1=[0-9a-f]{64}$/);
    }
    // Replaying a captured offload is refused.
    const replay = await hmacGateway.fetch(sent[0]!);
    expect(replay.status).toBe(401);
    const problem = await replay.json();
    expect(problem.type).toMatch(/replayed-signature$/);
    expect(JSON.stringify(problem)).not.toContain(TOKEN);
    // An edge still on the bearer scheme is refused (401) and degrades instead of failing.
    const bearerEdge = await edgeService(env, edgeRunner, (req) => hmacGateway.fetch(req));
    const degraded = await classifyVia(bearerEdge.app, { text: sentences[0]! });
    await bearerEdge.close();
    expect(degraded.degraded).toBe(true);
  },
});

Deno.test({
  name: "e2e in-process: in measured cost mode a slow gateway moves the split toward the edge, and back",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const sentences = (await readSst2()).slice(0, 60).map((s) => s.text);
    const clock = new VirtualClock();
    const gw = delayedGateway(clock);
    const edge = await edgeService(
      {
        GATEWAY_TOKEN: TOKEN,
        SPLITEE_COST_MODE: "measured",
        SPLITEE_ALPHA: "0.95", // early exits rarely pass: offloading matters
        SPLITEE_BETA: "0.1",
        SPLITEE_COST_HALF_LIFE_MS: "150",
        SPLITEE_EWMA_WEIGHT: "0.5",
        EDGE_OFFLOAD_TIMEOUT_MS: "5000",
      },
      clockedRunner(edgeRunner, clock, EDGE_MS_PER_LAYER),
      gw.fetch,
      { now: clock.now },
    );
    const phase = async (delayMs: number, n: number) => {
      gw.state.delayMs = delayMs;
      const out = [];
      let maxO = 0;
      for (let i = 0; i < n; i++) {
        out.push(await classifyVia(edge.app, { text: sentences[i % sentences.length]! }));
        maxO = Math.max(maxO, edge.costs.costs().o);
      }
      const tail = out.slice(-15);
      return {
        meanSplit: tail.reduce((a, r) => a + r.splitLayer, 0) / tail.length,
        offloadRate: tail.filter((r) => r.answeredBy === "gateway").length / tail.length,
        o: edge.costs.costs().o,
        maxO,
      };
    };
    const fast = await phase(0, 40);
    // "Slow": a delay worth 150 edge layers; all times are on the virtual clock, so the outcome does not depend on
    // this machine's speed or load.
    const delayMs = 150 * EDGE_MS_PER_LAYER;
    const slow = await phase(delayMs, 30);
    clock.advance(1500); // the stale o decays toward its prior
    const recovered = await phase(0, 40);
    console.log(`  delay ${delayMs} ms (edge ${EDGE_MS_PER_LAYER} ms/layer)`, { fast, slow, recovered });
    // The measured offload cost follows the network; the split follows the cost. (How far it moves, and how much
    // the offload rate drops, depends on how confident the deeper exits are and on the edge's own speed.)
    expect(slow.maxO).toBeGreaterThan(fast.o * 5);
    expect(recovered.o).toBeLessThan(slow.maxO / 5);
    expect(slow.meanSplit).toBeGreaterThanOrEqual(fast.meanSplit + 1);
    expect(recovered.meanSplit).toBeLessThanOrEqual(slow.meanSplit - 1);
    await edge.close();
  },
});

Deno.test({
  name: "e2e in-process: with the gateway down mid-stream every request is answered and the split moves, and back",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const sentences = (await readSst2()).slice(60, 120).map((s) => s.text);
    const clock = new VirtualClock();
    const gw = delayedGateway(clock);
    const state = { down: false };
    const fetch = (req: Request) => {
      if (state.down) return Promise.reject(new TypeError("error sending request: Connection refused (os error 111)"));
      return gw.fetch(req);
    };
    const edge = await edgeService(
      {
        GATEWAY_TOKEN: TOKEN,
        SPLITEE_COST_MODE: "measured",
        SPLITEE_ALPHA: "0.95", // early exits rarely pass: offloading matters
        SPLITEE_BETA: "0.1",
        SPLITEE_EWMA_WEIGHT: "0.5",
        SPLITEE_COST_HALF_LIFE_MS: "150",
        EDGE_BREAKER_COOLDOWN_MS: "100",
        EDGE_FALLBACK: "edge-complete",
      },
      clockedRunner(edgeRunner, clock, EDGE_MS_PER_LAYER),
      fetch,
      { now: clock.now },
    );
    const phase = async (down: boolean, n: number) => {
      state.down = down;
      const out = [];
      for (let i = 0; i < n; i++) out.push(await classifyVia(edge.app, { text: sentences[i % sentences.length]! }));
      const tail = out.slice(-15);
      return {
        meanSplit: tail.reduce((a, r) => a + r.splitLayer, 0) / tail.length,
        degraded: out.filter((r) => r.degraded).length,
        o: edge.costs.costs().o,
      };
    };
    const up = await phase(false, 30);
    const down = await phase(true, 30);
    clock.advance(1500); // breaker cooldown; the stale o decays toward its prior
    const back = await phase(false, 30);
    console.log("  ", { up, down, back });
    expect(up.degraded).toBe(0);
    expect(down.degraded).toBeGreaterThan(0);
    expect(back.degraded).toBe(0);
    expect(down.meanSplit).toBeGreaterThanOrEqual(up.meanSplit + 1);
    expect(back.meanSplit).toBeLessThanOrEqual(down.meanSplit - 1);
    await edge.close();
  },
});

Deno.test({
  name: "e2e in-process: policy statistics survive an edge restart and two edges on one KV share them",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    await withTempDir(async (dir) => {
      const kvPath = `${dir}/policy.kv`;
      const env = { GATEWAY_TOKEN: TOKEN, EDGE_KV_PATH: kvPath, EDGE_POLICY_FLUSH_EVERY: "4" };
      const texts = (await readSst2()).slice(0, 12).map((s) => s.text);
      const fetch = (r: Request) => gatewayApp.fetch(r);

      const first = await edgeService(env, edgeRunner, fetch);
      for (const text of texts.slice(0, 6)) await classifyVia(first.app, { text });
      const before = await (await first.app.request("/v1/policy")).json();
      expect(before.t).toBe(6);
      await first.close(); // SIGTERM path: flushes everything

      const restarted = await edgeService(env, edgeRunner, fetch);
      const after = await (await restarted.app.request("/v1/policy")).json();
      expect(after.t).toBe(6);
      expect(after.arms.map((a: { pulls: number }) => a.pulls)).toEqual(
        before.arms.map((a: { pulls: number }) => a.pulls),
      );

      const second = await edgeService(env, edgeRunner, fetch);
      for (let i = 6; i < 12; i++) await classifyVia(i % 2 ? restarted.app : second.app, { text: texts[i]! });
      await restarted.store.flush();
      await second.store.flush();
      await restarted.store.sync();
      await second.store.sync();
      const a = await (await restarted.app.request("/v1/policy")).json();
      const b = await (await second.app.request("/v1/policy")).json();
      expect(a.t).toBe(12);
      expect(b.t).toBe(12);
      expect(a.arms).toEqual(b.arms);
      await restarted.close();
      await second.close();
    });
  },
});

function argmaxOf(xs: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < xs.length; i++) if (xs[i]! > xs[best]!) best = i;
  return best;
}
