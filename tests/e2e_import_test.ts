/**
 * An imported checkpoint served unchanged: a tiny random DeeBERT checkpoint (tests/fixtures/import/tiny_bert.py) goes
 * through `deno task import`, then one edge (onnxruntime-web) and one gateway (onnxruntime-node), in-process, serve
 * it. Answers on the edge (early exit at the split) and offloaded answers (the gateway's last exit) equal the
 * independent NumPy forward pass of BERT at the exit that answered. Skipped, with a message, without
 * PyTorch/ONNX/NumPy.
 */
import assert from "node:assert/strict";
import { loadWebRunner } from "../edge/runtime/onnx.ts";
import { createEdgeService } from "../edge/service.ts";
import { testConfig } from "../edge/testing.ts";
import { createApp as createGatewayApp } from "../gateway/app.ts";
import { loadNodeRunner, readModelDir } from "../gateway/runtime/onnx.ts";
import { classifyVia } from "./e2e_helpers.ts";
import { encodeFor, hasPythonStack, importCli, reference, warnSkipped, writeCheckpoint } from "./import_helpers.ts";

warnSkipped("tests/e2e_import_test.ts");
const TOKEN = "e2e-import-token-0123456789";
const TEXTS = ["the movie was very good !", "a dull plot , not fun", "how do i learn guitar fast ?"];

function softmax(z: readonly number[]): number[] {
  const m = Math.max(...z), e = z.map((v) => Math.exp(v - m)), s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

Deno.test({
  name: "e2e import: an imported DeeBERT checkpoint serves through the edge and the gateway, equal to NumPy BERT",
  ignore: !hasPythonStack,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "splitee-e2e-import-" });
    try {
      const ck = `${dir}/ck`, out = `${dir}/model`;
      await writeCheckpoint(ck, "deebert");
      const imported = await importCli("--from", ck, "--out", out, "--id", "tiny-deebert");
      assert.equal(imported.code, 0, imported.stderr);
      const source = await readModelDir(out);
      const { manifest } = source;
      const vocabText = await Deno.readTextFile(`${out}/vocab.txt`);
      const gatewayRunner = await loadNodeRunner(source, { intraOpThreads: 1 });
      const edgeRunner = await loadWebRunner(source);
      const gateway = createGatewayApp({
        models: [{ runner: gatewayRunner, model: manifest }],
        provider: "cpu",
        auth: { mode: "token", token: TOKEN },
      });
      // alpha = 1: never confident, every request offloads after layer 1; alpha = 0: always exits at layer 2.
      const setups = [{ policy: "fixed-1", alpha: "1", answeredBy: "gateway", exit: 3 }, {
        policy: "fixed-2",
        alpha: "0",
        answeredBy: "edge",
        exit: 2,
      }];
      try {
        for (const s of setups) {
          const kv = await Deno.openKv(":memory:");
          const edge = await createEdgeService({
            config: testConfig({
              GATEWAY_TOKEN: TOKEN,
              SPLITEE_POLICY: s.policy,
              SPLITEE_ALPHA: s.alpha,
              EDGE_OFFLOAD_TIMEOUT_MS: "20000",
            }),
            models: [{ manifest, vocabText, runner: edgeRunner }],
            kv,
            fetch: (req) => gateway.fetch(req),
            seed: 3,
          });
          try {
            for (const text of TEXTS) {
              const r = await classifyVia(edge.app, { text });
              assert.deepEqual(
                [r.modelId, r.answeredBy, r.exitLayer, r.degraded],
                ["tiny-deebert", s.answeredBy, s.exit, false],
              );
              const { batch } = await encodeFor(out, [[text]]);
              const expected = softmax((await reference(ck, batch, dir)).layers[s.exit - 1]!.logits![0]!);
              r.probabilities.forEach((p, i) =>
                assert.ok(Math.abs(p - expected[i]!) < 1e-4, `${text}: ${r.probabilities} vs ${expected}`)
              );
              assert.equal(r.label, manifest.labels[expected.indexOf(Math.max(...expected))]);
            }
          } finally {
            await edge.close();
            kv.close();
          }
        }
      } finally {
        await edgeRunner.dispose();
        await gatewayRunner.dispose();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
