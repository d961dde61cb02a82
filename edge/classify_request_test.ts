import { expect } from "expect";
import { ProblemError } from "../shared/problem.ts";
import type { ClassifyInput } from "./classifier.ts";
import { type ClassifyRequestLimits, parseClassifyRequest } from "./classify_request.ts";

const SINGLE = { maxTextChars: 50, models: [{ id: "m", task: "single" as const }] };
const PAIR = { maxTextChars: 50, models: [{ id: "p", task: "pair" as const }] };
const BOTH = { maxTextChars: 50, models: [{ id: "m", task: "single" as const }, { id: "p", task: "pair" as const }] };
const body = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));
/** The input of a single-input body. */
function parseOne(contentType: string | undefined, bytes: Uint8Array, limits: ClassifyRequestLimits): ClassifyInput {
  const r = parseClassifyRequest(contentType, bytes, limits);
  if (r.kind !== "single") throw new Error("expected a single input");
  return r.input;
}

function problemOf(fn: () => unknown): ProblemError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProblemError) return e;
    throw e;
  }
  throw new Error("expected a ProblemError");
}

Deno.test("parseClassifyRequest() accepts a text, a pair for pair models, charset utf-8 and the served model id", () => {
  expect(parseOne("application/json", body({ text: "ok" }), SINGLE)).toEqual({ text: "ok" });
  expect(parseOne("application/json; charset=UTF-8", body({ text: "ok", model: "m" }), SINGLE)).toEqual({
    text: "ok",
    model: "m",
  });
  expect(parseOne("application/json", body({ text: "a", textPair: "b" }), PAIR)).toEqual({
    text: "a",
    textPair: "b",
  });
});

Deno.test("parseClassifyRequest() checks textPair against the model the request names, default the first", () => {
  expect(parseOne("application/json", body({ text: "a" }), BOTH)).toEqual({ text: "a" });
  expect(parseOne("application/json", body({ text: "a", textPair: "b", model: "p" }), BOTH)).toEqual({
    text: "a",
    textPair: "b",
    model: "p",
  });
  const pairOnDefault = problemOf(() => parseOne("application/json", body({ text: "a", textPair: "b" }), BOTH));
  expect(pairOnDefault.detail).toContain("Model m classifies single texts");
  const missingPair = problemOf(() => parseOne("application/json", body({ text: "a", model: "p" }), BOTH));
  expect(missingPair.detail).toContain("textPair: Required");
  const unknown = problemOf(() => parseOne("application/json", body({ text: "a", model: "x" }), BOTH));
  expect([unknown.status, unknown.detail]).toEqual([422, 'model: Unknown model "x"; this edge serves m, p']);
});

Deno.test("parseClassifyRequest() lists every field problem in one 422", () => {
  const p = problemOf(() => parseOne("application/json", body({ text: " ", textPair: 3, foo: 1 }), PAIR));
  expect(p.status).toBe(422);
  expect((p.extensions.errors as Array<{ field: string }>).map((e) => e.field).sort()).toEqual([
    "foo",
    "text",
    "textPair",
  ]);
  const missingPair = problemOf(() => parseOne("application/json", body({ text: "a" }), PAIR));
  expect(missingPair.detail).toContain("textPair: Required");
});

Deno.test("parseClassifyRequest() maps encoding, syntax and size problems to 415, 400 and 413", () => {
  expect(problemOf(() => parseOne(undefined, body({ text: "a" }), SINGLE)).status).toBe(415);
  expect(problemOf(() => parseOne("application/json", new Uint8Array([0xc3, 0x28]), SINGLE)).slug).toBe(
    "invalid-utf8",
  );
  expect(problemOf(() => parseOne("application/json", new Uint8Array(), SINGLE)).slug).toBe(
    "malformed-json",
  );
  const tooLong = problemOf(() => parseOne("application/json", body({ text: "x".repeat(51) }), SINGLE));
  expect([tooLong.status, tooLong.slug]).toEqual([413, "text-too-long"]);
});

const SPLITS = {
  maxTextChars: 50,
  maxBatch: 3,
  models: [{ id: "m", task: "single" as const, maxSplit: 12 }, { id: "p", task: "pair" as const, maxSplit: 4 }],
};

Deno.test("parseClassifyRequest() accepts a pinned split within the model's maximum split and earlyExit booleans", () => {
  expect(parseOne("application/json", body({ text: "a", split: 12, earlyExit: false }), SPLITS)).toEqual({
    text: "a",
    split: 12,
    earlyExit: false,
  });
  const deep = problemOf(() =>
    parseOne("application/json", body({ text: "a", textPair: "b", model: "p", split: 5 }), SPLITS)
  );
  expect([deep.status, deep.detail]).toEqual([422, "split: Must be an integer split layer in 1..4 (model p), not 5"]);
  for (const split of [0, 1.5, "3", null]) {
    expect(problemOf(() => parseOne("application/json", body({ text: "a", split }), SPLITS)).status).toBe(422);
  }
  const early = problemOf(() => parseOne("application/json", body({ text: "a", earlyExit: "no" }), SPLITS));
  expect(early.detail).toBe("earlyExit: Must be true or false, not a string");
});

Deno.test("parseClassifyRequest() parses a batch in order; an invalid input becomes its own problem with its index", () => {
  const r = parseClassifyRequest(
    "application/json",
    body({
      model: "p",
      inputs: [{ text: "a", textPair: "b" }, { text: "c" }, { text: "x".repeat(51), textPair: "d", split: 2 }],
    }),
    SPLITS,
  );
  if (r.kind !== "batch") throw new Error("expected a batch");
  expect(r.items[0]).toEqual({ text: "a", textPair: "b", model: "p" });
  const missing = r.items[1] as ProblemError;
  expect([missing.status, missing.slug, missing.extensions.index, missing.detail]).toEqual([
    422,
    "invalid-request",
    1,
    "inputs[1]: textPair: Required",
  ]);
  const tooLong = r.items[2] as ProblemError;
  expect([tooLong.status, tooLong.slug, tooLong.extensions.index]).toEqual([413, "text-too-long", 2]);
  // Without a model the default one applies, and the inputs carry no model.
  const d = parseClassifyRequest("application/json", body({ inputs: [{ text: "a", split: 3 }, "b"] }), SPLITS);
  if (d.kind !== "batch") throw new Error("expected a batch");
  expect(d.items[0]).toEqual({ text: "a", split: 3 });
  expect((d.items[1] as ProblemError).detail).toBe(
    "inputs[1]: Each element of inputs must be a JSON object, not a string",
  );
  const perItemModel = parseClassifyRequest("application/json", body({ inputs: [{ text: "a", model: "m" }] }), SPLITS);
  expect(perItemModel.kind === "batch" && (perItemModel.items[0] as ProblemError).detail).toBe(
    "inputs[0]: model: Name the model once, beside inputs",
  );
});

Deno.test("parseClassifyRequest() refuses a whole batch that is empty, not an array, too large, mixed or for an unknown model", () => {
  const parse = (v: unknown) => problemOf(() => parseClassifyRequest("application/json", body(v), SPLITS));
  expect(parse({ inputs: [] }).detail).toBe("inputs: Must not be empty");
  expect(parse({ inputs: "a" }).detail).toBe("inputs: Must be an array, not a string");
  expect(parse({ inputs: [{ text: "a" }], text: "b" }).detail).toBe(
    "text: Belongs in each element of inputs (beside inputs only model is allowed)",
  );
  expect(parse({ inputs: [{ text: "a" }], model: "x" }).detail).toBe('model: Unknown model "x"; this edge serves m, p');
  const big = parse({ inputs: [{ text: "a" }, { text: "b" }, { text: "c" }, { text: "d" }] });
  expect([big.status, big.slug, big.extensions.limit, big.detail]).toEqual([
    413,
    "batch-too-large",
    3,
    "inputs has 4 elements; a batch may have at most 3.",
  ]);
});
