/**
 * The three committed models served side by side by one edge and one gateway (in-process, real runners:
 * onnxruntime-web on the edge, onnxruntime-node on the gateway). Pair requests (`textPair`) name their model; every
 * answer, offloaded or not, equals a single-process full-model run of the same pair; each model keeps its own
 * policy statistics.
 */
import { expect } from "expect";
import { loadWebRunner } from "../edge/runtime/onnx.ts";
import { createEdgeService } from "../edge/service.ts";
import { loadModelFiles, MODEL_DIR, PAIR_MODEL_DIRS, testConfig } from "../edge/testing.ts";
import { createApp as createGatewayApp } from "../gateway/app.ts";
import { loadNodeRunner } from "../gateway/runtime/onnx.ts";
import { softmax } from "../shared/math.ts";
import { padBatch, rowsOf, runAllExits } from "../shared/model_io.ts";
import { WordPieceTokenizer } from "../shared/tokenizer/mod.ts";
import { classifyVia } from "./e2e_helpers.ts";

const TOKEN = "e2e-pairs-token-0123456789";
const DIRS = [MODEL_DIR, PAIR_MODEL_DIRS.paraphrase, PAIR_MODEL_DIRS.entailment];
const models = await Promise.all(DIRS.map(async (dir) => {
  const { manifest, vocabText } = await loadModelFiles(dir);
  const files = (name: string) => Deno.readFile(new URL(name, dir));
  return {
    manifest,
    vocabText,
    edgeRunner: await loadWebRunner({ manifest, files }),
    gatewayRunner: await loadNodeRunner({ manifest, files }, { intraOpThreads: 1, preload: "all" }),
  };
}));
const [sentiment, paraphrase, entailment] = models as [typeof models[0], typeof models[0], typeof models[0]];

/** Pairs from the QQP and SNLI test files' first rows (public data), with what each model should be asked. */
const PAIRS = [
  {
    model: paraphrase,
    text: "What should I do to avoid sleeping in class?",
    textPair: "How do I not sleep in a boring class?",
  },
  { model: paraphrase, text: "Do women support each other more than men do?", textPair: "Are apples red?" },
  {
    model: entailment,
    text: "This church choir sings to the masses as they sing joyous songs from the book at a church.",
    textPair: "The church is filled with song.",
  },
  {
    model: entailment,
    text: "A woman with a green headscarf, blue shirt and a very big grin.",
    textPair: "The woman is very happy.",
  },
];

/** The final exit's probabilities of a full single-process run (native runner, no split, no wire). */
async function reference(m: typeof models[0], text: string, textPair: string): Promise<number[]> {
  const tokenizer = new WordPieceTokenizer(m.vocabText, { maxLength: m.manifest.maxLength });
  const logits = await runAllExits(m.gatewayRunner, padBatch([tokenizer.encode(text, textPair)]));
  return Array.from(softmax(rowsOf(logits.at(-1)!)[0]!));
}

Deno.test({
  name: "e2e pair models: one edge and one gateway serve all three models; offloaded pairs equal full runs",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const gateway = createGatewayApp({
      models: models.map((m) => ({ runner: m.gatewayRunner, model: m.manifest })),
      provider: "cpu",
      auth: { mode: "token", token: TOKEN },
    });
    const kv = await Deno.openKv(":memory:");
    // alpha = 1 is never reached: every request offloads after the fixed split layer 3.
    const edge = await createEdgeService({
      config: testConfig({
        GATEWAY_TOKEN: TOKEN,
        SPLITEE_POLICY: "fixed-3",
        SPLITEE_ALPHA: "1",
        EDGE_OFFLOAD_TIMEOUT_MS: "20000", // a loaded CI machine must not turn this test into a fallback test
      }),
      models: models.map((m) => ({ manifest: m.manifest, vocabText: m.vocabText, runner: m.edgeRunner })),
      kv,
      fetch: (req) => gateway.fetch(req),
      seed: 11,
    });
    try {
      for (const { model, text, textPair } of PAIRS) {
        const r = await classifyVia(edge.app, { model: model.manifest.id, text, textPair });
        expect([r.modelId, r.answeredBy, r.degradedReason, r.splitLayer, r.exitLayer]).toEqual([
          model.manifest.id,
          "gateway",
          null,
          3,
          12,
        ]);
        const expected = await reference(model, text, textPair);
        expect(r.probabilities).toHaveLength(model.manifest.labels.length);
        r.probabilities.forEach((p, i) => expect(Math.abs(p - expected[i]!)).toBeLessThan(1e-4));
        expect(r.label).toBe(model.manifest.labels[r.labelIndex]);
      }
      const single = await classifyVia(edge.app, { text: "a gorgeous , witty , seductive movie ." });
      expect([single.modelId, single.answeredBy]).toEqual([sentiment.manifest.id, "gateway"]);

      // Each model learned from its own requests only.
      const t = async (id: string) => (await (await edge.app.request(`/v1/policy?model=${id}`)).json()).t;
      expect([await t(sentiment.manifest.id), await t(paraphrase.manifest.id), await t(entailment.manifest.id)])
        .toEqual([1, 2, 2]);
    } finally {
      await edge.close();
      kv.close();
    }
  },
});

Deno.test({
  name: "e2e pair models: pairs on a single-text model, single texts on a pair model and unknown models are 422",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const kv = await Deno.openKv(":memory:");
    const edge = await createEdgeService({
      config: testConfig({ GATEWAY_TOKEN: TOKEN }),
      models: models.map((m) => ({ manifest: m.manifest, vocabText: m.vocabText, runner: m.edgeRunner })),
      kv,
      fetch: () => Promise.reject(new TypeError("no gateway in this test")),
      seed: 1,
    });
    try {
      const post = (body: unknown) =>
        edge.app.request("/v1/classify", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify(body),
        });
      for (
        const [body, needle] of [
          [{ text: "a", textPair: "b" }, "classifies single texts"],
          [{ model: paraphrase.manifest.id, text: "a" }, "textPair: Required"],
          [{ model: "qqp", text: "a", textPair: "b" }, "this edge serves sentiment-en, paraphrase-en, entailment-en"],
        ] as const
      ) {
        const res = await post(body);
        expect(res.status).toBe(422);
        expect((await res.json()).detail).toContain(needle);
      }
    } finally {
      await edge.close();
      kv.close();
    }
  },
});
