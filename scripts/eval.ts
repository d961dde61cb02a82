/**
 * Offline evaluation CLI (the paper's protocol on per-exit JSONL):
 *
 *   deno task eval --exits <file.jsonl> --alpha <a> [--lambda 0.1] [--o 0.5 | --o-sweep 0.1:0.6:0.05 |
 *     --o-schedule 0.1,0.6] [--runs 20] [--seed 1] [--policy <name>[,<name>...]] [--json] [--plots <dir>]
 *
 * Exit codes: 0 ok, 1 bad input file, 2 bad flags.
 * @module
 */

import { parseArgs } from "node:util";
import { runCli } from "./cli.ts";
import { type EvalResult, evaluate } from "../shared/eval/evaluate.ts";
import { type ExitMatrix, ExitMatrixBuilder, ExitsFormatError } from "../shared/eval/matrix.ts";
import { accuracyVsO, costVsO, regretVsT } from "../shared/eval/svg.ts";
import { parseList, parseSweep } from "../shared/eval/sweep.ts";
import { syntheticExits } from "../shared/eval/synthetic.ts";
import { formatTable, resultRecord } from "../shared/eval/table.ts";
import { DEFAULT_POLICIES, isPolicyName, POLICY_NAMES } from "../shared/policy/registry.ts";

const USAGE = `Usage: deno task eval --exits <file.jsonl> --alpha <a> [options]

Replays per-exit outputs ({"label": int|null, "probs": [[...] x L]} per line) through the policies:
mean over shuffled runs of accuracy, cost, cost reduction vs final exit, offload rate, arm and exit
histograms, and cumulative regret against the best fixed arm.

  --exits <file>        per-exit JSONL (or --synthetic <n>: a seeded synthetic stream of n samples)
  --alpha <a>           confidence threshold in [0, 1] (required)
  --lambda <l>          device cost per layer (default 0.1)
  --o <o>               offloading cost (default 0.5)
  --o-sweep a:b:step    evaluate every o from a to b (e.g. 0.1:0.6:0.05)
  --o-schedule a,b,...  o changes over each run, equal segments (measured-cost replay)
  --runs <n>            shuffled runs (default 20)
  --seed <s>            seed of the shuffles (default 1)
  --policy <names>      comma-separated (default: ${DEFAULT_POLICIES.join(", ")}); also fixed-<i>
  --horizon <n>         samples for the reported cumulative regret (default 2000)
  --json                one JSON object per (policy, o) on stdout instead of a table
  --plots <dir>         write accuracy_vs_o.svg, cost_vs_o.svg, regret_vs_t.svg there
  --quiet               no progress on stderr
`;

/** A command-line mistake (exit code 2). */
class UsageError extends Error {}
/** A problem with the input file (exit code 1). */
class InputError extends Error {}

interface Args {
  exits?: string;
  synthetic?: number;
  alpha: number;
  lambda: number;
  os?: number[];
  oSchedule?: number[];
  runs: number;
  seed: number;
  horizon: number;
  policies: string[];
  json: boolean;
  plots?: string;
  quiet: boolean;
}

function parseCli(argv: string[]): Args | "help" {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        exits: { type: "string" },
        synthetic: { type: "string" },
        alpha: { type: "string" },
        lambda: { type: "string" },
        o: { type: "string" },
        "o-sweep": { type: "string" },
        "o-schedule": { type: "string" },
        runs: { type: "string" },
        seed: { type: "string" },
        horizon: { type: "string" },
        policy: { type: "string" },
        json: { type: "boolean" },
        plots: { type: "string" },
        quiet: { type: "boolean" },
        help: { type: "boolean", short: "h" },
      },
    }).values;
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  if (parsed.help) return "help";
  const num = (
    flag: string,
    raw: string | undefined,
    fallback: number | undefined,
    ok: (v: number) => boolean,
    what: string,
  ) => {
    if (raw === undefined) {
      if (fallback === undefined) throw new UsageError(`--${flag} is required (${what})`);
      return fallback;
    }
    const v = raw.trim() === "" ? NaN : Number(raw);
    if (!Number.isFinite(v) || !ok(v)) throw new UsageError(`--${flag} must be ${what} (got "${raw}")`);
    return v;
  };
  const int = (v: number) => Number.isInteger(v);
  if ((parsed.exits === undefined) === (parsed.synthetic === undefined)) {
    throw new UsageError("give exactly one of --exits <file.jsonl> or --synthetic <n>");
  }
  const oFlags = ["o", "o-sweep", "o-schedule"].filter((f) => parsed[f as "o"] !== undefined);
  if (oFlags.length > 1) throw new UsageError(`--${oFlags.join(" and --")} cannot be combined`);
  const args: Args = {
    alpha: num("alpha", parsed.alpha, undefined, (v) => v >= 0 && v <= 1, "a number in [0, 1]"),
    lambda: num("lambda", parsed.lambda, 0.1, (v) => v >= 0, "a number >= 0"),
    runs: num("runs", parsed.runs, 20, (v) => int(v) && v >= 1, "an integer >= 1"),
    seed: num("seed", parsed.seed, 1, (v) => Number.isSafeInteger(v), "an integer"),
    horizon: num("horizon", parsed.horizon, 2000, (v) => int(v) && v >= 1, "an integer >= 1"),
    policies: parsed.policy === undefined ? [...DEFAULT_POLICIES] : parsed.policy.split(",").map((p) => p.trim()),
    json: parsed.json ?? false,
    quiet: parsed.quiet ?? false,
  };
  if (parsed.exits !== undefined) args.exits = parsed.exits;
  if (parsed.synthetic !== undefined) {
    args.synthetic = num("synthetic", parsed.synthetic, undefined, (v) => int(v) && v >= 1, "an integer >= 1");
  }
  if (parsed.plots !== undefined) args.plots = parsed.plots;
  try {
    if (parsed["o-sweep"] !== undefined) args.os = parseSweep(parsed["o-sweep"]);
    else if (parsed["o-schedule"] !== undefined) args.oSchedule = parseList(parsed["o-schedule"], "--o-schedule");
    else args.os = [num("o", parsed.o, 0.5, (v) => v >= 0, "a number >= 0")];
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError((e as Error).message);
  }
  const unknown = args.policies.filter((p) => !isPolicyName(p, Number.MAX_SAFE_INTEGER));
  if (unknown.length > 0) {
    throw new UsageError(
      `unknown policy ${unknown.map((p) => `"${p}"`).join(", ")}; known: ${POLICY_NAMES.join(", ")}, fixed-<i>`,
    );
  }
  return args;
}

/** Streams the JSONL file line by line into a matrix. */
async function readExits(path: string): Promise<ExitMatrix> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path, { read: true });
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "no such file (`deno task exits ... --out <file.jsonl>` writes one; see docs/results.md)"
      : (e as Error).message;
    throw new InputError(`cannot open --exits file "${path}": ${why}`);
  }
  const builder = new ExitMatrixBuilder();
  let line = 0;
  let rest = "";
  try {
    for await (const chunk of file.readable.pipeThrough(new TextDecoderStream())) {
      rest += chunk;
      let start = 0;
      for (let nl = rest.indexOf("\n"); nl >= 0; nl = rest.indexOf("\n", start)) {
        builder.addLine(rest.slice(start, nl), ++line);
        start = nl + 1;
      }
      rest = rest.slice(start);
    }
    if (rest !== "") builder.addLine(rest, ++line);
    return builder.finish();
  } catch (e) {
    if (e instanceof ExitsFormatError) throw new InputError(`${path}: ${e.message}`);
    throw e;
  }
}

async function writePlots(dir: string, results: readonly EvalResult[], dataset: string): Promise<string[]> {
  await Deno.mkdir(dir, { recursive: true });
  const files: [string, string][] = [];
  const sweep = results.filter((r) => r.o !== null);
  if (sweep.length > 0) {
    files.push(["accuracy_vs_o.svg", accuracyVsO(sweep, `Accuracy vs o (${dataset})`)]);
    files.push(["cost_vs_o.svg", costVsO(sweep, `Cost per sample vs o (${dataset})`)]);
  }
  const os = [...new Set(results.map((r) => r.o))];
  const pick = os.reduce((a, b) => (Math.abs((b ?? 0.5) - 0.5) < Math.abs((a ?? 0.5) - 0.5) ? b : a), os[0] ?? null);
  const at = results.filter((r) => r.o === pick);
  const label = pick === null ? `o schedule ${at[0]?.oSchedule?.join(" > ")}` : `o = ${pick}`;
  files.push(["regret_vs_t.svg", regretVsT(at, `Cumulative regret, ${label} (${dataset})`)]);
  for (const [name, svg] of files) await Deno.writeTextFile(`${dir}/${name}`, svg);
  return files.map(([name]) => `${dir}/${name}`);
}

/** Runs the CLI; returns the exit code. */
export async function main(argv: string[]): Promise<number> {
  const err = (msg: string) => console.error(`eval: error: ${msg}`);
  let args: Args | "help";
  try {
    args = parseCli(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    err(`${e.message} (\`deno task eval --help\` prints the usage)`);
    return 2;
  }
  if (args === "help") {
    console.log(USAGE);
    return 0;
  }
  try {
    const matrix = args.exits !== undefined
      ? await readExits(args.exits)
      : syntheticExits({ samples: args.synthetic!, seed: args.seed });
    const dataset = args.exits !== undefined ? args.exits.split("/").pop()! : `synthetic-${args.synthetic}`;
    const tty = Deno.stderr.isTerminal();
    const enc = new TextEncoder();
    const results = evaluate(matrix, {
      alpha: args.alpha,
      lambda: args.lambda,
      runs: args.runs,
      seed: args.seed,
      horizon: args.horizon,
      policies: args.policies,
      ...(args.oSchedule ? { oSchedule: args.oSchedule } : { os: args.os! }),
      onProgress: ({ done, total, o, run }) => {
        if (args.quiet) return;
        const what = `eval: ${done}/${total} runs (o = ${o ?? "schedule"}, run ${run}/${args.runs})`;
        if (tty) Deno.stderr.writeSync(enc.encode(`\r${what}${done === total ? "\n" : ""}`));
        else if (run === args.runs) console.error(what);
      },
    });
    if (args.json) {
      for (const r of results) console.log(JSON.stringify(resultRecord(r)));
    } else {
      console.log(`${dataset}: ${formatTable(results)}`);
    }
    if (args.plots !== undefined) {
      const written = await writePlots(args.plots, results, dataset);
      if (!args.quiet) console.error(`eval: wrote ${written.join(", ")}`);
    }
    return 0;
  } catch (e) {
    if (e instanceof InputError) {
      err(e.message);
      return 1;
    }
    if (e instanceof RangeError || (e instanceof Error && /Policy|Unknown/.test(e.name))) {
      err(e.message);
      return 2;
    }
    throw e;
  }
}

if (import.meta.main) await runCli("eval", USAGE, main);
