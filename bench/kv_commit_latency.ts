/**
 * Deno KV commit latency on a local disk, as the edge's policy store sees it: `--n` atomic commits of one `sum`
 * mutation each (5 ms apart) on a fresh KV file in `--dir` (default: the system temp folder), then p50 / p99 / max in
 * milliseconds. Run it once on a quiet disk and once under write load to see what a SIGKILL bound stated in time
 * would be worth (docs/reliability.md, "SIGKILL loss bound"):
 *
 *   deno run -A bench/kv_commit_latency.ts --n 400
 * @module
 */

import { parseArgs } from "node:util";

const { values } = parseArgs({
  options: { n: { type: "string", default: "400" }, dir: { type: "string" }, help: { type: "boolean", short: "h" } },
});
if (values.help) {
  console.log("usage: deno run -A bench/kv_commit_latency.ts [--n 400] [--dir <folder for the KV file>]");
  Deno.exit(0);
}
const n = Number(values.n);
if (!Number.isInteger(n) || n < 1) {
  console.error(`kv_commit_latency: --n must be a positive integer (got ${JSON.stringify(values.n)})`);
  Deno.exit(2);
}
const dir = await Deno.makeTempDir({ prefix: "splitee-kv-latency-", ...(values.dir ? { dir: values.dir } : {}) });
const kv = await Deno.openKv(`${dir}/latency.kv`);
const ms: number[] = [];
try {
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    const result = await kv.atomic().sum(["counter", i % 8], 1n).commit();
    if (!result.ok) throw new Error("commit rejected");
    ms.push(performance.now() - t);
    await new Promise((r) => setTimeout(r, 5));
  }
} finally {
  kv.close();
  await Deno.remove(dir, { recursive: true });
}
ms.sort((a, b) => a - b);
const q = (p: number) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]!.toFixed(2);
console.log(`${n} KV commits: p50 ${q(0.5)} ms, p99 ${q(0.99)} ms, max ${ms.at(-1)!.toFixed(2)} ms`);
