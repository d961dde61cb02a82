/**
 * The edge's API conventions end to end: the real edge (onnxruntime-web) wired in-process to the real gateway app
 * (onnxruntime-node), the default SplitEE-S policy.
 * - A pinned request (`"split": 3, "earlyExit": false`) is answered by the gateway with the full model's final exit,
 *   marked pinned, and leaves the policy state, `/v1/policy` and the cost estimates exactly as they were.
 * - A batch is answered in order, one element per input, with labelled scores; an input with no real token is a 422
 *   problem in its place, and a lone one is a 422 response.
 * - `GET /v1/models` lists the model with its layers and the edge's maximum split, which bounds `"split"`.
 */
import { expect } from "expect";
import { createApp as createGatewayApp } from "../gateway/app.ts";
import { loadNodeRunner } from "../gateway/runtime/onnx.ts";
import { MODEL_DIR } from "../edge/testing.ts";
import { padBatch, rowsOf, runAllExits } from "../shared/model_io.ts";
import { softmax } from "../shared/math.ts";
import { WordPieceTokenizer } from "../shared/tokenizer/mod.ts";
import { classifyVia, edgeService, loadEdgeModel, readSst2 } from "./e2e_helpers.ts";

const TOKEN = "api-e2e-token-0123456789abcdef";
/** Offload timeout: generous, so a loaded test machine never turns an offload into a degraded answer. */
const SLOW_MACHINE_MS = "30000";
const { edgeRunner, manifest, vocabText } = await loadEdgeModel();
const gatewayRunner = await loadNodeRunner(MODEL_DIR.pathname, { intraOpThreads: 1 });
const gatewayApp = createGatewayApp({
  models: [{ runner: gatewayRunner, model: manifest }],
  provider: "cpu",
  auth: { mode: "token", token: TOKEN },
});
const tokenizer = new WordPieceTokenizer(vocabText, {
  maxLength: manifest.maxLength,
  headTokens: manifest.tokenizer.headTokens,
});

/** The full model's final-exit probabilities of `text` (single process, no split). */
async function finalExit(text: string): Promise<Float64Array> {
  const exits = await runAllExits(edgeRunner, padBatch([tokenizer.encode(text)]));
  return softmax(rowsOf(exits[manifest.layers - 1]!)[0]!);
}

const post = (body: unknown) => ({
  method: "POST",
  headers: { "content-type": "application/json" },
  body: JSON.stringify(body),
});

Deno.test({
  name: "e2e API: a pinned offload is answered by the gateway and does not touch the policy; batches; GET /v1/models",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    let offloads = 0;
    const edge = await edgeService(
      // No periodic re-read of the stored statistics (it swaps in the stored, rounded sums at any moment): the state
      // changes only when this test flushes, so a snapshot before and after the pinned request is comparable.
      { GATEWAY_TOKEN: TOKEN, EDGE_OFFLOAD_TIMEOUT_MS: SLOW_MACHINE_MS, EDGE_POLICY_SYNC_MS: "0" },
      edgeRunner,
      (req) => {
        offloads++;
        return gatewayApp.fetch(req);
      },
    );
    const sentences = (await readSst2()).slice(0, 12).map((s) => s.text);
    try {
      // Some ordinary traffic first, so the policy has a state to keep.
      for (const text of sentences.slice(0, 6)) await classifyVia(edge.app, { text });
      await t.step(
        "a pinned offload is answered by the gateway, marked pinned, and learned from by nobody",
        async () => {
          await edge.store.flush(); // the ordinary requests' updates are written (a flush re-reads them as stored)
          const state = structuredClone(edge.store.state());
          const view = await (await edge.app.request("/v1/policy")).json();
          const costs = edge.costs.snapshot();
          const before = offloads;
          const text = sentences[6]!;
          const res = await edge.app.request("/v1/classify", post({ text, split: 3, earlyExit: false }));
          expect(res.status).toBe(200);
          const r = await res.json();
          expect(r).toMatchObject({
            splitLayer: 3,
            pinned: true,
            exitLayer: manifest.layers,
            answeredBy: "gateway",
            degraded: false,
          });
          expect(r.exitConfidences).toHaveLength(3);
          expect(offloads).toBe(before + 1);
          const reference = await finalExit(text);
          r.probabilities.forEach((p: number, i: number) => expect(Math.abs(p - reference[i]!)).toBeLessThan(1e-4));
          expect(r.costs.lambdaUnits).toBe(0.8); // 0.1 * 3 + 0.5: rounded, no float noise
          await edge.store.flush();
          expect(edge.store.state()).toEqual(state);
          expect(edge.store.stats().pending).toBe(0);
          expect(await (await edge.app.request("/v1/policy")).json()).toEqual(view);
          expect(edge.costs.snapshot()).toEqual(costs);
          // The next ordinary request is learned again.
          expect((await classifyVia(edge.app, { text })).pinned).toBe(false);
          expect(edge.store.state().t).toBe(state.t + 1);
        },
      );
      await t.step(
        "a batch is answered in order with labelled scores; a zero-width input is a 422 in its place",
        async () => {
          const t0 = edge.store.state().t;
          const inputs = [{ text: sentences[7]!, split: 12 }, { text: "\u200b\u200b" }, {
            text: sentences[8]!,
            split: 12,
          }];
          const res = await edge.app.request("/v1/classify", post({ inputs }));
          expect(res.status).toBe(200);
          const { results } = await res.json();
          expect(results).toHaveLength(3);
          for (const i of [0, 2]) {
            const reference = await finalExit(inputs[i]!.text);
            const best = reference[1]! > reference[0]! ? 1 : 0;
            expect(results[i]).toMatchObject({ label: manifest.labels[best], pinned: true, exitLayer: 12 });
            expect(results[i].scores).toEqual(
              manifest.labels.map((label, k) => ({ label, score: results[i].probabilities[k] })),
            );
          }
          expect(results[1]).toMatchObject({ status: 422, index: 1, errors: [{ field: "text" }] });
          expect(results[1].detail).toContain("no token the model can read");
          expect(edge.store.state().t).toBe(t0); // pinned and refused inputs: nothing learned
        },
      );
      await t.step("a lone text of zero-width characters is a 422 problem and trains nothing", async () => {
        const t0 = edge.store.state().t;
        const res = await edge.app.request("/v1/classify", post({ text: "\u200b\u200b" }));
        expect(res.status).toBe(422);
        expect(res.headers.get("content-type")).toBe("application/problem+json");
        expect((await res.json()).errors).toEqual([{
          field: "text",
          message:
            "Has no token the model can read: only spaces, control or zero-width characters (the tokenizer removes them)",
        }]);
        expect(edge.store.state().t).toBe(t0);
      });
      await t.step("GET /v1/models lists the model; a split past its maximum split is a 422", async () => {
        const { models } = await (await edge.app.request("/v1/models")).json();
        expect(models).toEqual([{
          id: manifest.id,
          version: manifest.version,
          task: manifest.task,
          labels: manifest.labels,
          layers: manifest.layers,
          maxSplit: manifest.layers,
          maxTokens: manifest.maxLength,
          timingOnly: false,
          default: true,
        }]);
        const res = await edge.app.request("/v1/classify", post({ text: "fine", split: manifest.layers + 1 }));
        expect(res.status).toBe(422);
      });
    } finally {
      await edge.close();
    }
    // EDGE_MAX_SPLIT bounds the advertised and the accepted split.
    const capped = await edgeService(
      { GATEWAY_TOKEN: TOKEN, EDGE_MAX_SPLIT: "4", EDGE_OFFLOAD_TIMEOUT_MS: SLOW_MACHINE_MS },
      edgeRunner,
      gatewayApp.fetch,
    );
    try {
      const { models } = await (await capped.app.request("/v1/models")).json();
      expect(models[0]).toMatchObject({ layers: manifest.layers, maxSplit: 4 });
      expect((await capped.app.request("/v1/classify", post({ text: "fine", split: 5 }))).status).toBe(422);
      const r = await (await capped.app.request("/v1/classify", post({ text: "fine", split: 4, earlyExit: false })))
        .json();
      expect(r).toMatchObject({ splitLayer: 4, pinned: true, answeredBy: "gateway" });
    } finally {
      await capped.close();
    }
  },
});
