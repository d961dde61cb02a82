/**
 * Test helpers for the edge (imported by `*_test.ts` and tests/ only): the default model's manifest and vocabulary,
 * a scripted {@linkcode SegmentRunner} whose exit confidences a test chooses, and a config from overrides.
 * @module
 */

import { type Manifest, parseManifest } from "../shared/manifest.ts";
import { padBatch } from "../shared/model_io.ts";
import type { Float32Tensor, Int64Tensor, LayerOutput, SegmentRunner } from "../shared/tensor.ts";
import { type EdgeConfig, loadConfig } from "./config.ts";

/** The default model's folder. */
export const MODEL_DIR = new URL("../models/sentiment/", import.meta.url);
/** The committed pair models' folders (paraphrase, entailment). */
export const PAIR_MODEL_DIRS = {
  paraphrase: new URL("../models/paraphrase/", import.meta.url),
  entailment: new URL("../models/entailment/", import.meta.url),
} as const;

/** A model folder's manifest and vocabulary text. @default the default model's folder */
export async function loadModelFiles(dir: URL = MODEL_DIR): Promise<{ manifest: Manifest; vocabText: string }> {
  const manifest = parseManifest(JSON.parse(await Deno.readTextFile(new URL("manifest.json", dir))));
  const vocabText = await Deno.readTextFile(new URL(manifest.tokenizer.vocab, dir));
  return { manifest, vocabText };
}

/** A scripted runner's call log. */
export interface ScriptedRunner extends SegmentRunner {
  /** Layers run, in order. */
  readonly calls: number[];
}

/**
 * A two-class runner whose exit k answers class 1 with confidence `confidenceOf(k)` (in [0.5, 1)). The hidden state
 * is `[1, T, D]` filled with k after layer k.
 */
export function scriptedRunner(
  layers: number,
  hiddenSize: number,
  confidenceOf: (layer: number) => number,
): ScriptedRunner {
  const calls: number[] = [];
  const hiddenOf = (dims: readonly number[], value: number): Float32Tensor => {
    const n = dims.reduce((a, b) => a * b, 1);
    return { dtype: "float32", dims: [...dims], data: new Float32Array(n).fill(value) };
  };
  return {
    layers,
    calls,
    embed(inputIds: Int64Tensor): Promise<Float32Tensor> {
      return Promise.resolve(hiddenOf([1, inputIds.dims[1]!, hiddenSize], 0));
    },
    layer(k: number, hidden: Float32Tensor): Promise<LayerOutput> {
      calls.push(k);
      const c = confidenceOf(k);
      const logits: Float32Tensor = {
        dtype: "float32",
        dims: [1, 2],
        data: new Float32Array([0, Math.log(c / (1 - c))]),
      };
      return Promise.resolve({ hidden: hiddenOf(hidden.dims, k), logits });
    },
    dispose: () => Promise.resolve(),
  };
}

/** A config for tests: in-memory KV, no rate limit, fast flushes, a fixed seed, plus `env` overrides. */
export function testConfig(env: Record<string, string> = {}): EdgeConfig {
  return loadConfig({
    EDGE_KV_PATH: ":memory:",
    EDGE_RATE_LIMIT_RPS: "0",
    EDGE_POLICY_FLUSH_MS: "20",
    EDGE_POLICY_SYNC_MS: "0",
    SPLITEE_SEED: "1",
    ...env,
  });
}

/**
 * Opens and runs one onnxruntime-web session of the default model, then releases it. Await it at the top level of a
 * test file whose tests open sessions: the first session onnxruntime-web creates probes for WASM thread support with
 * a `MessageChannel` whose ports it never closes (its `isMultiThreadSupported` check), and the resource sanitizer of
 * Deno 2.5 (Deno Deploy's runtime) blames that port on whichever test opened the first session. Opened outside any
 * test, it belongs to none.
 */
export async function openOnnxRuntimeWebOnce(): Promise<void> {
  const { loadWebRunner } = await import("./runtime/onnx.ts");
  const { manifest } = await loadModelFiles();
  const runner = await loadWebRunner({ manifest, files: (name) => Deno.readFile(new URL(name, MODEL_DIR)) });
  try {
    const batch = padBatch([{ inputIds: [2, 3], tokenTypeIds: [0, 0] }]);
    await runner.embed(batch.inputIds, batch.tokenTypeIds);
  } finally {
    await runner.dispose();
  }
}
