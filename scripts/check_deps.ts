/**
 * `deno task deps:check`: keeps the dependency direction `edge/ -> shared/ <- gateway/` true.
 *
 * - shared/ imports nothing from edge/, gateway/ or scripts/, and never touches `Deno.*`, `fetch`, onnxruntime or Hono;
 * - edge/ and gateway/ never import each other;
 * - onnxruntime-web is imported only by edge/runtime/onnx.ts, onnxruntime-node only by gateway/runtime/onnx.ts.
 * Test files (`*_test.ts`, `*_bench.ts`) in shared/ may read fixtures with Deno APIs.
 * @module
 */

const RULES: Array<{ dir: string; forbid: RegExp; why: string; skipTests?: boolean }> = [
  { dir: "shared", forbid: /from\s+["'](\.\.\/)+(edge|gateway|scripts)\//, why: "shared/ must not import services" },
  {
    dir: "shared",
    forbid: /\bDeno\.|\bfetch\(/,
    why: "shared/ is runtime-free (no Deno.*, no fetch)",
    skipTests: true,
  },
  { dir: "shared", forbid: /["']onnxruntime-(web|node)["']|["']hono["']/, why: "shared/ must not import ORT or Hono" },
  { dir: "edge", forbid: /from\s+["'](\.\.\/)+gateway\//, why: "edge/ must not import gateway/" },
  { dir: "gateway", forbid: /from\s+["'](\.\.\/)+edge\//, why: "gateway/ must not import edge/" },
];
const SEAMS: Record<string, string> = {
  "onnxruntime-web": "edge/runtime/onnx.ts",
  "onnxruntime-node": "gateway/runtime/onnx.ts",
};

async function* walk(dir: string): AsyncGenerator<string> {
  for await (const e of Deno.readDir(dir)) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory) yield* walk(p);
    else if (/\.(ts|tsx)$/.test(e.name)) yield p;
  }
}

const problems: string[] = [];
for (const dir of ["shared", "edge", "gateway", "scripts", "tests"]) {
  try {
    await Deno.stat(dir);
  } catch {
    continue;
  }
  for await (const file of walk(dir)) {
    const text = await Deno.readTextFile(file);
    const isTest = /_(test|bench)\.tsx?$/.test(file);
    for (const rule of RULES) {
      if (rule.dir !== dir || (rule.skipTests && isTest)) continue;
      const code = text.replace(/^\s*(\*|\/\/).*$/gm, "");
      if (rule.forbid.test(code)) problems.push(`${file}: ${rule.why}`);
    }
    for (const [pkg, owner] of Object.entries(SEAMS)) {
      if (file !== owner && !isTest && new RegExp(`from\\s+["']${pkg}["']`).test(text)) {
        problems.push(`${file}: only ${owner} may import ${pkg}`);
      }
    }
  }
}
if (problems.length) {
  console.error(`Dependency rules broken:\n  ${problems.join("\n  ")}`);
  Deno.exit(1);
}
console.log("dependency direction ok");
