import assert from "node:assert/strict";
import { internalProblem, PROBLEM_TYPE_BASE, ProblemError, problemJson, toProblem } from "./problem.ts";

Deno.test("problemJson() writes the RFC 9457 members and extensions, standard members winning clashes", () => {
  const err = new ProblemError({
    status: 409,
    slug: "model-mismatch",
    title: "Model mismatch",
    detail: "Request is for sentiment-en@0000 but this gateway serves sentiment-en@7bce",
    extensions: { expected: { id: "sentiment-en" }, status: 200, type: "spoof" },
  });
  assert.deepEqual(problemJson(err, "/v1/complete"), {
    expected: { id: "sentiment-en" },
    type: `${PROBLEM_TYPE_BASE}model-mismatch`,
    title: "Model mismatch",
    status: 409,
    detail: "Request is for sentiment-en@0000 but this gateway serves sentiment-en@7bce",
    instance: "/v1/complete",
  });
  assert.equal(err.message, err.detail);
});

Deno.test("ProblemError rejects statuses outside 4xx/5xx and slugs that are not kebab-case", () => {
  assert.throws(() => new ProblemError({ status: 200, slug: "ok", title: "OK" }), /400..599/);
  assert.throws(() => new ProblemError({ status: 400, slug: "Bad Input", title: "x" }), /kebab-case/);
});

Deno.test("toProblem() hides unexpected errors behind a generic 500 that keeps the cause for logs", () => {
  const secret = new Error("db password is hunter2");
  const problem = toProblem(secret);
  assert.equal(problem.status, 500);
  assert.equal(problem.cause, secret);
  const body = JSON.stringify(problemJson(problem));
  assert.ok(!body.includes("hunter2") && !body.includes("stack"), body);
  const known = internalProblem();
  assert.equal(toProblem(known), known);
});
