/**
 * The model manifest (`models/<id>/manifest.json`, written by `models/pipeline/export.py`): its type, a validating
 * parser with errors that name the bad field, and the content-hash helpers. Runtime-free.
 * See docs/ARCHITECTURE.md, "Export contract".
 * @module
 */

/** Special token strings of the vocabulary. */
export interface SpecialTokens {
  readonly pad: string;
  readonly unk: string;
  readonly cls: string;
  readonly sep: string;
}

/** How texts become ids (mirrors `models/pipeline/tokenizer.py`). */
export interface TokenizerSpec {
  readonly type: "wordpiece";
  /** File name of the vocabulary inside the model directory. */
  readonly vocab: string;
  readonly lowercase: boolean;
  readonly stripAccents: boolean;
  readonly htmlLineBreaks: boolean;
  readonly truncation: "head+tail" | "longest-first";
  /** Pieces a too-long single text keeps from its start. */
  readonly headTokens: number;
  readonly specialTokens: SpecialTokens;
}

/** The embedding segment: `[B,T]` ids and segment ids in, `[B,T,D]` hidden out. */
export interface EmbedSpec {
  readonly file: string;
  /** Input names in contract order: ids, segment ids. */
  readonly inputs: readonly [string, string];
  /** Output names: hidden. */
  readonly outputs: readonly [string];
  readonly params: number;
  /**
   * How the token-embedding table is stored: `int8-rows` (int8 with one float32 scale per row, dequantised inside the
   * graph; the export default) or `float32`. Informational: the runtimes run either graph the same way.
   * @default "float32" (manifests written before the field existed)
   */
  readonly tokenTable: "float32" | "int8-rows";
  /**
   * The graph adds a learned vector to every token whose id also occurs in the other text of a pair (an exact-match
   * flag computed from the ids and segment ids). Informational: the runtimes feed the same two inputs either way.
   * @default false
   */
  readonly crossSegmentMatch: boolean;
}

/**
 * What the layer segments compute, so a reader knows the model's equations (the runtimes run every kind the same way).
 * Manifests written before the field existed describe the project's own models: {@linkcode PROJECT_ARCHITECTURE}.
 */
export interface ArchitectureSpec {
  /** `pre-ln`: the project's own blocks; `post-ln`: BERT's (LayerNorm after each residual sum). */
  readonly block: "pre-ln" | "post-ln";
  readonly activation: "gelu-erf";
  /** LayerNorm epsilon of the blocks. */
  readonly layerNormEps: number;
  /** `masked-mean`: mean over real tokens (the project's models); `first-token`: the `[CLS]` position (BERT). */
  readonly exitPooling: "masked-mean" | "first-token";
  /** What follows the pooling before the classifier: a dense layer + tanh (BERT's pooler), or nothing. */
  readonly exitPooler: "dense-tanh" | "none";
}

/** The architecture of the project's own models (`models/pipeline/model.py`), the default of older manifests. */
export const PROJECT_ARCHITECTURE: ArchitectureSpec = {
  block: "pre-ln",
  activation: "gelu-erf",
  layerNormEps: 1e-6,
  exitPooling: "masked-mean",
  exitPooler: "dense-tanh",
};

/** Where an imported model's weights came from (`deno task import`); null for a model trained by this project. */
export interface SourceInfo {
  /** Checkpoint layout: `bert`, `deebert` or `elasticbert`. */
  readonly layout: string;
  /** Weights file read: `model.safetensors`, `pytorch_model.bin`, ... */
  readonly weights: string;
  /** Name of the checkpoint folder. */
  readonly folder: string;
  readonly description: string | null;
}

/** One layer segment: `(hidden, attention mask)` in, `(hidden, exit logits)` out. */
export interface SegmentSpec {
  /** 1-based layer number. */
  readonly layer: number;
  readonly file: string;
  /** Input names in contract order: hidden, attention mask. */
  readonly inputs: readonly [string, string];
  /** Output names in contract order: hidden, logits. */
  readonly outputs: readonly [string, string];
  readonly params: number;
  readonly flopsPerToken: number;
  readonly attentionFlopsPerTokenPerPosition: number;
  readonly exitFlops: number;
  /**
   * Where the exit head's weights came from: `trained` by this project, the imported `checkpoint`'s own, or `random`
   * (untrained: its logits mean nothing; only in timing-only models). @default "trained"
   */
  readonly exitSource: "trained" | "checkpoint" | "random";
}

/** How the exported checkpoint was trained (null for a model exported without a training report). */
export interface TrainingInfo {
  readonly minutes: number;
  readonly seed: number;
  readonly steps: number;
  /** Training data sources (`train.py --sources`, a comma list in the JSON, split here). */
  readonly sources: readonly string[];
  /** PyTorch version used. */
  readonly torch: string;
}

/** A validated `manifest.json` (schema 1). */
export interface Manifest {
  readonly schema: 1;
  readonly id: string;
  /** 16 hex digits: the content hash of all files (see {@linkcode modelVersion}). */
  readonly version: string;
  readonly task: "single" | "pair";
  /** Class names in logit order. */
  readonly labels: readonly string[];
  readonly layers: number;
  readonly hiddenSize: number;
  readonly heads: number;
  readonly ffnSize: number;
  /** Longest encoding, special tokens included. */
  readonly maxLength: number;
  readonly tokenizer: TokenizerSpec;
  readonly embed: EmbedSpec;
  /** One per layer, in layer order (`segments[k - 1].layer === k`). */
  readonly segments: readonly SegmentSpec[];
  readonly hiddenBytesPerToken: number;
  readonly dtype: "float32";
  /** sha256 (64 lowercase hex digits) of every file of the model, by file name. */
  readonly files: Readonly<Record<string, string>>;
  readonly training: TrainingInfo | null;
  /** @default {@linkcode PROJECT_ARCHITECTURE} (manifests written before the field existed) */
  readonly architecture: ArchitectureSpec;
  /** @default null */
  readonly source: SourceInfo | null;
  /** Random weights somewhere: serve it to measure latency and memory, never to classify. @default false */
  readonly timingOnly: boolean;
}

/** A manifest that does not follow the export contract; the message names the field. */
export class ManifestError extends Error {
  override readonly name = "ManifestError";
}

/** A model file whose bytes do not match the sha256 the manifest pins. */
export class ModelIntegrityError extends Error {
  override readonly name = "ModelIntegrityError";
}

const SOURCE = "manifest.json";
type Obj = Record<string, unknown>;

function fail(path: string, what: string, value: unknown): never {
  const got = value === undefined ? "it is missing" : `got ${JSON.stringify(value)?.slice(0, 80) ?? String(value)}`;
  throw new ManifestError(`${SOURCE}: ${path} must be ${what} (${got})`);
}

function obj(value: unknown, path: string): Obj {
  if (typeof value !== "object" || value === null || Array.isArray(value)) fail(path, "an object", value);
  return value as Obj;
}

function str(o: Obj, key: string, path: string): string {
  const v = o[key];
  if (typeof v !== "string" || v.length === 0) fail(`${path}${key}`, "a non-empty string", v);
  return v;
}

function bool(o: Obj, key: string, path: string): boolean {
  const v = o[key];
  if (typeof v !== "boolean") fail(`${path}${key}`, "a boolean", v);
  return v;
}

function int(o: Obj, key: string, path: string, min: number): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isSafeInteger(v) || v < min) fail(`${path}${key}`, `an integer >= ${min}`, v);
  return v;
}

function num(o: Obj, key: string, path: string): number {
  const v = o[key];
  if (typeof v !== "number" || !Number.isFinite(v) || v < 0) fail(`${path}${key}`, "a finite number >= 0", v);
  return v;
}

function oneOf<T extends string>(o: Obj, key: string, path: string, values: readonly T[]): T {
  const v = o[key];
  if (typeof v !== "string" || !(values as readonly string[]).includes(v)) {
    fail(`${path}${key}`, `one of ${values.map((x) => JSON.stringify(x)).join(", ")}`, v);
  }
  return v as T;
}

function names(o: Obj, key: string, path: string, n: 1): [string];
function names(o: Obj, key: string, path: string, n: 2): [string, string];
function names(o: Obj, key: string, path: string, n: number): string[] {
  const v = o[key];
  if (!Array.isArray(v) || v.length !== n || !v.every((x) => typeof x === "string" && x.length > 0)) {
    fail(`${path}${key}`, `an array of ${n} non-empty strings`, v);
  }
  return [...v] as string[];
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX16 = /^[0-9a-f]{16}$/;

function parseTokenizer(value: unknown): TokenizerSpec {
  const t = obj(value, "tokenizer");
  const p = "tokenizer.";
  const sp = obj(t.specialTokens, "tokenizer.specialTokens");
  const sp_ = "tokenizer.specialTokens.";
  return {
    type: oneOf(t, "type", p, ["wordpiece"] as const),
    vocab: str(t, "vocab", p),
    lowercase: bool(t, "lowercase", p),
    stripAccents: bool(t, "stripAccents", p),
    htmlLineBreaks: bool(t, "htmlLineBreaks", p),
    truncation: oneOf(t, "truncation", p, ["head+tail", "longest-first"] as const),
    headTokens: int(t, "headTokens", p, 0),
    specialTokens: {
      pad: str(sp, "pad", sp_),
      unk: str(sp, "unk", sp_),
      cls: str(sp, "cls", sp_),
      sep: str(sp, "sep", sp_),
    },
  };
}

function parseSegment(value: unknown, i: number): SegmentSpec {
  const p = `segments[${i}].`;
  const s = obj(value, `segments[${i}]`);
  const [hidden, mask] = names(s, "inputs", p, 2);
  const [hiddenOut, logits] = names(s, "outputs", p, 2);
  return {
    layer: int(s, "layer", p, 1),
    file: str(s, "file", p),
    inputs: [hidden, mask],
    outputs: [hiddenOut, logits],
    params: int(s, "params", p, 0),
    flopsPerToken: num(s, "flopsPerToken", p),
    attentionFlopsPerTokenPerPosition: num(s, "attentionFlopsPerTokenPerPosition", p),
    exitFlops: num(s, "exitFlops", p),
    exitSource: s.exitSource === undefined
      ? "trained"
      : oneOf(s, "exitSource", p, ["trained", "checkpoint", "random"] as const),
  };
}

function parseArchitecture(value: unknown): ArchitectureSpec {
  if (value === undefined) return PROJECT_ARCHITECTURE;
  const a = obj(value, "architecture");
  const p = "architecture.";
  const eps = num(a, "layerNormEps", p);
  if (eps <= 0) fail("architecture.layerNormEps", "a number > 0", eps);
  return {
    block: oneOf(a, "block", p, ["pre-ln", "post-ln"] as const),
    activation: oneOf(a, "activation", p, ["gelu-erf"] as const),
    layerNormEps: eps,
    exitPooling: oneOf(a, "exitPooling", p, ["masked-mean", "first-token"] as const),
    exitPooler: oneOf(a, "exitPooler", p, ["dense-tanh", "none"] as const),
  };
}

function parseSource(value: unknown): SourceInfo | null {
  if (value === undefined || value === null) return null;
  const o = obj(value, "source");
  const d = o.description;
  if (d !== null && d !== undefined && typeof d !== "string") fail("source.description", "a string or null", d);
  return {
    layout: str(o, "layout", "source."),
    weights: str(o, "weights", "source."),
    folder: str(o, "folder", "source."),
    description: typeof d === "string" ? d : null,
  };
}

function parseTraining(value: unknown): TrainingInfo | null {
  if (value === null) return null;
  const t = obj(value, "training");
  const p = "training.";
  const src = t.sources;
  let sources: string[];
  if (typeof src === "string") sources = src.split(",").map((x) => x.trim()).filter((x) => x.length > 0);
  else if (Array.isArray(src) && src.every((x) => typeof x === "string")) sources = [...src];
  else fail("training.sources", "a comma-separated string or an array of strings", src);
  return {
    minutes: num(t, "minutes", p),
    seed: int(t, "seed", p, 0),
    steps: int(t, "steps", p, 0),
    sources,
    torch: str(t, "torch", p),
  };
}

/**
 * Validates a parsed `manifest.json` against the export contract (schema 1). Unknown extra fields are ignored.
 * @throws {ManifestError} naming the first bad field, e.g. `manifest.json: segments[3].file must be a non-empty string`
 */
export function parseManifest(json: unknown): Manifest {
  const m = obj(json, "the top level");
  if (m.schema !== 1) fail("schema", "1 (the only schema this code reads)", m.schema);
  const id = str(m, "id", "");
  const version = str(m, "version", "");
  if (!HEX16.test(version)) fail("version", "16 lowercase hex digits", version);
  const task = oneOf(m, "task", "", ["single", "pair"] as const);
  const labels = m.labels;
  if (!Array.isArray(labels) || labels.length < 2 || !labels.every((x) => typeof x === "string" && x.length > 0)) {
    fail("labels", "an array of at least 2 non-empty strings", labels);
  }
  const layers = int(m, "layers", "", 1);
  const hiddenSize = int(m, "hiddenSize", "", 1);
  const heads = int(m, "heads", "", 1);
  if (hiddenSize % heads !== 0) fail("heads", `a divisor of hiddenSize (${hiddenSize})`, heads);
  const ffnSize = int(m, "ffnSize", "", 1);
  const maxLength = int(m, "maxLength", "", 3);
  const tokenizer = parseTokenizer(m.tokenizer);
  if (tokenizer.headTokens > maxLength - 2) {
    fail("tokenizer.headTokens", `at most maxLength - 2 (${maxLength - 2})`, tokenizer.headTokens);
  }
  const e = obj(m.embed, "embed");
  const [ids, types] = names(e, "inputs", "embed.", 2);
  const [hidden] = names(e, "outputs", "embed.", 1);
  const embed: EmbedSpec = {
    file: str(e, "file", "embed."),
    inputs: [ids, types],
    outputs: [hidden],
    params: int(e, "params", "embed.", 0),
    tokenTable: e.tokenTable === undefined
      ? "float32"
      : oneOf(e, "tokenTable", "embed.", ["float32", "int8-rows"] as const),
    crossSegmentMatch: e.crossSegmentMatch === undefined ? false : bool(e, "crossSegmentMatch", "embed."),
  };
  if (!Array.isArray(m.segments)) fail("segments", "an array", m.segments);
  const segments = m.segments.map(parseSegment);
  if (segments.length !== layers) fail("segments", `an array of ${layers} entries (one per layer)`, segments.length);
  segments.forEach((s, i) => {
    if (s.layer !== i + 1) fail(`segments[${i}].layer`, `${i + 1} (segments are in layer order)`, s.layer);
  });
  const hiddenBytesPerToken = int(m, "hiddenBytesPerToken", "", 1);
  const dtype = oneOf(m, "dtype", "", ["float32"] as const);
  if (hiddenBytesPerToken !== 4 * hiddenSize) {
    fail("hiddenBytesPerToken", `4 * hiddenSize (${4 * hiddenSize}) for float32`, hiddenBytesPerToken);
  }
  const f = obj(m.files, "files");
  const files: Record<string, string> = {};
  for (const [name, hash] of Object.entries(f)) {
    if (typeof hash !== "string" || !HEX64.test(hash)) fail(`files[${JSON.stringify(name)}]`, "a sha256 hex", hash);
    files[name] = hash;
  }
  for (
    const [where, name] of [
      ["embed.file", embed.file],
      ["tokenizer.vocab", tokenizer.vocab],
      ...segments.map((s, i) => [`segments[${i}].file`, s.file]),
    ]
  ) {
    if (!(name! in files)) fail("files", `an object listing ${where} ${JSON.stringify(name)}`, Object.keys(files));
  }
  return {
    schema: 1,
    id,
    version,
    task,
    labels: [...labels],
    layers,
    hiddenSize,
    heads,
    ffnSize,
    maxLength,
    tokenizer,
    embed,
    segments,
    hiddenBytesPerToken,
    dtype,
    files,
    training: parseTraining(m.training),
    architecture: parseArchitecture(m.architecture),
    source: parseSource(m.source),
    timingOnly: m.timingOnly === undefined ? false : bool(m, "timingOnly", ""),
  };
}

/** Lowercase hex sha256 of `bytes` (WebCrypto). */
export async function sha256Hex(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * The model version export.py writes: the first 16 hex digits of the sha256 of `"name:sha256\n"` lines in name order.
 */
export async function modelVersion(files: Readonly<Record<string, string>>): Promise<string> {
  const lines = Object.keys(files).sort().map((name) => `${name}:${files[name]}\n`).join("");
  return (await sha256Hex(new TextEncoder().encode(lines))).slice(0, 16);
}

/**
 * Checks a model file's bytes against the sha256 the manifest pins.
 * @throws {ModelIntegrityError} when the file is not listed or its hash differs
 */
export async function verifyModelFile(manifest: Manifest, name: string, bytes: Uint8Array): Promise<void> {
  const expected = manifest.files[name];
  if (expected === undefined) {
    throw new ModelIntegrityError(`Model ${manifest.id}: ${name} is not listed in manifest.json files`);
  }
  const actual = await sha256Hex(bytes);
  if (actual !== expected) {
    throw new ModelIntegrityError(
      `Model ${manifest.id}: ${name} has sha256 ${actual} but manifest.json pins ${expected} (${bytes.length} bytes)`,
    );
  }
}
