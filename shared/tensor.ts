/**
 * Host-side tensors: the closed set of dtypes that cross module boundaries.
 * Runtime seams (edge/runtime/onnx.ts, gateway/runtime/onnx.ts) convert to and from their runtime's tensor type.
 * @module
 */

/** A float32 tensor in row-major order. */
export interface Float32Tensor {
  readonly dtype: "float32";
  readonly dims: readonly number[];
  readonly data: Float32Array;
}

/** An int64 tensor in row-major order (token ids, segment ids). */
export interface Int64Tensor {
  readonly dtype: "int64";
  readonly dims: readonly number[];
  readonly data: BigInt64Array;
}

/** Output of one layer segment: the next hidden state and that layer's exit logits. */
export interface LayerOutput {
  /** `[B, T, D]` hidden state after the layer. */
  readonly hidden: Float32Tensor;
  /** `[B, C]` exit logits of the layer. */
  readonly logits: Float32Tensor;
}

/**
 * A loaded multi-exit model, cut into segments as the export contract says (see models/README.md).
 * Implemented once per runtime; everything else sees only this interface.
 */
export interface SegmentRunner {
  /** Number of transformer layers L (layers are numbered 1..L). */
  readonly layers: number;
  /** Runs the embedding segment on `[B, T]` ids and segment ids. */
  embed(inputIds: Int64Tensor, tokenTypeIds: Int64Tensor): Promise<Float32Tensor>;
  /** Runs layer `k` (1-based) on a `[B, T, D]` hidden state and its `[B, T]` float mask (1 real, 0 padding). */
  layer(k: number, hidden: Float32Tensor, attentionMask: Float32Tensor): Promise<LayerOutput>;
  /** Releases every session. */
  dispose(): Promise<void>;
}
