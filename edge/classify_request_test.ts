import { expect } from "expect";
import { ProblemError } from "../shared/problem.ts";
import { parseClassifyRequest } from "./classify_request.ts";

const SINGLE = { maxTextChars: 50, models: [{ id: "m", task: "single" as const }] };
const PAIR = { maxTextChars: 50, models: [{ id: "p", task: "pair" as const }] };
const BOTH = { maxTextChars: 50, models: [{ id: "m", task: "single" as const }, { id: "p", task: "pair" as const }] };
const body = (v: unknown) => new TextEncoder().encode(JSON.stringify(v));

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
  expect(parseClassifyRequest("application/json", body({ text: "ok" }), SINGLE)).toEqual({ text: "ok" });
  expect(parseClassifyRequest("application/json; charset=UTF-8", body({ text: "ok", model: "m" }), SINGLE)).toEqual({
    text: "ok",
    model: "m",
  });
  expect(parseClassifyRequest("application/json", body({ text: "a", textPair: "b" }), PAIR)).toEqual({
    text: "a",
    textPair: "b",
  });
});

Deno.test("parseClassifyRequest() checks textPair against the model the request names, default the first", () => {
  expect(parseClassifyRequest("application/json", body({ text: "a" }), BOTH)).toEqual({ text: "a" });
  expect(parseClassifyRequest("application/json", body({ text: "a", textPair: "b", model: "p" }), BOTH)).toEqual({
    text: "a",
    textPair: "b",
    model: "p",
  });
  const pairOnDefault = problemOf(() =>
    parseClassifyRequest("application/json", body({ text: "a", textPair: "b" }), BOTH)
  );
  expect(pairOnDefault.detail).toContain("Model m classifies single texts");
  const missingPair = problemOf(() => parseClassifyRequest("application/json", body({ text: "a", model: "p" }), BOTH));
  expect(missingPair.detail).toContain("textPair: Required");
  const unknown = problemOf(() => parseClassifyRequest("application/json", body({ text: "a", model: "x" }), BOTH));
  expect([unknown.status, unknown.detail]).toEqual([422, 'model: Unknown model "x"; this edge serves m, p']);
});

Deno.test("parseClassifyRequest() lists every field problem in one 422", () => {
  const p = problemOf(() => parseClassifyRequest("application/json", body({ text: " ", textPair: 3, foo: 1 }), PAIR));
  expect(p.status).toBe(422);
  expect((p.extensions.errors as Array<{ field: string }>).map((e) => e.field).sort()).toEqual([
    "foo",
    "text",
    "textPair",
  ]);
  const missingPair = problemOf(() => parseClassifyRequest("application/json", body({ text: "a" }), PAIR));
  expect(missingPair.detail).toContain("textPair: Required");
});

Deno.test("parseClassifyRequest() maps encoding, syntax and size problems to 415, 400 and 413", () => {
  expect(problemOf(() => parseClassifyRequest(undefined, body({ text: "a" }), SINGLE)).status).toBe(415);
  expect(problemOf(() => parseClassifyRequest("application/json", new Uint8Array([0xc3, 0x28]), SINGLE)).slug).toBe(
    "invalid-utf8",
  );
  expect(problemOf(() => parseClassifyRequest("application/json", new Uint8Array(), SINGLE)).slug).toBe(
    "malformed-json",
  );
  const tooLong = problemOf(() => parseClassifyRequest("application/json", body({ text: "x".repeat(51) }), SINGLE));
  expect([tooLong.status, tooLong.slug]).toEqual([413, "text-too-long"]);
});
