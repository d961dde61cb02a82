/**
 * One model's rejections must not cut the other models off the gateway: an edge serving the sentiment and paraphrase
 * models offloads to a gateway that serves only the sentiment model (in-process, real runners). Every paraphrase
 * offload is refused with 409 (model mismatch) and answered on the edge (`degradedReason: "rejected"`); the shared
 * circuit breaker stays closed and the sentiment requests that follow are still answered by the gateway.
 */
import { expect } from "expect";
import { loadWebRunner } from "../edge/runtime/onnx.ts";
import { createEdgeService } from "../edge/service.ts";
import { loadModelFiles, MODEL_DIR, PAIR_MODEL_DIRS, testConfig } from "../edge/testing.ts";
import { createApp as createGatewayApp } from "../gateway/app.ts";
import { loadNodeRunner } from "../gateway/runtime/onnx.ts";
import { classifyVia } from "./e2e_helpers.ts";

const TOKEN = "e2e-breaker-token-0123456789";

Deno.test({
  name: "e2e breaker: 409s for a model the gateway does not serve leave the breaker closed for the others",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const models = await Promise.all([MODEL_DIR, PAIR_MODEL_DIRS.paraphrase].map(async (dir) => {
      const { manifest, vocabText } = await loadModelFiles(dir);
      const runner = await loadWebRunner({ manifest, files: (name) => Deno.readFile(new URL(name, dir)) });
      return { manifest, vocabText, runner, dir };
    }));
    const sentiment = models[0]!;
    const paraphrase = models[1]!;
    const gatewayRunner = await loadNodeRunner(
      { manifest: sentiment.manifest, files: (name) => Deno.readFile(new URL(name, sentiment.dir)) },
      { intraOpThreads: 1 },
    );
    const gateway = createGatewayApp({
      models: [{ runner: gatewayRunner, model: sentiment.manifest }], // a subset of the edge's models
      provider: "cpu",
      auth: { mode: "token", token: TOKEN },
    });
    const kv = await Deno.openKv(":memory:");
    const edge = await createEdgeService({
      config: testConfig({
        GATEWAY_TOKEN: TOKEN,
        SPLITEE_POLICY: "fixed-3", // every request offloads after layer 3 (alpha = 1 is never reached)
        SPLITEE_ALPHA: "1",
        EDGE_BREAKER_FAILURES: "2",
        EDGE_BREAKER_COOLDOWN_MS: "600000", // an opened breaker would stay open for the whole test
        EDGE_OFFLOAD_TIMEOUT_MS: "20000",
      }),
      models: models.map(({ manifest, vocabText, runner }) => ({ manifest, vocabText, runner })),
      kv,
      fetch: (req) => gateway.fetch(req),
      seed: 3,
    });
    try {
      for (let i = 0; i < 5; i++) {
        const r = await classifyVia(edge.app, {
          model: paraphrase.manifest.id,
          text: "How do I learn guitar fast?",
          textPair: "What is the quickest way to learn guitar?",
        });
        expect(r).toMatchObject({ answeredBy: "edge", degraded: true, degradedReason: "rejected", exitLayer: 12 });
      }
      expect(edge.breaker.snapshot()).toMatchObject({ state: "closed", opened: 0, consecutiveFailures: 0 });
      for (const text of ["a charming and often affecting journey", "the plot is a mess"]) {
        const r = await classifyVia(edge.app, { text });
        expect(r).toMatchObject({ answeredBy: "gateway", degraded: false, degradedReason: null });
      }
    } finally {
      await edge.close();
      kv.close();
      await Promise.all([...models.map((m) => m.runner.dispose()), gatewayRunner.dispose()]);
    }
  },
});
