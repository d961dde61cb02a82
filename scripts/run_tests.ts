/**
 * `deno task test`: runs the whole test suite and ends with the line `N passed, N failed` that CI reads.
 * Extra arguments go to `deno test` (e.g. a path or `--filter`).
 * @module
 */

const args = ["test", "-A", "--parallel", "--no-prompt", ...Deno.args];
const child = new Deno.Command(Deno.execPath(), { args, stdout: "piped", stderr: "inherit" }).spawn();
const decoder = new TextDecoder();
let tail = "";
for await (const chunk of child.stdout) {
  await Deno.stdout.write(chunk);
  tail = (tail + decoder.decode(chunk, { stream: true })).slice(-4096);
}
const { code } = await child.status;
// Deno's summary: "ok | 12 passed (3 steps) | 0 failed (1s)" or "FAILED | 10 passed | 2 failed (1s)".
// deno-lint-ignore no-control-regex
const plain = tail.replace(/\x1b\[[0-9;]*m/g, "");
const m = [...plain.matchAll(/(\d+) passed(?: \((\d+) steps?\))? \| (\d+) failed/g)].at(-1);
const passed = m ? Number(m[1]) : 0;
const failed = m ? Number(m[3]) : (code === 0 ? 0 : 1);
console.log(`${passed} passed, ${failed} failed`);
Deno.exit(code === 0 && failed === 0 ? 0 : 1);
