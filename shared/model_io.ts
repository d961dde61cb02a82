/**
 * Model inputs and segment chaining over a {@linkcode SegmentRunner}: padded `[B,T]` batches from encoded samples,
 * running a range of layers with per-exit logits, and the model-file source both runtimes load from. Runtime-free.
 * @module
 */

import type { Manifest } from "./manifest.ts";
import type { Float32Tensor, Int64Tensor, LayerOutput, SegmentRunner } from "./tensor.ts";

/** Where a runtime gets a model: its validated manifest and the bytes of any file it names. */
export interface ModelSource {
  readonly manifest: Manifest;
  /** Bytes of a file of the model (`embed.onnx`, `layer_01.onnx`, ...). */
  readonly files: (name: string) => Promise<Uint8Array>;
}

/** One encoded text or pair (what the tokenizer's `encode` returns). */
export interface EncodedSample {
  readonly inputIds: readonly number[];
  readonly tokenTypeIds: readonly number[];
}

/** A padded batch: `[B,T]` ids, segment ids and float mask (1 real token, 0 padding), T = the longest sample. */
export interface ModelBatch {
  readonly inputIds: Int64Tensor;
  readonly tokenTypeIds: Int64Tensor;
  readonly attentionMask: Float32Tensor;
  /** Real tokens per row. */
  readonly lengths: readonly number[];
}

/** Options of {@linkcode padBatch}. */
export interface PadOptions {
  /** Id written into padded positions (the vocabulary's `[PAD]`). @default 0 */
  padId?: number;
  /** Pad every row to this length instead of the longest sample (must be >= the longest). @default the longest */
  length?: number;
}

function product(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}

/**
 * A float32 tensor after checking that `dims` describe `data`.
 * @throws {RangeError} when a dim is not a non-negative integer or the product differs from `data.length`
 */
export function float32Tensor(data: Float32Array, dims: readonly number[]): Float32Tensor {
  if (!dims.every((d) => Number.isInteger(d) && d >= 0) || product(dims) !== data.length) {
    throw new RangeError(`float32 tensor dims [${dims.join(",")}] do not match ${data.length} values`);
  }
  return { dtype: "float32", dims: [...dims], data };
}

/**
 * An int64 tensor after checking that `dims` describe `data`.
 * @throws {RangeError} when a dim is not a non-negative integer or the product differs from `data.length`
 */
export function int64Tensor(data: BigInt64Array, dims: readonly number[]): Int64Tensor {
  if (!dims.every((d) => Number.isInteger(d) && d >= 0) || product(dims) !== data.length) {
    throw new RangeError(`int64 tensor dims [${dims.join(",")}] do not match ${data.length} values`);
  }
  return { dtype: "int64", dims: [...dims], data };
}

/**
 * Pads encoded samples into one `[B,T]` batch. Padding never changes a real token's result (the export contract), so
 * any grouping of samples gives each the same logits up to float rounding.
 * @throws {RangeError} on an empty batch, an empty sample, ids and segment ids of different lengths, or `length` too short
 */
export function padBatch(samples: readonly EncodedSample[], options: PadOptions = {}): ModelBatch {
  const { padId = 0 } = options;
  if (samples.length === 0) throw new RangeError("padBatch needs at least one sample");
  const lengths = samples.map((s, i) => {
    if (s.inputIds.length === 0) throw new RangeError(`sample ${i} has no tokens`);
    if (s.inputIds.length !== s.tokenTypeIds.length) {
      throw new RangeError(`sample ${i} has ${s.inputIds.length} ids but ${s.tokenTypeIds.length} segment ids`);
    }
    return s.inputIds.length;
  });
  const longest = Math.max(...lengths);
  const t = options.length ?? longest;
  if (!Number.isInteger(t) || t < longest) {
    throw new RangeError(`length ${t} is shorter than the longest sample (${longest})`);
  }
  const b = samples.length;
  const ids = new BigInt64Array(b * t).fill(BigInt(padId));
  const types = new BigInt64Array(b * t);
  const mask = new Float32Array(b * t);
  samples.forEach((s, r) => {
    const base = r * t;
    for (let j = 0; j < s.inputIds.length; j++) {
      ids[base + j] = BigInt(s.inputIds[j]!);
      types[base + j] = BigInt(s.tokenTypeIds[j]!);
      mask[base + j] = 1;
    }
  });
  return {
    inputIds: int64Tensor(ids, [b, t]),
    tokenTypeIds: int64Tensor(types, [b, t]),
    attentionMask: float32Tensor(mask, [b, t]),
    lengths,
  };
}

/** Called after each layer with its exit; return `true` to stop after this layer (an early exit). */
export type OnExit = (layer: number, output: LayerOutput) => boolean | void | Promise<boolean | void>;

/** What {@linkcode runLayers} returns. */
export interface LayersResult {
  /** Hidden state after the last layer run. */
  readonly hidden: Float32Tensor;
  /** `[B,C]` exit logits of each layer run, in order: `logits[i]` belongs to layer `from + i`. */
  readonly logits: readonly Float32Tensor[];
  /** The last layer run (`to`, or earlier when `onExit` stopped). */
  readonly last: number;
}

/**
 * Runs layers `from..to` (1-based, inclusive) on a hidden state, collecting every exit's logits.
 * `from = to + 1` runs nothing (an empty suffix) and returns `hidden` unchanged.
 * @throws {RangeError} when the range is outside `1..runner.layers`
 */
export async function runLayers(
  runner: SegmentRunner,
  hidden: Float32Tensor,
  attentionMask: Float32Tensor,
  from: number,
  to: number,
  onExit?: OnExit,
): Promise<LayersResult> {
  if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to > runner.layers || from > to + 1) {
    throw new RangeError(`cannot run layers ${from}..${to} of a ${runner.layers}-layer model`);
  }
  const logits: Float32Tensor[] = [];
  let h = hidden;
  let last = from - 1;
  for (let k = from; k <= to; k++) {
    const out = await runner.layer(k, h, attentionMask);
    h = out.hidden;
    logits.push(out.logits);
    last = k;
    if (onExit !== undefined && (await onExit(k, out)) === true) break;
  }
  return { hidden: h, logits, last };
}

/** Embeds a batch and runs every layer: the `[B,C]` logits of exits 1..L. */
export async function runAllExits(runner: SegmentRunner, batch: ModelBatch): Promise<readonly Float32Tensor[]> {
  const hidden = await runner.embed(batch.inputIds, batch.tokenTypeIds);
  return (await runLayers(runner, hidden, batch.attentionMask, 1, runner.layers)).logits;
}

/**
 * The rows of a `[B,C]` tensor as views (no copy).
 * @throws {RangeError} when the tensor is not two-dimensional
 */
export function rowsOf(t: Float32Tensor): Float32Array[] {
  const [b, c] = t.dims;
  if (t.dims.length !== 2 || b === undefined || c === undefined) {
    throw new RangeError(`expected a [B,C] tensor, got dims [${t.dims.join(",")}]`);
  }
  return Array.from({ length: b }, (_, r) => t.data.subarray(r * c, (r + 1) * c));
}
