/**
 * `deno task exits` (scripts/exits.ts) as a user runs it: real subprocesses on the committed model and a tiny TSV.
 */
import assert from "node:assert/strict";
import { loadNodeRunner, readModelDir } from "../gateway/runtime/onnx.ts";
import { softmax } from "../shared/math.ts";
import { padBatch, runAllExits } from "../shared/model_io.ts";
import { WordPieceTokenizer } from "../shared/tokenizer/mod.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const MODEL = `${ROOT}models/sentiment`;
const FIXTURE = `${ROOT}tests/fixtures/exits/tiny.tsv`;

interface Run {
  code: number;
  stderr: string;
}

async function exits(...args: string[]): Promise<Run> {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${ROOT}scripts/exits.ts`, ...args],
    stdout: "null",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  return { code, stderr: new TextDecoder().decode(stderr) };
}

async function readJsonl(path: string): Promise<{ label: number | null; probs: number[][] }[]> {
  return (await Deno.readTextFile(path)).trimEnd().split("\n").map((l) => JSON.parse(l));
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

Deno.test({
  name: "exits CLI rejects a missing column, an unreadable file, bad gzip, bad labels and missing flags with code 2",
  async fn() {
    const dir = await Deno.makeTempDir();
    const out = `${dir}/out.jsonl`;
    try {
      const noColumn = await exits("--model", MODEL, "--input", FIXTURE, "--text", "review", "--out", out);
      assert.equal(noColumn.code, 2, noColumn.stderr);
      assert.match(noColumn.stderr, /has no column "review" \(--text\); its columns: id, label, text/);

      const noLabel = await exits("--model", MODEL, "--input", FIXTURE, "--text", "text", "--label", "y", "--out", out);
      assert.equal(noLabel.code, 2);
      assert.match(noLabel.stderr, /has no column "y" \(--label\)/);

      const missing = await exits("--model", MODEL, "--input", `${dir}/nope.tsv`, "--text", "text", "--out", out);
      assert.equal(missing.code, 2);
      assert.match(missing.stderr, /cannot read --input .*nope\.tsv/);

      const notGzip = `${dir}/plain.tsv.gz`;
      await Deno.copyFile(FIXTURE, notGzip);
      const badGzip = await exits("--model", MODEL, "--input", notGzip, "--text", "text", "--out", out);
      assert.equal(badGzip.code, 2, badGzip.stderr);
      assert.match(badGzip.stderr, /cannot read --input .*plain\.tsv\.gz/);

      const badLabels = `${dir}/labels.tsv`;
      await Deno.writeTextFile(badLabels, "text\tlabel\ngood\t1\nbad\tpositive\n");
      const badLabel = await exits(
        "--model",
        MODEL,
        "--input",
        badLabels,
        "--text",
        "text",
        "--label",
        "label",
        "--out",
        out,
      );
      assert.equal(badLabel.code, 2);
      assert.match(badLabel.stderr, /line 3: label "positive" is not an integer in 0\.\.1/);

      const ragged = `${dir}/ragged.tsv`;
      await Deno.writeTextFile(ragged, "text\tlabel\ngood\t1\textra\n");
      const badRow = await exits("--model", MODEL, "--input", ragged, "--text", "text", "--out", out);
      assert.equal(badRow.code, 2);
      assert.match(badRow.stderr, /line 2 has 3 fields but the header has 2/);

      const noFlags = await exits("--model", MODEL, "--text", "text");
      assert.equal(noFlags.code, 2);
      assert.match(noFlags.stderr, /missing --input, --out/);
      assert.match(noFlags.stderr, /`deno task exits --help` prints the usage/);
      assert.equal(noFlags.stderr.trim().split("\n").length, 1, "a failure is one line");

      const noModel = await exits("--model", `${dir}/none`, "--input", FIXTURE, "--text", "text", "--out", out);
      assert.equal(noModel.code, 2);
      assert.match(noModel.stderr, /cannot load --model/);

      assert.equal(await exists(out), false, "no output is left behind");
      assert.equal(await exists(`${out}.partial`), false, "no partial output is left behind");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "exits CLI writes one line per row in input order, equal to a direct runner computation",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const out = `${dir}/tiny.jsonl`;
      // Small chunks and batches, so rows are sorted, batched with padding and reassembled across chunks.
      const run = await exits(
        "--model",
        MODEL,
        "--input",
        FIXTURE,
        "--text",
        "text",
        "--label",
        "label",
        "--out",
        out,
        "--chunk",
        "4",
        "--batch-tokens",
        "96",
        "--threads",
        "1",
      );
      assert.equal(run.code, 0, run.stderr);
      assert.match(run.stderr, /exits: wrote 10 rows in/);
      const lines = await readJsonl(out);

      const source = await readModelDir(MODEL);
      const { manifest } = source;
      const tsv = (await Deno.readTextFile(FIXTURE)).trimEnd().split("\n").slice(1).map((l) => l.split("\t"));
      assert.equal(lines.length, tsv.length);
      assert.deepEqual(lines.map((l) => l.label), tsv.map(([, label]) => (label === "" ? null : Number(label))));

      const tokenizer = new WordPieceTokenizer(new TextDecoder().decode(await source.files(manifest.tokenizer.vocab)), {
        maxLength: manifest.maxLength,
        headTokens: manifest.tokenizer.headTokens,
      });
      const runner = await loadNodeRunner(source, { intraOpThreads: 1 });
      try {
        for (const [i, line] of lines.entries()) {
          assert.equal(line.probs.length, manifest.layers);
          const logits = await runAllExits(runner, padBatch([tokenizer.encode(tsv[i]![2]!)]));
          for (const [k, probs] of line.probs.entries()) {
            assert.equal(probs.length, manifest.labels.length);
            assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-5, `row ${i} exit ${k + 1} sums to 1`);
            const direct = softmax(logits[k]!.data);
            probs.forEach((p, c) =>
              assert.ok(Math.abs(p - direct[c]!) < 1e-5, `row ${i} exit ${k + 1}: ${p} vs ${direct[c]}`)
            );
          }
        }
      } finally {
        await runner.dispose();
      }

      // The same file gzipped, with --limit: the first rows, identical.
      const gz = `${dir}/tiny.tsv.gz`;
      const compressed = (await Deno.open(FIXTURE)).readable.pipeThrough(new CompressionStream("gzip"));
      await Deno.writeFile(gz, compressed);
      const limited = `${dir}/limited.jsonl`;
      const run2 = await exits(
        "--model",
        MODEL,
        "--input",
        gz,
        "--text",
        "text",
        "--label",
        "label",
        "--out",
        limited,
        "--limit",
        "3",
      );
      assert.equal(run2.code, 0, run2.stderr);
      assert.deepEqual(await readJsonl(limited), lines.slice(0, 3));
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

// The same five rows as TSV (integer labels) and as CSV (quoted fields, doubled quotes, commas, an embedded newline
// where the TSV has a space, named labels), for the CSV, --label-map and --merge-classes tests.
const PAIRED_TSV = 'text\tlabel\na "quoted" word, and a comma\t1\nit \'s slow -- very , very slow .\t0\n' +
  "two lines of text\t1\nunlabeled, but fine\t\nbad.\t0\n";
const PAIRED_CSV =
  'text,label\r\n"a ""quoted"" word, and a comma",positive\r\n"it \'s slow -- very , very slow .",negative\r\n' +
  '"two lines\nof text",positive\r\n"unlabeled, but fine",\r\nbad.,negative\r\n';

Deno.test({
  name: "exits CLI reads CSV like TSV, maps named labels and merges classes by summing probabilities",
  async fn() {
    const dir = await Deno.makeTempDir();
    try {
      const tsv = `${dir}/rows.tsv`, csv = `${dir}/rows.csv`;
      await Deno.writeTextFile(tsv, PAIRED_TSV);
      await Deno.writeTextFile(csv, PAIRED_CSV);
      const run = async (input: string, ...more: string[]) => {
        const out = `${dir}/${more.join("_").replace(/[^a-z0-9]+/gi, "_")}.jsonl`;
        const r = await exits("--model", MODEL, "--input", input, "--text", "text", "--out", out, ...more);
        assert.equal(r.code, 0, r.stderr);
        return { stderr: r.stderr, lines: await readJsonl(out) };
      };
      const base = (await run(tsv, "--label", "label")).lines;
      assert.deepEqual(base.map((l) => l.label), [1, 0, 1, null, 0]);

      // Identity merge: exactly the unmerged output.
      const identity = await run(tsv, "--label", "label", "--merge-classes", "negative;positive");
      assert.deepEqual(identity.lines, base);
      assert.match(identity.stderr, /exits: --merge-classes: output class 0 = negative, 1 = positive/);

      // CSV with named labels and the classes swapped: labels index the groups, probabilities are reversed.
      const swapped = await run(
        csv,
        "--label",
        "label",
        "--label-map",
        "positive=0,negative=1",
        "--merge-classes",
        "positive;negative",
      );
      assert.deepEqual(swapped.lines.map((l) => l.label), [0, 1, 0, null, 1]);
      assert.deepEqual(swapped.lines.map((l) => l.probs), base.map((l) => l.probs.map((p) => [...p].reverse())));

      // Everything in one group: one probability per exit, the sum of the unmerged ones, i.e. 1.
      const all = await run(tsv, "--merge-classes", "negative+positive");
      assert.match(all.stderr, /output class 0 = negative\+positive \(probabilities summed\)/);
      assert.equal(all.lines.length, base.length);
      all.lines.forEach((line, i) => {
        assert.equal(line.label, null);
        assert.equal(line.probs.length, base[i]!.probs.length);
        line.probs.forEach((probs, k) => {
          assert.equal(probs.length, 1);
          const sum = base[i]!.probs[k]!.reduce((a, b) => a + b, 0);
          assert.ok(Math.abs(probs[0]! - sum) < 1e-5 && Math.abs(probs[0]! - 1) < 1e-5, `row ${i} exit ${k + 1}`);
        });
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "exits CLI rejects unmapped labels, bad merge specs and malformed CSV with code 2",
  async fn() {
    const dir = await Deno.makeTempDir();
    const out = `${dir}/out.jsonl`;
    try {
      const csv = `${dir}/rows.csv`;
      await Deno.writeTextFile(csv, PAIRED_CSV.replace("bad.,negative", "bad.,neutral"));
      const fails = async (input: string, pattern: RegExp, ...more: string[]) => {
        const r = await exits("--model", MODEL, "--input", input, "--text", "text", "--out", out, ...more);
        assert.equal(r.code, 2, r.stderr);
        assert.match(r.stderr, pattern);
      };
      // Line 7: the record after the one with an embedded newline.
      await fails(
        csv,
        /rows\.csv line 7: label "neutral" is not in --label-map \(negative, positive\)/,
        ...["--label", "label", "--label-map", "negative=0,positive=1"],
      );
      await fails(csv, /--label-map entry "negative=2": the index must be an integer in 0\.\.0/, ...[
        "--label",
        "label",
        "--label-map",
        "negative=2",
        "--merge-classes",
        "negative+positive",
      ]);
      await fails(csv, /--label-map needs --label/, "--label-map", "negative=0");
      await fails(csv, /unknown class "neutral"; the model's classes: negative, positive/, ...[
        "--merge-classes",
        "negative;neutral",
      ]);
      await fails(csv, /"positive" in no group/, "--merge-classes", "negative");
      await fails(csv, /class "negative" appears more than once/, "--merge-classes", "negative;negative+positive");

      const broken = `${dir}/broken.csv`;
      await Deno.writeTextFile(broken, 'text,label\n"fine",1\n"never closed,1\n');
      await fails(broken, /broken\.csv line 3: a quoted field is never closed/);
      await Deno.writeTextFile(broken, 'text,label\n"fine",1\n"one","two",1\n');
      await fails(broken, /broken\.csv line 3 has 3 fields but the header has 2/);
      assert.equal(await exists(out), false, "no output is left behind");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
