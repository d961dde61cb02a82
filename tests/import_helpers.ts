/**
 * Helpers of the `deno task import` tests: Python prerequisites, tiny random checkpoints written by
 * tests/fixtures/import/tiny_bert.py, the import CLI as a user runs it, and the independent NumPy reference.
 * @module
 */

import { readModelDir } from "../gateway/runtime/onnx.ts";
import { type ModelBatch, padBatch } from "../shared/model_io.ts";
import { manifestTokenizer } from "../shared/tokenizer/mod.ts";
import type { Manifest } from "../shared/manifest.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const PYTHON = Deno.env.get("PYTHON") ?? "/usr/bin/python3";
const TINY_BERT = `${ROOT}tests/fixtures/import/tiny_bert.py`;

/** Whether PyTorch, ONNX and NumPy import in the Python the import CLI uses (CI installs them with apt). */
export const hasPythonStack: boolean = (() => {
  try {
    return new Deno.Command(PYTHON, { args: ["-c", "import torch, onnx, numpy"], stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
})();

/** Logs why a test file is skipped (once per file); `deno task test` lists skipped tests by name. */
export function warnSkipped(file: string): void {
  if (!hasPythonStack) {
    console.warn(
      `${file}: SKIPPED: ${PYTHON} cannot import torch, onnx and numpy ` +
        "(apt-get install -y python3-torch python3-onnx python3-numpy libopenblas0-pthread)",
    );
  }
}

/** Exit code and output of a finished command. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[]): Promise<Run> {
  const { code, stdout, stderr } = await new Deno.Command(cmd, {
    args,
    stdout: "piped",
    stderr: "piped",
    env: { OMP_NUM_THREADS: "1", PYTHONWARNINGS: "ignore", NO_COLOR: "1" },
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

/** Checkpoint layouts tiny_bert.py writes. */
export type Layout = "bert" | "deebert" | "elasticbert" | "elasticbert-static" | "elasticbert-bare" | "bert-bare";

/** Writes a tiny random checkpoint (3 layers, hidden 32, 3 classes) into `dir`. */
export async function writeCheckpoint(
  dir: string,
  layout: Layout,
  options: { format?: "safetensors" | "bin"; defect?: string; gammaBeta?: boolean; layers?: number } = {},
): Promise<void> {
  const args = [TINY_BERT, "write", "--layout", layout, "--format", options.format ?? "safetensors", "--out", dir];
  if (options.defect) args.push("--defect", options.defect);
  if (options.gammaBeta) args.push("--gamma-beta");
  if (options.layers) args.push("--layers", String(options.layers));
  const r = await run(PYTHON, args);
  if (r.code !== 0) throw new Error(`tiny_bert.py write failed: ${r.stderr}`);
}

/** `deno task import ...` (the task's command: models/pipeline/import.sh). */
export function importCli(...args: string[]): Promise<Run> {
  return run("bash", [`${ROOT}models/pipeline/import.sh`, ...args]);
}

/** Per-layer hidden states (flat, [B,T,D]) and per-exit logits (null where the checkpoint has no head). */
export interface Reference {
  embed: number[];
  layers: { hidden: number[]; logits: number[][] | null }[];
}

/** The independent float64 NumPy forward pass of tiny_bert.py on `batch`. */
export async function reference(checkpoint: string, batch: ModelBatch, scratch: string): Promise<Reference> {
  const [b, t] = batch.inputIds.dims as [number, number];
  const rows = <T>(f: (i: number) => T) =>
    Array.from({ length: b }, (_, r) => Array.from({ length: t }, (_, j) => f(r * t + j)));
  const inputs = `${scratch}/ref_in.json`, out = `${scratch}/ref_out.json`;
  await Deno.writeTextFile(
    inputs,
    JSON.stringify({
      inputIds: rows((i) => Number(batch.inputIds.data[i])),
      tokenTypeIds: rows((i) => Number(batch.tokenTypeIds.data[i])),
      attentionMask: rows((i) => batch.attentionMask.data[i]),
    }),
  );
  const r = await run(PYTHON, [TINY_BERT, "reference", "--from", checkpoint, "--inputs", inputs, "--out", out]);
  if (r.code !== 0) throw new Error(`tiny_bert.py reference failed: ${r.stderr}`);
  return JSON.parse(await Deno.readTextFile(out));
}

/** The imported model's manifest and a padded batch of `texts` tokenized as the manifest says. */
export async function encodeFor(
  modelDir: string,
  texts: readonly (readonly [string, string?])[],
): Promise<{ manifest: Manifest; vocabText: string; batch: ModelBatch }> {
  const { manifest } = await readModelDir(modelDir);
  const vocabText = await Deno.readTextFile(`${modelDir}/${manifest.tokenizer.vocab}`);
  const tokenizer = manifestTokenizer(manifest, vocabText);
  const batch = padBatch(texts.map(([a, b]) => tokenizer.encode(a, b)), { padId: tokenizer.padId });
  return { manifest, vocabText, batch };
}

/** Max |a - b| over the real tokens of `[B,T,D]` tensors (padded positions carry no meaning). */
export function maxDiffReal(actual: Float32Array, expected: readonly number[], batch: ModelBatch): number {
  const [b, t] = batch.inputIds.dims as [number, number];
  const d = expected.length / (b * t);
  let max = 0;
  for (let i = 0; i < b * t; i++) {
    if (batch.attentionMask.data[i] !== 1) continue;
    for (let k = 0; k < d; k++) max = Math.max(max, Math.abs(actual[i * d + k]! - expected[i * d + k]!));
  }
  return max;
}

/** Max |a - b| of two `[B,C]` logit tables. */
export function maxDiffLogits(actual: Float32Array, expected: readonly (readonly number[])[]): number {
  return Math.max(...expected.flat().map((v, i) => Math.abs(actual[i]! - v)));
}

/** Lists a folder's entries (names), or [] when it does not exist. */
export async function entries(dir: string): Promise<string[]> {
  const names: string[] = [];
  try {
    for await (const e of Deno.readDir(dir)) names.push(e.name);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  }
  return names.sort();
}
