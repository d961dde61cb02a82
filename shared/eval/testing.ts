/**
 * Test helpers for the evaluation (imported by `*_test.ts` only).
 * @module
 */

/** The rows of tests/fixtures/eval/tiny.jsonl: L = 3, C = 2, one null label, the last final exit wrong. */
export const TINY_JSONL = [
  '{"label": 1, "probs": [[0.1, 0.9], [0.05, 0.95], [0.01, 0.99]]}',
  '{"label": 0, "probs": [[0.4, 0.6], [0.8, 0.2], [0.9, 0.1]]}',
  '{"label": 1, "probs": [[0.55, 0.45], [0.35, 0.65], [0.3, 0.7]]}',
  '{"label": 0, "probs": [[0.8, 0.2], [0.85, 0.15], [0.95, 0.05]]}',
  '{"label": 1, "probs": [[0.5, 0.5], [0.25, 0.75], [0.15, 0.85]]}',
  '{"label": 0, "probs": [[0.35, 0.65], [0.72, 0.28], [0.92, 0.08]]}',
  '{"label": null, "probs": [[0.3, 0.7], [0.2, 0.8], [0.1, 0.9]]}',
  '{"label": 1, "probs": [[0.75, 0.25], [0.6, 0.4], [0.55, 0.45]]}',
].join("\n") + "\n";
