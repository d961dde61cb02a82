/**
 * `deno task test`: runs the whole test suite and ends with the line `N passed, N failed, N skipped` that CI reads
 * (skipped: tests Deno reports as ignored, named on the line before, e.g. the browser test without Chromium).
 * Extra arguments go to `deno test` (e.g. a path or `--filter`).
 * @module
 */

import { formatCounts, ignoredTestNames, parseTestOutput } from "./test_summary.ts";

const args = ["test", "-A", "--parallel", "--no-prompt", ...Deno.args];
const child = new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "inherit" }).spawn();
const decoder = new TextDecoder();
// The summary is at the end; skipped test names may be anywhere, so they are collected line by line.
let tail = "", pending = "";
const skippedNames = new Set<string>();
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  const text = decoder.decode(chunk, { stream: true });
  tail = (tail + text).slice(-4096);
  const lines = (pending + text).split("\n");
  pending = lines.pop()!;
  for (const name of ignoredTestNames(lines.join("\n"))) skippedNames.add(name);
}
const { code } = await child.status;
const counts = parseTestOutput(tail);
const passed = counts?.passed ?? 0;
const failed = counts?.failed ?? (code === 0 ? 0 : 1);
const skipped = counts?.skipped ?? 0;
if (skipped > 0) console.log(`skipped: ${[...skippedNames].join("; ") || "(names not printed)"}`);
console.log(formatCounts({ passed, failed, skipped }));
Deno.exit(code === 0 && failed === 0 ? 0 : 1);
