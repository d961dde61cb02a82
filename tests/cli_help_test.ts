/**
 * Every `deno task` CLI as a new user meets it, in real subprocesses: `--help` prints the usage and exits 0, a
 * failure is one line without a stack trace, output folders are created, and a missing dataset says where the
 * datasets come from.
 */
import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}): Promise<Run> {
  const out = await new Deno.Command(cmd, {
    args,
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1", ...env },
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const script = (name: string, ...args: string[]) => run(Deno.execPath(), ["run", "-A", `scripts/${name}.ts`, ...args]);
const train = (args: string[], env: Record<string, string> = {}) =>
  run("bash", ["models/pipeline/train.sh", ...args], env);

function oneLine(r: Run, prefix: string): void {
  const lines = r.stderr.trim().split("\n");
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.ok(lines[0]!.startsWith(`${prefix}: `), r.stderr);
  assert.doesNotMatch(r.stderr, /^\s+at /m, "no stack trace");
}

Deno.test("--help of every CLI prints its usage on stdout and exits 0", async () => {
  const cases: [string, () => Promise<Run>, RegExp][] = [
    ["exits", () => script("exits", "--help"), /^Usage: deno task exits --model <dir>/],
    ["eval", () => script("eval", "-h"), /^Usage: deno task eval --exits <file\.jsonl>/],
    ["traces", () => script("traces", "--help"), /^Usage: deno task traces \[--jaeger URL\][\s\S]*docker run/],
    ["deploy", () => script("deploy", "--help"), /^Usage: deno task deploy \[--org ORG\][\s\S]*DENO_DEPLOY_ORG/],
    ["train", () => train(["--help"]), /^Usage: deno task train \[sentiment\|paraphrase\|entailment\] --out <dir>/],
    ["train paraphrase", () => train(["paraphrase", "-h"]), /--force/],
  ];
  for (const [name, go, usage] of cases) {
    const r = await go();
    assert.equal(r.code, 0, `${name}: ${r.stderr}`);
    assert.match(r.stdout, usage, name);
    assert.equal(r.stderr.replace(/^Task .*\n/m, ""), "", `${name} prints nothing on stderr`);
  }
});

Deno.test("CLI failures are one line: unknown flags, a missing dataset, the deploy org, a committed model", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const badFlag = await script("eval", "--exits", "x.jsonl", "--alpha", "0.7", "--bogus");
    assert.equal(badFlag.code, 2);
    oneLine(badFlag, "eval");

    // A dataset path under shared/data that is absent: where the datasets come from.
    const noData = await script(
      "exits",
      ...["--model", "models/sentiment", "--input", `${dir}/shared/data/sst2/dev.tsv`, "--text", "sentence"],
      ...["--out", `${dir}/out.jsonl`],
    );
    assert.equal(noData.code, 2);
    oneLine(noData, "exits");
    assert.match(noData.stderr, /no such file \(the datasets are not part of the repository: docs\/data\.md/);

    const noOrg = await run(Deno.execPath(), ["run", "-A", "scripts/deploy.ts"], { DENO_DEPLOY_ORG: "" });
    assert.equal(noOrg.code, 2);
    oneLine(noOrg, "deploy");
    assert.match(noOrg.stderr, /set DENO_DEPLOY_ORG=<your-org>/);

    // The data folder and the committed-model checks come before any training.
    const noDataDir = await train(["--out", `${dir}/model`], { SPLITEE_DATA: `${dir}/none` });
    assert.equal(noDataDir.code, 1);
    oneLine(noDataDir, "train");
    assert.match(noDataDir.stderr, /no data folder at .*docs\/data\.md/);
    const committed = await train(["paraphrase"], { SPLITEE_DATA: dir, PYTHON: "true" });
    assert.equal(committed.code, 2);
    assert.match(committed.stderr, /^train: models\/paraphrase holds a committed model: pass --out <dir>.*--force/m);
    assert.doesNotMatch(committed.stderr, /Traceback/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("exits creates the folders of --out (as docs/results.md's commands need)", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const out = `${dir}/models/.work/exits/tiny.jsonl`;
    const r = await script(
      "exits",
      ...["--model", "models/sentiment", "--input", "tests/fixtures/exits/tiny.tsv", "--text", "text"],
      ...["--label", "label", "--out", out, "--limit", "2", "--threads", "1"],
    );
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await Deno.readTextFile(out)).trimEnd().split("\n").length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
