/**
 * Whole edge requests for benchmarks: the default model on onnxruntime-web (sessions preloaded), an edge service per
 * policy on a given KV file (default flush and sync settings, no gateway), and SST-2 dev sentences sent in file order.
 * Used by bench/policy_overhead.ts and bench/policy_overhead_bench.ts.
 * @module
 */
import type { Hono } from "hono";
import { loadConfig } from "../edge/config.ts";
import { loadWebRunner } from "../edge/runtime/onnx.ts";
import { createEdgeService } from "../edge/service.ts";
import { MODEL_DIR, modelSource, sst2Dev } from "./data.ts";

/** An edge service with its KV; `close` closes both. */
export interface BenchEdge {
  readonly app: Hono;
  close(): Promise<void>;
}

/** Loads the default model and the sentences once; `edge()` builds a service, `classify()` sends the next sentence. */
export async function edgeRequests() {
  const { manifest } = await modelSource();
  const vocabText = await Deno.readTextFile(new URL(manifest.tokenizer.vocab, MODEL_DIR));
  const runner = await loadWebRunner({ manifest, files: (name) => Deno.readFile(new URL(name, MODEL_DIR)) }, {
    preload: "all",
  });
  const sentences = (await sst2Dev()).map((r) => r.text);
  let sentence = 0;
  return {
    runner,
    /** An edge running `policyName` with its statistics in the KV file `kvPath`. */
    async edge(policyName: string, kvPath: string): Promise<BenchEdge> {
      const config = loadConfig({
        EDGE_MODEL_DIR: "models/sentiment",
        EDGE_KV_PATH: kvPath,
        EDGE_RATE_LIMIT_RPS: "0",
        SPLITEE_POLICY: policyName,
        SPLITEE_SEED: "1",
      });
      const kv = await Deno.openKv(config.kv.path);
      const service = await createEdgeService({
        config,
        models: [{ manifest, vocabText, runner }],
        kv,
        fetch: () => Promise.reject(new Error("no gateway in this bench")),
        seed: 1,
      });
      return {
        app: service.app,
        close: async () => {
          await service.close();
          kv.close();
        },
      };
    },
    /** POSTs the next sentence; resolves with the number of layers the edge ran. */
    async classify(edge: BenchEdge): Promise<number> {
      const res = await edge.app.request("/v1/classify", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ text: sentences[sentence++ % sentences.length] }),
      });
      if (res.status !== 200) throw new Error(`classify answered ${res.status}: ${await res.text()}`);
      return ((await res.json()) as { exitConfidences: number[] }).exitConfidences.length;
    },
  };
}
