import assert from "node:assert/strict";
import { formatCounts, ignoredTestNames, parseTestOutput } from "./test_summary.ts";

Deno.test("parseTestOutput() counts Deno's ignored tests as skipped and names them", () => {
  const output = [
    "running 2 tests from ./tests/browser_test.ts",
    "\x1b[0m\x1b[33mthe page in headless Chromium\x1b[0m ... \x1b[33mignored\x1b[0m \x1b[38;5;245m(0ms)\x1b[0m",
    "other test ... ok (3ms)",
    "",
    "\x1b[0m\x1b[32mok\x1b[0m | 307 passed (4 steps) | 0 failed | 1 ignored \x1b[38;5;245m(1m2s)\x1b[0m",
  ].join("\n");
  const counts = parseTestOutput(output);
  assert.deepEqual(counts, { passed: 307, failed: 0, skipped: 1, skippedNames: ["the page in headless Chromium"] });
  assert.equal(formatCounts(counts!), "307 passed, 0 failed, 1 skipped");
});

Deno.test("parseTestOutput() reads failures, no ignored field, and the last of several summaries", () => {
  assert.deepEqual(parseTestOutput("FAILED | 10 passed | 2 failed (1s)"), {
    passed: 10,
    failed: 2,
    skipped: 0,
    skippedNames: [],
  });
  const two = "ok | 1 passed | 0 failed (1ms)\nFAILED | 5 passed | 1 failed | 2 ignored | 3 filtered out (2s)";
  assert.deepEqual(parseTestOutput(two), { passed: 5, failed: 1, skipped: 2, skippedNames: [] });
  assert.equal(parseTestOutput("error: Module not found"), null);
  // A test whose name merely mentions "ignored" is not skipped.
  assert.deepEqual(ignoredTestNames("ignored headers are dropped ... ok (1ms)\nx ... ignored (0ms)"), ["x"]);
  // With --parallel, Deno prefixes the file.
  assert.deepEqual(ignoredTestNames("./tests/browser_test.ts => the page ... ignored (0ms)"), [
    "./tests/browser_test.ts => the page",
  ]);
});
