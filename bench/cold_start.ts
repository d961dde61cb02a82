/**
 * Cold start of the edge model: for each configuration, `--runs` fresh processes of bench/cold_start_child.ts, one at a
 * time; reports the median of each figure and the wall time from spawning the process to its exit (the child prints
 * after its first answer, so spawn-to-exit bounds "process start to first answer" from above).
 *
 * Run: `deno run -A bench/cold_start.ts [--runs 5] [--json out.json]`
 * @module
 */
import { ensureParentDir } from "../scripts/cli.ts";
import { parseArgs } from "node:util";
import { median } from "./data.ts";

const { values: args } = parseArgs({
  args: Deno.args,
  options: { runs: { type: "string", default: "5" }, json: { type: "string" } },
});
const runs = Number(args.runs);
const CONFIGS = [
  { runtime: "wasm", opt: "all", verify: "true" },
  { runtime: "wasm", opt: "all", verify: "false" },
  { runtime: "wasm", opt: "basic", verify: "true" },
  { runtime: "wasm", opt: "disabled", verify: "true" },
  { runtime: "native", opt: "all", verify: "true" },
];
const child = new URL("./cold_start_child.ts", import.meta.url).pathname;
const results: Record<string, number | string>[] = [];
for (const c of CONFIGS) {
  const samples: Record<string, number>[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", child, "--runtime", c.runtime, "--opt", c.opt, "--verify", c.verify],
      stdout: "piped",
      stderr: "inherit",
    }).output();
    const wall = performance.now() - t0;
    if (!out.success) throw new Error(`${c.runtime}/${c.opt} run ${i} failed`);
    const line = new TextDecoder().decode(out.stdout).trim().split("\n").at(-1)!;
    samples.push({ ...JSON.parse(line), spawnToExitMs: wall });
  }
  const keys = Object.keys(samples[0]!).filter((k) => typeof samples[0]![k] === "number");
  const row: Record<string, number | string> = { runtime: c.runtime, opt: c.opt, verify: c.verify, runs };
  for (const k of keys) row[k] = Math.round(median(samples.map((s) => s[k]!)) * 10) / 10;
  results.push(row);
  console.log(JSON.stringify(row));
}
const cols = [
  "startupMs",
  "prepMs",
  "initMs",
  "sessionsMs",
  "firstRequestMs",
  "secondRequestMs",
  "toFirstAnswerMs",
  "spawnToExitMs",
  "rssAfterLoadMb",
  "rssAfterFirstMb",
  "peakRssMb",
];
console.log(`\n| runtime | opt | verify | ${cols.join(" | ")} |`);
console.log(`|---|---|---|${cols.map(() => "---:").join("|")}|`);
for (const r of results) {
  console.log(`| ${r.runtime} | ${r.opt} | ${r.verify} | ${cols.map((k) => r[k]).join(" | ")} |`);
}
if (args.json) {
  await ensureParentDir(args.json);
  await Deno.writeTextFile(args.json, JSON.stringify(results, null, 1));
}
