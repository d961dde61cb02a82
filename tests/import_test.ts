/**
 * `deno task import` on tiny random checkpoints the tests write themselves (tests/fixtures/import/tiny_bert.py:
 * 3 layers, hidden 32), for every layout and both weight formats: the imported segments, chained from ids on
 * onnxruntime-web (the edge) and onnxruntime-node (the gateway), match an independent float64 NumPy forward pass of
 * BERT's equations within 1e-4 at every layer and every exit the checkpoint has. Broken checkpoints fail with one
 * message naming the key or file, and write nothing. Skipped, with a message, without PyTorch/ONNX/NumPy.
 */
import assert from "node:assert/strict";
import { loadWebRunner } from "../edge/runtime/onnx.ts";
import { loadNodeRunner, readModelDir } from "../gateway/runtime/onnx.ts";
import type { LoadedSegmentRunner } from "../shared/segments.ts";
import {
  encodeFor,
  entries,
  hasPythonStack,
  importCli,
  type Layout,
  maxDiffLogits,
  maxDiffReal,
  reference,
  warnSkipped,
  writeCheckpoint,
} from "./import_helpers.ts";

warnSkipped("tests/import_test.ts");
const TOLERANCE = 1e-4;
const SINGLE: [string][] = [["the movie was very good !"], ["a dull plot , not fun . it ran and ran"]];
const PAIRS: [string, string][] = [["how do i learn guitar fast ?", "what is the fastest way"], [
  "a man is playing",
  "nobody is playing music",
]];

/** Runs `runner` from ids through every layer (its own outputs chained) and compares with the NumPy reference. */
async function compare(
  what: string,
  runner: LoadedSegmentRunner,
  modelDir: string,
  checkpoint: string,
  texts: readonly (readonly [string, string?])[],
  scratch: string,
): Promise<{ hidden: number; logits: number; exits: number }> {
  const { batch } = await encodeFor(modelDir, texts);
  const ref = await reference(checkpoint, batch, scratch);
  let hidden = await runner.embed(batch.inputIds, batch.tokenTypeIds);
  let maxHidden = maxDiffReal(hidden.data, ref.embed, batch), maxLogits = 0, exits = 0;
  for (let k = 1; k <= runner.layers; k++) {
    const out = await runner.layer(k, hidden, batch.attentionMask);
    hidden = out.hidden;
    maxHidden = Math.max(maxHidden, maxDiffReal(hidden.data, ref.layers[k - 1]!.hidden, batch));
    const logits = ref.layers[k - 1]!.logits;
    if (logits !== null) {
      maxLogits = Math.max(maxLogits, maxDiffLogits(out.logits.data, logits));
      exits++;
    }
  }
  assert.ok(maxHidden < TOLERANCE, `${what}: hidden states differ by ${maxHidden}`);
  assert.ok(maxLogits < TOLERANCE, `${what}: exit logits differ by ${maxLogits}`);
  return { hidden: maxHidden, logits: maxLogits, exits };
}

const CASES: { layout: Layout; format: "safetensors" | "bin"; flags: string[]; exits: string[]; pair?: boolean }[] = [
  { layout: "bert", format: "safetensors", flags: ["--untrained-exits"], exits: ["random", "random", "checkpoint"] },
  { layout: "bert", format: "bin", flags: ["--untrained-exits"], exits: ["random", "random", "checkpoint"] },
  { layout: "deebert", format: "safetensors", flags: [], exits: ["checkpoint", "checkpoint", "checkpoint"] },
  { layout: "deebert", format: "bin", flags: [], exits: ["checkpoint", "checkpoint", "checkpoint"] },
  { layout: "elasticbert", format: "safetensors", flags: [], exits: ["checkpoint", "checkpoint", "checkpoint"] },
  {
    layout: "elasticbert",
    format: "bin",
    flags: ["--task", "pair"],
    exits: ["checkpoint", "checkpoint", "checkpoint"],
    pair: true,
  },
];

Deno.test({
  name: "import: every layout and weight format matches an independent NumPy BERT on onnxruntime-web and -node",
  ignore: !hasPythonStack,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const dir = await Deno.makeTempDir({ prefix: "splitee-import-" });
    try {
      for (const c of CASES) {
        // The .bin files use the old gamma/beta LayerNorm names; every checkpoint has a position_ids buffer.
        await t.step(`${c.layout} (${c.format}${c.pair ? ", pair task" : ""})`, async () => {
          const ck = `${dir}/${c.layout}-${c.format}-ck`, out = `${dir}/${c.layout}-${c.format}-model`;
          await writeCheckpoint(ck, c.layout, { format: c.format, gammaBeta: c.format === "bin" });
          const r = await importCli("--from", ck, "--out", out, ...c.flags);
          assert.equal(r.code, 0, r.stderr);
          const source = await readModelDir(out);
          const m = source.manifest;
          assert.deepEqual(m.segments.map((s) => s.exitSource), c.exits);
          assert.deepEqual(m.labels, ["neg", "neutral", "pos"], "labels come from config.json id2label");
          assert.equal(m.task, c.pair ? "pair" : "single");
          assert.equal(m.architecture.block, "post-ln");
          assert.equal(m.architecture.exitPooling, "first-token");
          assert.equal(m.timingOnly, c.exits.includes("random"));
          assert.equal(m.source?.layout, c.layout);
          assert.equal(m.maxLength, 40, "max length from tokenizer_config.json model_max_length");
          assert.equal(m.tokenizer.htmlLineBreaks, false);
          assert.match(await Deno.readTextFile(`${out}/MODEL_CARD.md`), new RegExp(`layout \\*\\*${c.layout}\\*\\*`));
          const texts = c.pair ? PAIRS : SINGLE;
          const web = await loadWebRunner(source);
          const node = await loadNodeRunner(source, { intraOpThreads: 1 });
          try {
            const w = await compare(`${c.layout} web`, web, out, ck, texts, dir);
            const n = await compare(`${c.layout} node`, node, out, ck, texts, dir);
            assert.equal(w.exits, c.exits.filter((e) => e === "checkpoint").length);
            console.log(
              `  max |diff| web ${w.hidden.toExponential(1)}/${w.logits.toExponential(1)}, node ` +
                `${n.hidden.toExponential(1)}/${n.logits.toExponential(1)} (hidden/logits) over ${w.exits} exits`,
            );
          } finally {
            await web.dispose();
            await node.dispose();
          }
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "import: broken checkpoints fail with one message naming the key or file, and write nothing",
  ignore: !hasPythonStack,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "splitee-import-bad-" });
    try {
      const cases: [string, RegExp][] = [
        ["missing-key", /^import: model\.safetensors: missing key bert\.encoder\.layer\.2\.output\.dense\.bias;/],
        [
          "shape",
          /^import: model\.safetensors: bert\.encoder\.layer\.0\.intermediate\.dense\.weight has shape \[48, 31\], expected \[48, 32\]/,
        ],
        ["model-type", /^import: config\.json: model_type "roberta" is not supported/],
        ["vocab-size", /^import: vocab\.txt: 65 tokens but config\.json vocab_size is 66;/],
      ];
      for (const [defect, message] of cases) {
        const ck = `${dir}/${defect}`;
        await writeCheckpoint(ck, "deebert", { defect });
        const out = `${dir}/out/${defect}`;
        const r = await importCli("--from", ck, "--out", out);
        assert.equal(r.code, 2, `${defect}: ${r.stderr}`);
        assert.match(r.stderr, message);
        assert.match(r.stderr, /nothing was written\n$/);
        assert.equal(r.stderr.trim().split("\n").length, 1, `${defect}: one line, got ${r.stderr}`);
        assert.deepEqual(await entries(`${dir}/out`), [], `${defect}: nothing written, no temporary folder left`);
      }
      // A plain checkpoint without per-layer exits: refused unless exits are trained or marked untrained.
      const plain = `${dir}/plain`;
      await writeCheckpoint(plain, "bert");
      const r = await importCli("--from", plain, "--out", `${dir}/out/plain`);
      assert.equal(r.code, 2);
      assert.match(r.stderr, /has no exit head for layers 1\.\.2; every layer needs one\. Train them .*--train/);
      // An existing model folder is never replaced without --overwrite.
      await Deno.mkdir(`${dir}/out/taken`, { recursive: true });
      await Deno.writeTextFile(`${dir}/out/taken/keep.txt`, "mine");
      const taken = await importCli("--from", `${dir}/vocab-size`, "--out", `${dir}/out/taken`);
      assert.equal(taken.code, 2);
      assert.match(taken.stderr, /--out .*taken exists and is not empty \(give --overwrite/);
      assert.deepEqual(await entries(`${dir}/out/taken`), ["keep.txt"]);
      const labels = await importCli(
        "--from",
        `${dir}/plain`,
        "--out",
        `${dir}/out/l`,
        "--labels",
        "a,b",
        "--untrained-exits",
      );
      assert.equal(labels.code, 2);
      assert.match(labels.stderr, /2 labels \(a,b\) but the checkpoint's classifier has 3 outputs/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
