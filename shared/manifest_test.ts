import assert from "node:assert/strict";
import {
  ManifestError,
  ModelIntegrityError,
  modelVersion,
  parseManifest,
  PROJECT_ARCHITECTURE,
  sha256Hex,
  verifyModelFile,
} from "./manifest.ts";
import { FIXTURE_HASH, manifestFixture } from "./testing/manifest_fixture.ts";

const HASH = FIXTURE_HASH;

/** A valid two-layer manifest, as export.py writes it. */
const valid = (): Record<string, unknown> => manifestFixture();

function rejects(mutate: (m: Record<string, unknown>) => void, message: string | RegExp): void {
  const m = structuredClone(valid());
  mutate(m);
  assert.throws(() => parseManifest(m), (e: unknown) => {
    assert.ok(e instanceof ManifestError, `expected a ManifestError, got ${e}`);
    if (typeof message === "string") assert.ok(e.message.startsWith(message), e.message);
    else assert.match(e.message, message);
    return true;
  });
}

// deno-lint-ignore no-explicit-any
type Any = any;

Deno.test("parseManifest() accepts a valid manifest and returns typed fields", () => {
  const m = parseManifest(valid());
  assert.equal(m.layers, 2);
  assert.deepEqual(m.labels, ["negative", "positive"]);
  assert.equal(m.segments[1]!.file, "layer_02.onnx");
  assert.deepEqual(m.segments[0]!.inputs, ["hidden", "attention_mask"]);
  assert.equal(m.tokenizer.truncation, "head+tail");
  assert.deepEqual(m.training?.sources, ["sst2", "imdb"]);
  assert.equal(parseManifest({ ...valid(), training: null }).training, null);
  assert.deepEqual(
    parseManifest({ ...valid(), training: { ...(valid().training as object), sources: ["sst2"] } }).training?.sources,
    ["sst2"],
  );
  assert.equal(parseManifest({ ...valid(), futureField: 3 }).id, "tiny", "unknown fields are ignored");
  assert.equal(m.embed.tokenTable, "float32", "manifests without embed.tokenTable have a float32 table");
  assert.equal(
    parseManifest({ ...valid(), embed: { ...(valid().embed as object), tokenTable: "int8-rows" } }).embed.tokenTable,
    "int8-rows",
  );
  assert.equal(m.embed.crossSegmentMatch, false, "manifests without embed.crossSegmentMatch have no match flag");
  assert.equal(
    parseManifest({ ...valid(), embed: { ...(valid().embed as object), crossSegmentMatch: true } }).embed
      .crossSegmentMatch,
    true,
  );
});

Deno.test("parseManifest() reads an imported model's architecture, source and timing-only flag", () => {
  const old = parseManifest(valid());
  assert.deepEqual(old.architecture, PROJECT_ARCHITECTURE, "older manifests describe the project's own models");
  assert.equal(old.source, null);
  assert.equal(old.timingOnly, false);
  assert.equal(old.segments[0]!.exitSource, "trained");
  const imported: Any = valid();
  imported.architecture = {
    block: "post-ln",
    activation: "gelu-erf",
    layerNormEps: 1e-12,
    exitPooling: "first-token",
    exitPooler: "dense-tanh",
  };
  imported.source = { layout: "deebert", weights: "model.safetensors", folder: "ckpt", description: null };
  imported.timingOnly = true;
  imported.segments[0].exitSource = "random";
  imported.segments[1].exitSource = "checkpoint";
  const m = parseManifest(imported);
  assert.equal(m.architecture.block, "post-ln");
  assert.equal(m.architecture.exitPooling, "first-token");
  assert.deepEqual(m.source, { layout: "deebert", weights: "model.safetensors", folder: "ckpt", description: null });
  assert.equal(m.timingOnly, true);
  assert.deepEqual(m.segments.map((s) => s.exitSource), ["random", "checkpoint"]);
  const bad = (mutate: (m: Any) => void, message: string) =>
    rejects((m: Any) => {
      m.architecture = structuredClone(imported.architecture);
      m.source = structuredClone(imported.source);
      mutate(m);
    }, message);
  bad((m) => (m.architecture.block = "rms"), 'manifest.json: architecture.block must be one of "pre-ln", "post-ln"');
  bad((m) => (m.architecture.exitPooling = "max"), "manifest.json: architecture.exitPooling must be one of");
  bad((m) => (m.architecture.layerNormEps = 0), "manifest.json: architecture.layerNormEps must be a number > 0");
  bad((m) => delete m.source.weights, "manifest.json: source.weights must be a non-empty string");
  bad((m) => (m.timingOnly = "yes"), "manifest.json: timingOnly must be a boolean");
  bad((m) => (m.segments[0].exitSource = "guessed"), "manifest.json: segments[0].exitSource must be one of");
});

Deno.test("parseManifest() names the bad field in its error", () => {
  rejects((m: Any) => (m.segments[1].file = 3), "manifest.json: segments[1].file must be a non-empty string (got 3)");
  rejects((m: Any) => delete m.hiddenSize, "manifest.json: hiddenSize must be an integer >= 1 (it is missing)");
  rejects((m: Any) => (m.schema = 2), "manifest.json: schema must be 1");
  rejects((m: Any) => (m.version = "xyz"), "manifest.json: version must be 16 lowercase hex digits");
  rejects((m: Any) => (m.task = "triple"), 'manifest.json: task must be one of "single", "pair"');
  rejects((m: Any) => (m.labels = ["only"]), "manifest.json: labels must be an array of at least 2");
  rejects((m: Any) => (m.tokenizer.lowercase = "yes"), "manifest.json: tokenizer.lowercase must be a boolean");
  rejects((m: Any) => delete m.tokenizer.specialTokens.sep, "manifest.json: tokenizer.specialTokens.sep must be");
  rejects((m: Any) => (m.tokenizer.truncation = "tail"), "manifest.json: tokenizer.truncation must be one of");
  rejects((m: Any) => (m.tokenizer.headTokens = 31), "manifest.json: tokenizer.headTokens must be at most");
  rejects((m: Any) => (m.embed.inputs = ["input_ids"]), "manifest.json: embed.inputs must be an array of 2");
  rejects((m: Any) => (m.segments[0].outputs = ["a", ""]), "manifest.json: segments[0].outputs must be an array");
  rejects((m: Any) => (m.segments[1].flopsPerToken = -1), "manifest.json: segments[1].flopsPerToken must be");
  rejects((m: Any) => m.segments.pop(), "manifest.json: segments must be an array of 2 entries");
  rejects((m: Any) => m.segments.reverse(), "manifest.json: segments[0].layer must be 1");
  rejects((m: Any) => (m.heads = 3), "manifest.json: heads must be a divisor of hiddenSize");
  rejects((m: Any) => (m.hiddenBytesPerToken = 32), "manifest.json: hiddenBytesPerToken must be 4 * hiddenSize");
  rejects((m: Any) => (m.dtype = "float16"), 'manifest.json: dtype must be one of "float32"');
  rejects((m: Any) => (m.files["vocab.txt"] = "abc"), 'manifest.json: files["vocab.txt"] must be a sha256 hex');
  rejects((m: Any) => delete m.files["layer_02.onnx"], /files must be an object listing segments\[1\]\.file/);
  rejects((m: Any) => (m.training = { minutes: 1 }), "manifest.json: training.sources must be");
  rejects((m: Any) => (m.embed = []), "manifest.json: embed must be an object");
  rejects(
    (m: Any) => (m.embed.tokenTable = "int4"),
    'manifest.json: embed.tokenTable must be one of "float32", "int8-rows"',
  );
  rejects((m: Any) => (m.embed.crossSegmentMatch = "yes"), /manifest\.json: embed\.crossSegmentMatch must be/);
  assert.throws(() => parseManifest(null), /manifest.json: the top level must be an object/);
});

Deno.test("sha256Hex() and modelVersion() match known digests", async () => {
  assert.equal(
    await sha256Hex(new TextEncoder().encode("abc")),
    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
  );
  // export.py: sha256("".join(f"{k}:{v}\n" for k, v in sorted(hashes.items())))[:16], independent of key order
  const files = { "b.onnx": HASH, "a.txt": "cd".repeat(32) };
  const expected = (await sha256Hex(new TextEncoder().encode(`a.txt:${"cd".repeat(32)}\nb.onnx:${HASH}\n`))).slice(
    0,
    16,
  );
  assert.equal(await modelVersion(files), expected);
  assert.equal(await modelVersion({ "a.txt": "cd".repeat(32), "b.onnx": HASH }), expected);
});

Deno.test("verifyModelFile() rejects changed bytes and unlisted files", async () => {
  const bytes = new TextEncoder().encode("weights");
  const m = parseManifest({
    ...valid(),
    files: { ...(valid().files as object), "embed.onnx": await sha256Hex(bytes) },
  });
  await verifyModelFile(m, "embed.onnx", bytes);
  await assert.rejects(verifyModelFile(m, "embed.onnx", new TextEncoder().encode("weightz")), ModelIntegrityError);
  await assert.rejects(verifyModelFile(m, "other.onnx", bytes), /other.onnx is not listed/);
});
