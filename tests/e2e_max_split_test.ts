/**
 * `EDGE_MAX_SPLIT`: an edge that holds only the embedding and layers 1..K of a model (K < L), wired to the real gateway
 * app in-process (onnxruntime-web on the edge, onnxruntime-node on the gateway).
 * - Gateway up: every split is in 1..K, arm K offloads when its exit is unsure, offloaded answers equal the full
 *   model's final exit, `/v1/policy` lists arms 1..K, and no file of layers K+1..L was read by the edge.
 * - Gateway down: every request is still answered (200) from the deepest edge exit, flagged degraded, without running a
 *   layer past K on the edge.
 */
import { expect } from "expect";
import { createApp as createGatewayApp } from "../gateway/app.ts";
import { loadNodeRunner } from "../gateway/runtime/onnx.ts";
import { loadWebRunner } from "../edge/runtime/onnx.ts";
import { MODEL_DIR } from "../edge/testing.ts";
import { padBatch, rowsOf, runAllExits } from "../shared/model_io.ts";
import { softmax } from "../shared/math.ts";
import { WordPieceTokenizer } from "../shared/tokenizer/mod.ts";
import { classifyVia, edgeService, loadEdgeModel, readSst2 } from "./e2e_helpers.ts";

const TOKEN = "max-split-token-0123456789abcdef";
const K = 3;

Deno.test({
  name: "e2e EDGE_MAX_SPLIT: the edge holds layers 1..K, offloads past them, and degrades to exit K without a gateway",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const { edgeRunner: reference, manifest, vocabText } = await loadEdgeModel();
    const read = new Set<string>();
    const edgeRunner = await loadWebRunner({
      manifest,
      files: (name) => (read.add(name), Deno.readFile(new URL(name, MODEL_DIR))),
    });
    const gatewayRunner = await loadNodeRunner(MODEL_DIR.pathname, { intraOpThreads: 1 });
    const gatewayApp = createGatewayApp({
      models: [{ runner: gatewayRunner, model: manifest }],
      provider: "cpu",
      auth: { mode: "token", token: TOKEN },
    });
    const gateway = { up: true };
    const fetchGateway = (req: Request) =>
      gateway.up ? gatewayApp.fetch(req) : Promise.reject(new TypeError("connection refused"));
    const edge = await edgeService(
      { GATEWAY_TOKEN: TOKEN, EDGE_MAX_SPLIT: String(K), SPLITEE_ALPHA: "0.95", EDGE_BREAKER_FAILURES: "1000" },
      edgeRunner,
      fetchGateway,
    );
    const tokenizer = new WordPieceTokenizer(vocabText, {
      maxLength: manifest.maxLength,
      headTokens: manifest.tokenizer.headTokens,
    });
    const sentences = (await readSst2()).slice(0, 40).map((s) => s.text);
    try {
      await t.step("gateway up: splits in 1..K, unsure exits offload, answers equal the full model", async () => {
        const splits = new Set<number>();
        let offloaded = 0;
        for (const text of sentences) {
          const res = await classifyVia(edge.app, { text });
          expect(res.splitLayer).toBeGreaterThanOrEqual(1);
          expect(res.splitLayer).toBeLessThanOrEqual(K);
          expect(res.degraded).toBe(false);
          splits.add(res.splitLayer);
          const exits = (await runAllExits(reference, padBatch([tokenizer.encode(text)]))).map((x) =>
            softmax(rowsOf(x)[0]!)
          );
          const expected = exits[res.exitLayer - 1]!;
          res.probabilities.forEach((p, i) => expect(Math.abs(p - expected[i]!)).toBeLessThan(1e-4));
          if (res.answeredBy === "gateway") {
            offloaded++;
            expect(res.exitLayer).toBe(manifest.layers);
          } else {
            expect(res.exitLayer).toBeLessThanOrEqual(K);
          }
        }
        expect(offloaded).toBeGreaterThan(0);
        expect([...splits]).toContain(K);
        const view = await (await edge.app.request("/v1/policy")).json();
        expect(view.arms.map((a: { arm: number }) => a.arm)).toEqual([1, 2, 3]);
        const deeper = manifest.segments.filter((s) => s.layer > K).map((s) => s.file);
        expect(deeper.filter((f) => read.has(f))).toEqual([]);
      });
      await t.step("gateway down: answered from the deepest edge exit, flagged degraded, no layer past K", async () => {
        gateway.up = false;
        let degraded = 0;
        for (const text of sentences.slice(0, 20)) {
          const res = await classifyVia(edge.app, { text });
          expect(res.exitLayer).toBeLessThanOrEqual(K);
          expect(res.answeredBy).toBe("edge");
          if (res.degraded) {
            degraded++;
            expect(res.exitLayer).toBe(res.splitLayer);
            expect(res.degradedReason).not.toBeNull();
          }
        }
        expect(degraded).toBeGreaterThan(0);
        const deeper = manifest.segments.filter((s) => s.layer > K).map((s) => s.file);
        expect(deeper.filter((f) => read.has(f))).toEqual([]);
      });
    } finally {
      await edge.close();
      await edgeRunner.dispose();
      await reference.dispose();
      await gatewayRunner.dispose();
    }
  },
});
