import assert from "node:assert/strict";
import { InputError } from "./exits_input.ts";
import { describeMerge, mergeProbs, parseMergeClasses } from "./exits_merge.ts";

const NLI = ["entailment", "neutral", "contradiction"];

Deno.test("parseMergeClasses() groups the model's classes and mergeProbs() sums each group", () => {
  const merge = parseMergeClasses("entailment; neutral + contradiction", NLI);
  assert.deepEqual(merge, { groups: [[0], [1, 2]], names: ["entailment", "neutral+contradiction"] });
  const merged = mergeProbs([0.5, 0.3, 0.2], merge);
  assert.equal(merged.length, 2);
  assert.ok(Math.abs(merged[0]! - 0.5) < 1e-12 && Math.abs(merged[1]! - 0.5) < 1e-12, String(merged));
  assert.equal(
    describeMerge(merge),
    "--merge-classes: output class 0 = entailment, 1 = neutral+contradiction (probabilities summed)",
  );
  // Groups may list classes in any order; the identity merge returns the probabilities unchanged.
  assert.deepEqual(parseMergeClasses("contradiction+entailment;neutral", NLI).groups, [[2, 0], [1]]);
  assert.deepEqual(mergeProbs([0.1, 0.7, 0.2], parseMergeClasses("entailment;neutral;contradiction", NLI)), [
    0.1,
    0.7,
    0.2,
  ]);
});

Deno.test("parseMergeClasses() rejects unknown, repeated, missing and empty class names", () => {
  const error = (spec: string, message: RegExp) =>
    assert.throws(() => parseMergeClasses(spec, NLI), (e) => e instanceof InputError && message.test(e.message));
  error("entailment;neutral+contradicton", /unknown class "contradicton"; the model's classes: entailment, neutral/);
  error("entailment;neutral+entailment;contradiction", /class "entailment" appears more than once/);
  error("entailment;neutral", /"contradiction" in no group; each of the model's classes .* must appear exactly once/);
  error("entailment;;neutral+contradiction", /group 2 \(""\) has an empty class name/);
  error("entailment;neutral+", /group 2 .* has an empty class name/);
});
