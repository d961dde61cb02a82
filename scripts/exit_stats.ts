/**
 * `deno run -A scripts/exit_stats.ts [--alpha 0.7] <file.jsonl> [...]`: per-exit accuracy, mean confidence and
 * expected calibration error of a per-exit JSONL written by `deno task exits`, as Markdown (for model cards).
 * @module
 */

import { exitStats, formatExitStats } from "../shared/eval/exit_stats.ts";
import { parseExitsJsonl } from "../shared/eval/matrix.ts";

const args = [...Deno.args];
let alpha: number | undefined;
const at = args.indexOf("--alpha");
if (at >= 0) {
  alpha = Number(args[at + 1]);
  args.splice(at, 2);
}
if (args.length === 0 || (alpha !== undefined && !(alpha > 0 && alpha <= 1))) {
  console.error("usage: deno run -A scripts/exit_stats.ts [--alpha 0.7] <file.jsonl> [...]");
  Deno.exit(2);
}
for (const path of args) {
  const m = parseExitsJsonl(await Deno.readTextFile(path));
  console.log(`### ${path} (${m.samples} samples)\n`);
  console.log(formatExitStats(exitStats(m, alpha === undefined ? {} : { alpha })) + "\n");
}
