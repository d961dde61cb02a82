/**
 * End to end: `scripts/eval.ts` as a subprocess on the JSONL fixtures in tests/fixtures/eval/.
 */
import assert from "node:assert/strict";
import { evaluate } from "../shared/eval/evaluate.ts";
import { parseExitsJsonl } from "../shared/eval/matrix.ts";
import { resultRecord } from "../shared/eval/table.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const FIXTURES = "tests/fixtures/eval";

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "scripts/eval.ts", ...args],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(180_000),
  }).output();
  const dec = new TextDecoder();
  return { code: out.code, stdout: dec.decode(out.stdout), stderr: dec.decode(out.stderr) };
}

const close = (a: unknown, b: number) =>
  assert.ok(typeof a === "number" && Math.abs(a - b) < 1e-12, `expected ${b} got ${a}`);

Deno.test("eval --json prints one object per policy with the hand-computed baseline values", async () => {
  const { code, stdout, stderr } = await cli(
    "--exits",
    `${FIXTURES}/tiny.jsonl`,
    "--alpha",
    "0.7",
    "--runs",
    "3",
    "--policy",
    "final,fixed-1,early-exit,splitee-s",
    "--json",
  );
  assert.equal(code, 0, stderr);
  const lines = stdout.trim().split("\n").map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => [l.policy, l.o]), [["final", 0.5], ["fixed-1", 0.5], ["early-exit", 0.5], [
    "splitee-s",
    0.5,
  ]]);
  const [final, fixed1, early, splitee] = lines;
  assert.deepEqual(Object.keys(final).slice(0, 7), [
    "policy",
    "o",
    "accuracy",
    "cost",
    "costReduction",
    "offloadRate",
    "regret2000",
  ]);
  close(final.accuracy, 6 / 7);
  close(final.cost, 0.3);
  assert.equal(final.costReduction, 0);
  assert.deepEqual(final.arms, { "1": 0, "2": 0, "3": 1 });
  close(fixed1.cost, 0.35);
  close(fixed1.offloadRate, 0.5);
  close(fixed1.regret2000, 8 * (0.545 - 0.465));
  close(early.cost, 13 / 80);
  assert.deepEqual(early.exits, { "1": 0.5, "2": 0.375, "3": 0.125, cloud: 0 });
  // The bandit's numbers are exactly the in-process evaluation with the same seed and runs.
  const matrix = parseExitsJsonl(await Deno.readTextFile(`${ROOT}${FIXTURES}/tiny.jsonl`));
  const [expected] = evaluate(matrix, { alpha: 0.7, os: [0.5], runs: 3, seed: 1, policies: ["splitee-s"] });
  assert.deepEqual(splitee, JSON.parse(JSON.stringify(resultRecord(expected!))));
});

Deno.test("eval --o-sweep prints every (policy, o) and writes the three plots", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const { code, stdout, stderr } = await cli(
      "--exits",
      `${FIXTURES}/tiny.jsonl`,
      "--alpha=0.7",
      "--o-sweep",
      "0.1:0.3:0.1",
      "--runs",
      "2",
      "--policy",
      "offload-all,splitee-paper",
      "--json",
      "--plots",
      dir,
    );
    assert.equal(code, 0, stderr);
    const rows = stdout.trim().split("\n").map((l) => JSON.parse(l));
    assert.deepEqual(rows.map((r) => `${r.policy}@${r.o}`), [
      "offload-all@0.1",
      "splitee-paper@0.1",
      "offload-all@0.2",
      "splitee-paper@0.2",
      "offload-all@0.3",
      "splitee-paper@0.3",
    ]);
    close(rows[4].cost, 0.4);
    assert.match(stderr, /eval: 6\/6 runs \(o = 0\.3, run 2\/2\)/);
    const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
    assert.deepEqual(files, ["accuracy_vs_o.svg", "cost_vs_o.svg", "regret_vs_t.svg"]);
    const regret = await Deno.readTextFile(`${dir}/regret_vs_t.svg`);
    assert.ok(regret.includes("Cumulative regret, o = 0.3 (tiny.jsonl)"), regret.slice(0, 400));
    assert.equal(regret.match(/<path /g)?.length, 2);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("eval prints a readable table by default", async () => {
  const { code, stdout } = await cli(
    "--exits",
    `${FIXTURES}/tiny.jsonl`,
    "--alpha",
    "0.7",
    "--policy",
    "final",
    "--quiet",
  );
  assert.equal(code, 0);
  const lines = stdout.trimEnd().split("\n");
  assert.equal(
    lines[0],
    "tiny.jsonl: alpha 0.7, lambda 0.1, 20 runs, 8 samples; regret at 8 samples vs best fixed arm",
  );
  assert.match(lines[1]!, /^policy\s+o\s+acc %\s+cost\s+cost red %/);
  assert.match(lines[3]!, /^final\s+0\.5\s+85\.71\s+0\.300/);
});

Deno.test("eval names the file and line of bad input (exit 1)", async () => {
  const cases: [string, string][] = [
    ["missing.jsonl", `eval: error: cannot open --exits file "${FIXTURES}/missing.jsonl": no such file`],
    ["bad_json.jsonl", `eval: error: ${FIXTURES}/bad_json.jsonl: line 3: malformed JSON (`],
    ["bad_exits.jsonl", `eval: error: ${FIXTURES}/bad_exits.jsonl: line 3: 2 exits, but line 1 has 3`],
    [
      "bad_sum.jsonl",
      `eval: error: ${FIXTURES}/bad_sum.jsonl: line 2: exit 2 probabilities sum to 0.8999999999999999 (expected 1 ± 0.001)`,
    ],
  ];
  for (const [file, message] of cases) {
    const { code, stdout, stderr } = await cli("--exits", `${FIXTURES}/${file}`, "--alpha", "0.7");
    assert.equal(code, 1, `${file}: ${stderr}`);
    assert.equal(stdout, "");
    assert.ok(stderr.startsWith(message), `${file}: ${stderr}`);
  }
});

Deno.test("eval rejects bad flags with a usage message (exit 2)", async () => {
  const tiny = `${FIXTURES}/tiny.jsonl`;
  const cases: [string[], RegExp][] = [
    [["--exits", tiny, "--alpha", "2"], /^eval: error: --alpha must be a number in \[0, 1\] \(got "2"\)/],
    [["--exits", tiny], /^eval: error: --alpha is required/],
    [["--exits", tiny, "--alpha", "0.7", "--bogus"], /^eval: error: Unknown option '--bogus'/],
    [
      ["--exits", tiny, "--alpha", "0.7", "--o", "0.3", "--o-sweep", "0.1:0.2:0.1"],
      /--o and --o-sweep cannot be combined/,
    ],
    [["--exits", tiny, "--alpha", "0.7", "--o-sweep", "0.5:0.1:0.1"], /0 <= start <= stop and step > 0/],
    [["--exits", tiny, "--alpha", "0.7", "--runs", "0"], /--runs must be an integer >= 1 \(got "0"\)/],
    [["--exits", tiny, "--alpha", "0.7", "--policy", "splitee,ucb"], /unknown policy "ucb"; known: splitee, /],
    [
      ["--exits", tiny, "--alpha", "0.7", "--policy", "fixed-9"],
      /^eval: error: Unknown policy "fixed-9"; known: .*fixed-1\.\.fixed-3/,
    ],
    [["--alpha", "0.7"], /give exactly one of --exits <file\.jsonl> or --synthetic <n>/],
  ];
  for (const [args, pattern] of cases) {
    const { code, stderr } = await cli(...args);
    assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
    assert.match(stderr, pattern);
  }
});
