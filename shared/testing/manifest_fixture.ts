/**
 * Test fixture: the JSON of a small, valid two-layer manifest as `models/pipeline/export.py` writes it (before
 * `parseManifest`), with the few numbers tests vary as options. Files all hash to {@linkcode FIXTURE_HASH}.
 * @module
 */

/** The sha256 every file of the fixture manifest claims. */
export const FIXTURE_HASH = "ab".repeat(32);

/** What a test may vary; the rest is fixed. */
export interface ManifestFixtureOptions {
  readonly id?: string;
  readonly labels?: readonly string[];
  readonly hiddenSize?: number;
  readonly heads?: number;
  readonly ffnSize?: number;
  readonly maxLength?: number;
  readonly headTokens?: number;
  /** Parameter count of each layer segment (and of the embedding: half of it). */
  readonly params?: number;
  readonly training?: Record<string, unknown> | null;
}

/** A fresh (mutable) manifest object with two layers. */
export function manifestFixture(options: ManifestFixtureOptions = {}): Record<string, unknown> {
  const {
    id = "tiny",
    labels = ["negative", "positive"],
    hiddenSize = 16,
    heads = 4,
    ffnSize = 32,
    maxLength = 32,
    headTokens = 8,
    params = 1000,
    training = { minutes: 12.5, seed: 1, steps: 300, sources: "sst2,imdb", torch: "2.6.0" },
  } = options;
  const segment = (k: number) => ({
    layer: k,
    file: `layer_0${k}.onnx`,
    inputs: ["hidden", "attention_mask"],
    outputs: ["hidden_out", "logits"],
    params,
    flopsPerToken: 4096,
    attentionFlopsPerTokenPerPosition: 64,
    exitFlops: 300,
  });
  return {
    schema: 1,
    id,
    version: "0123456789abcdef",
    task: "single",
    labels: [...labels],
    layers: 2,
    hiddenSize,
    heads,
    ffnSize,
    maxLength,
    tokenizer: {
      type: "wordpiece",
      vocab: "vocab.txt",
      lowercase: true,
      stripAccents: true,
      htmlLineBreaks: true,
      truncation: "head+tail",
      headTokens,
      specialTokens: { pad: "[PAD]", unk: "[UNK]", cls: "[CLS]", sep: "[SEP]" },
    },
    embed: { file: "embed.onnx", inputs: ["input_ids", "token_type_ids"], outputs: ["hidden"], params: params / 2 },
    segments: [segment(1), segment(2)],
    hiddenBytesPerToken: 4 * hiddenSize,
    dtype: "float32",
    files: {
      "embed.onnx": FIXTURE_HASH,
      "layer_01.onnx": FIXTURE_HASH,
      "layer_02.onnx": FIXTURE_HASH,
      "vocab.txt": FIXTURE_HASH,
    },
    training: training === null ? null : { ...training },
  };
}
