import assert from "node:assert/strict";
import type { SegmentRunner } from "../shared/tensor.ts";
import { WireError } from "../shared/wire/mod.ts";
import { createModelTable, type ServedModel } from "./models.ts";

function fakeRunner(layers: number): SegmentRunner {
  const unused = () => Promise.reject(new Error("unused"));
  return { layers, embed: unused, layer: unused, dispose: () => Promise.resolve() };
}

const A: ServedModel = { id: "a", version: "aaaaaaaaaaaaaaaa", layers: 12, hiddenSize: 128, maxLength: 256 };
const B: ServedModel = { id: "b", version: "bbbbbbbbbbbbbbbb", layers: 6, hiddenSize: 64, maxLength: 32 };

Deno.test("createModelTable() routes by id to each model's own limits, runner and batcher", () => {
  const runners = [fakeRunner(12), fakeRunner(6)];
  const table = createModelTable([{ runner: runners[0]!, model: A }, { runner: runners[1]!, model: B }], {
    maxBatch: 4,
    waitMs: 0,
  });
  assert.deepEqual(table.limitsFor({ id: "b", version: "anything" }), {
    model: { id: "b", version: B.version },
    layers: 6,
    hiddenSize: 64,
    maxTokens: 32,
  });
  assert.equal(table.route({ id: "a", version: A.version }).runner, runners[0]);
  assert.ok(table.route(A).batcher && table.route(B).batcher && table.route(A).batcher !== table.route(B).batcher);
  assert.equal(createModelTable([{ runner: runners[0]!, model: A }]).route(A).batcher, undefined);
});

Deno.test("createModelTable() answers an unknown id with a model_mismatch whose problem lists the served models", () => {
  const table = createModelTable([{ runner: fakeRunner(12), model: A }, { runner: fakeRunner(6), model: B }]);
  let err: unknown;
  try {
    table.limitsFor({ id: "c", version: "cccccccccccccccc" });
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof WireError && err.code === "model_mismatch");
  assert.match(err.message, /"c", which this gateway does not serve; it serves a@aaaaaaaaaaaaaaaa, b@bbbbbbbbbbbbbbbb/);
  const problem = table.problem(err);
  assert.equal(problem.status, 409);
  assert.deepEqual(problem.extensions.served, [{ id: "a", version: A.version }, { id: "b", version: B.version }]);
  assert.equal(table.problem(new WireError("non_finite", "hidden", "NaN")).extensions.served, undefined);
});

Deno.test("createModelTable() refuses no models, duplicate ids and runners with another layer count", () => {
  assert.throws(() => createModelTable([]), /at least one model/);
  assert.throws(
    () => createModelTable([{ runner: fakeRunner(12), model: A }, { runner: fakeRunner(12), model: { ...A } }]),
    /Two models have the id a/,
  );
  assert.throws(() => createModelTable([{ runner: fakeRunner(12), model: B }]), /Runner has 12 layers but the model b/);
});
