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
import { basicTokenize } from "../shared/tokenizer/mod.ts";
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
  // A bare ElasticBertModel (no key prefix, poolers without classifiers) and the static model (one exit, the last).
  {
    layout: "elasticbert-bare",
    format: "safetensors",
    flags: ["--untrained-exits"],
    exits: ["random", "random", "random"],
  },
  {
    layout: "elasticbert-static",
    format: "safetensors",
    flags: ["--untrained-exits"],
    exits: ["random", "random", "checkpoint"],
  },
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
          assert.equal(m.source?.layout, c.layout.replace(/-.*/, ""));
          assert.equal(m.maxLength, 40, "max length from tokenizer_config.json model_max_length");
          assert.equal(m.tokenizer.htmlLineBreaks, false);
          assert.match(
            await Deno.readTextFile(`${out}/MODEL_CARD.md`),
            new RegExp(`layout \\*\\*${c.layout.replace(/-.*/, "")}\\*\\*`),
          );
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

/** A tiny labelled TSV over tiny_bert.py's vocabulary (labels by word: good/great pos, bad/dull neg). */
function trainingTsv(rows: number): string {
  const words = ["the", "movie", "film", "plot", "story", "was", "is", "very", "not", "fun", "and", "it"];
  const cues: [string, string][] = [["good", "pos"], ["great", "pos"], ["bad", "neg"], ["dull", "neg"], [
    "actor",
    "neutral",
  ]];
  let seed = 7;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  const lines = ["text\tlabel"];
  for (let i = 0; i < rows; i++) {
    const [cue, label] = cues[Math.floor(next() * cues.length)]!;
    const text = Array.from({ length: 3 + Math.floor(next() * 5) }, () => words[Math.floor(next() * words.length)]);
    text.splice(Math.floor(next() * text.length), 0, cue);
    lines.push(`${text.join(" ")}\t${label}`);
  }
  return lines.join("\n") + "\n";
}

Deno.test({
  name: "import --train: exits trained on the frozen backbone, the checkpoint's classifier stays the last exit",
  ignore: !hasPythonStack,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "splitee-import-train-" });
    try {
      const ck = `${dir}/ck`, out = `${dir}/model`, tsv = `${dir}/train.tsv`;
      await writeCheckpoint(ck, "bert");
      await Deno.writeTextFile(tsv, trainingTsv(400));
      const args = ["--from", ck, "--out", out, "--train", tsv, "--text", "text", "--label", "label"];
      const r = await importCli(...args, "--epochs", "8", "--lr", "0.01", "--max-minutes", "2");
      assert.equal(r.code, 0, r.stderr);
      console.log(r.stderr.split("\n").filter((l) => /epoch 8|held-out/.test(l)).join("\n"));
      assert.match(r.stderr, /import: encoded 32\/400/, "progress is printed");
      assert.match(r.stderr, /import: epoch 8\/8: mean exit loss/);
      assert.match(r.stderr, /import: held-out accuracy by exit: 1: [\d.]+, 2: [\d.]+ \(40 rows\)/);
      const source = await readModelDir(out);
      const m = source.manifest;
      assert.deepEqual(m.segments.map((s) => s.exitSource), ["trained", "trained", "checkpoint"]);
      assert.equal(m.timingOnly, false);
      assert.deepEqual(m.training?.sources, ["train.tsv"]);
      assert.ok(m.training!.steps === 8 * Math.ceil(360 / 32), `steps ${m.training!.steps}`);
      const raw = JSON.parse(await Deno.readTextFile(`${out}/manifest.json`)).training;
      assert.ok(raw.epochLosses.at(-1) < raw.epochLosses[0], `the exit loss falls: ${raw.epochLosses}`);
      // The backbone is frozen and the final exit is the checkpoint's: both still equal the NumPy reference.
      const node = await loadNodeRunner(source, { intraOpThreads: 1 });
      try {
        const c = await compare("trained exits", node, out, ck, SINGLE, dir);
        assert.equal(c.exits, 1);
      } finally {
        await node.dispose();
      }
      const card = await Deno.readTextFile(`${out}/MODEL_CARD.md`);
      assert.match(card, /layers 1-2: trained here on the frozen backbone/);
      assert.match(card, /layer 3: the checkpoint's own heads/);
      assert.match(card, /held-out accuracy \(40 rows\) by trained exit: layer 1: [\d.]+, layer 2: [\d.]+/);

      // The time bound: a budget too small for one step is refused and writes nothing.
      const tiny = await importCli(...args.map((a) => a === out ? `${dir}/none` : a), "--max-minutes", "0.0001");
      assert.equal(tiny.code, 2, tiny.stderr);
      assert.match(tiny.stderr, /--max-minutes 0\.0001 ran out before the first training step/);
      assert.deepEqual((await entries(dir)).filter((n) => n.includes("none")), []);
      const badLabel = await importCli(...args.map((a) => a === "label" ? "text" : a === out ? `${dir}/none` : a));
      assert.equal(badLabel.code, 2);
      assert.match(badLabel.stderr, /train\.tsv: row 2: label '.*' is none of neg, neutral, pos/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "deno task exits runs an imported model: per-exit probabilities equal the NumPy reference",
  ignore: !hasPythonStack,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "splitee-import-exits-" });
    try {
      const ck = `${dir}/ck`, out = `${dir}/model`, tsv = `${dir}/in.tsv`, jsonl = `${dir}/out.jsonl`;
      await writeCheckpoint(ck, "deebert");
      assert.equal((await importCli("--from", ck, "--out", out)).code, 0);
      await Deno.writeTextFile(tsv, `text\tlabel\n${SINGLE.map(([t], i) => `${t}\t${i}`).join("\n")}\n`);
      const r = await new Deno.Command(Deno.execPath(), {
        args: ["task", "exits", "--model", out, "--input", tsv, "--text", "text", "--label", "label", "--out", jsonl],
        cwd: new URL("..", import.meta.url).pathname,
        stdout: "piped",
        stderr: "piped",
        env: { NO_COLOR: "1" },
      }).output();
      assert.equal(r.code, 0, new TextDecoder().decode(r.stderr));
      const lines = (await Deno.readTextFile(jsonl)).trimEnd().split("\n").map((l) => JSON.parse(l));
      assert.equal(lines.length, 2);
      for (const [i, [text]] of SINGLE.entries()) {
        const { batch } = await encodeFor(out, [[text]]);
        const ref = await reference(ck, batch, dir);
        assert.equal(lines[i].label, i);
        assert.equal(lines[i].probs.length, 3);
        ref.layers.forEach((l, k) => {
          const z = l.logits![0]!, mx = Math.max(...z), e = z.map((v) => Math.exp(v - mx));
          const s = e.reduce((a, b) => a + b, 0);
          e.forEach((v, j) => assert.ok(Math.abs(v / s - lines[i].probs[k][j]) < 1e-4, `row ${i} exit ${k + 1}`));
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "import tokenizer settings: cased and no-HTML tokenization equal models/pipeline/tokenizer.py (the reference)",
  ignore: !hasPythonStack,
  async fn() {
    const texts = [
      "Café NAÏVE<br />Ångström e\u0301 ΟΔΟΣ",
      "Don't STOP!! 北京abc x\u0000y\ufffdz \u00a0\u3000 <BR/>end",
      "ﬁne Ｆｕｌｌ ǅemal İstanbul ß",
    ];
    const script = "import json,sys; sys.path.insert(0, 'models/pipeline'); from tokenizer import basic_tokenize; " +
      "t = json.load(sys.stdin); print(json.dumps([[basic_tokenize(s, lo, False) for s in t] for lo in (False, True)]))";
    const child = new Deno.Command(Deno.env.get("PYTHON") ?? "/usr/bin/python3", {
      args: ["-c", script],
      cwd: new URL("..", import.meta.url).pathname,
      stdin: "piped",
      stdout: "piped",
    }).spawn();
    const writer = child.stdin.getWriter();
    await writer.write(new TextEncoder().encode(JSON.stringify(texts)));
    await writer.close();
    const [cased, uncased] = JSON.parse(new TextDecoder().decode((await child.output()).stdout));
    assert.deepEqual(texts.map((s) => basicTokenize(s, { lowercase: false, htmlLineBreaks: false })), cased);
    assert.deepEqual(texts.map((s) => basicTokenize(s, { htmlLineBreaks: false })), uncased);
  },
});

Deno.test({
  name: "import --embed-dtype int8: a smaller int8 token table, in parity with its own (quantised) PyTorch model",
  ignore: !hasPythonStack,
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const dir = await Deno.makeTempDir({ prefix: "splitee-import-int8-" });
    try {
      const ck = `${dir}/ck`;
      await writeCheckpoint(ck, "deebert");
      for (const d of ["float32", "int8"]) {
        const r = await importCli("--from", ck, "--out", `${dir}/${d}`, "--embed-dtype", d);
        assert.equal(r.code, 0, r.stderr);
      }
      const int8 = await readModelDir(`${dir}/int8`);
      assert.equal(int8.manifest.embed.tokenTable, "int8-rows");
      assert.equal((await readModelDir(`${dir}/float32`)).manifest.embed.tokenTable, "float32");
      const size = async (d: string) => (await Deno.stat(`${dir}/${d}/embed.onnx`)).size;
      // 66 x 32 table: int8 rows + a float32 scale each (3 bytes a value less, 4 a row more, a few nodes more)
      // against float32 rows; positions and token types stay float32.
      const saved = (await size("float32")) - (await size("int8"));
      assert.ok(saved >= 66 * 32 * 2, `the token table shrinks (${saved} bytes less)`);
      // parity.json is the quantised PyTorch model: the int8 graph matches it; the checkpoint only approximately.
      const parity = JSON.parse(await Deno.readTextFile(`${dir}/int8/parity.json`));
      const node = await loadNodeRunner(int8, { intraOpThreads: 1 });
      try {
        const c = parity.cases[0];
        const t = c.inputIds[0].length;
        const ids = { dtype: "int64" as const, dims: [1, t], data: BigInt64Array.from(c.inputIds[0].map(BigInt)) };
        const types = {
          dtype: "int64" as const,
          dims: [1, t],
          data: BigInt64Array.from(c.tokenTypeIds[0].map(BigInt)),
        };
        const mask = { dtype: "float32" as const, dims: [1, t], data: Float32Array.from(c.attentionMask[0]) };
        let h = await node.embed(ids, types);
        for (let k = 1; k <= 3; k++) {
          const out = await node.layer(k, h, mask);
          h = out.hidden;
          assert.ok(maxDiffLogits(out.logits.data, c.layers[k - 1].logits) < TOLERANCE, `int8 exit ${k}`);
        }
      } finally {
        await node.dispose();
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
