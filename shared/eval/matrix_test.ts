import assert from "node:assert/strict";
import { confidenceRow, ExitMatrixBuilder, ExitsFormatError, parseExitsJsonl } from "./matrix.ts";
import { TINY_JSONL } from "./testing.ts";

Deno.test("parseExitsJsonl() keeps max probability and argmax per exit, and -1 for a null label", () => {
  const m = parseExitsJsonl(TINY_JSONL);
  assert.deepEqual([m.samples, m.layers, m.classes], [8, 3, 2]);
  assert.deepEqual([...confidenceRow(m, 1)], [0.6, 0.8, 0.9]);
  assert.deepEqual([...m.predictions.subarray(3, 6)], [1, 0, 0]);
  // A tie (0.5, 0.5) predicts the first class.
  assert.equal(m.predictions[4 * 3], 0);
  assert.deepEqual([...m.labels], [1, 0, 1, 0, 1, 0, -1, 1]);
});

Deno.test("the builder grows past its initial capacity", () => {
  const b = new ExitMatrixBuilder();
  for (let i = 0; i < 2500; i++) b.addLine(`{"label": ${i % 2}, "probs": [[0.25, 0.75]]}`, i + 1);
  const m = b.finish();
  assert.equal(m.samples, 2500);
  assert.equal(m.labels[2499], 1);
  assert.equal(m.confidences.length, 2500);
});

Deno.test("format errors name the line and the problem", () => {
  const err = (text: string) => {
    try {
      parseExitsJsonl(text);
    } catch (e) {
      assert.ok(e instanceof ExitsFormatError);
      return e.message;
    }
    assert.fail("expected ExitsFormatError");
  };
  const ok = '{"label": 0, "probs": [[0.5, 0.5], [0.2, 0.8]]}';
  assert.match(err(`${ok}\n{"label": 0, "probs": [[0.5, 0.5],]}`), /^line 2: malformed JSON \(/);
  assert.equal(err(`${ok}\n\n{"label": 0, "probs": [[0.5, 0.5]]}`), "line 3: 1 exits, but line 1 has 2");
  assert.equal(
    err(`${ok}\n{"label": 0, "probs": [[0.5, 0.5], [0.2, 0.7]]}`),
    "line 2: exit 2 probabilities sum to 0.8999999999999999 (expected 1 ± 0.001)",
  );
  assert.equal(
    err(`{"label": 0, "probs": [[0.5, 0.5], [0.2, 0.6, 0.2]]}`),
    "line 1: exit 2 has 3 class probabilities, expected 2",
  );
  assert.equal(
    err(`{"label": 2, "probs": [[0.5, 0.5]]}`),
    'line 1: "label" must be null or an integer in 0..1 (got 2)',
  );
  assert.equal(err(`{"probs": [[0.5, 0.5]]}`), 'line 1: "label" is missing (use null for an unlabelled sample)');
  assert.equal(err(`{"label": 0, "probs": [[1.5, -0.5]]}`), "line 1: exit 1 probability 0 is 1.5 (must be in [0, 1])");
  assert.equal(err(`[1, 2]`), 'line 1: expected an object {"label": int|null, "probs": [[...], ...]}');
  assert.equal(
    err(`{"label": 0, "probs": []}`),
    'line 1: "probs" must be a non-empty array with one probability array per exit',
  );
  assert.equal(err("\n\n"), "no samples: the input has no non-blank line");
});
