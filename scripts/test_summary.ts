/**
 * The last line of `deno task test`: Deno's own summary (`ok | 12 passed (3 steps) | 0 failed | 1 ignored (1s)` or
 * `FAILED | 10 passed | 2 failed (1s)`) read back into `N passed, N failed, N skipped`, skipped being Deno's
 * "ignored" tests (a test that cannot run where it is, e.g. the browser test without Chromium).
 * @module
 */

/** The counts of one test run. */
export interface TestCounts {
  readonly passed: number;
  readonly failed: number;
  readonly skipped: number;
  /** Names of the skipped tests, as Deno printed them (`name ... ignored`). */
  readonly skippedNames: readonly string[];
}

// deno-lint-ignore no-control-regex
const ANSI = /\x1b\[[0-9;]*m/g;

/**
 * Reads Deno's test output (colours allowed); `null` when it holds no summary line. The last summary wins (Deno
 * prints one per run).
 */
export function parseTestOutput(output: string): TestCounts | null {
  const plain = output.replace(ANSI, "");
  const summary = [...plain.matchAll(/^(?:ok|FAILED) \| (\d+) passed(?: \(\d+ steps?\))? \| (\d+) failed(.*)$/gm)]
    .at(-1);
  if (summary === undefined) return null;
  const ignored = /\| (\d+) ignored/.exec(summary[3] ?? "");
  return {
    passed: Number(summary[1]),
    failed: Number(summary[2]),
    skipped: ignored ? Number(ignored[1]) : 0,
    skippedNames: ignoredTestNames(plain),
  };
}

/** Names of the tests Deno reports as `name ... ignored` in `output` (complete lines, colours allowed). */
export function ignoredTestNames(output: string): string[] {
  const plain = output.replace(ANSI, "");
  return [...new Set([...plain.matchAll(/^(.+?) \.\.\. ignored(?: \([\d.]+m?s\))?$/gm)].map((m) => m[1]!.trim()))];
}

/** `N passed, N failed, N skipped`. */
export function formatCounts(counts: Pick<TestCounts, "passed" | "failed" | "skipped">): string {
  return `${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped`;
}
