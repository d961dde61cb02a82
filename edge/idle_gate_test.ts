import assert from "node:assert/strict";
import { createIdleGate } from "./idle_gate.ts";

/** A promise with its resolve function, to hold a step or a request open. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}
const tick = () => new Promise((r) => setTimeout(r, 0));

Deno.test("runWhenIdle() waits until every request has left", async () => {
  const gate = createIdleGate();
  const log: string[] = [];
  await gate.enter();
  await gate.enter();
  const step = gate.runWhenIdle(() => Promise.resolve(void log.push("step")));
  await tick();
  assert.deepEqual(log, []);
  gate.leave();
  await tick();
  assert.deepEqual(log, [], "one request is still in flight");
  gate.leave();
  await step;
  assert.deepEqual(log, ["step"]);
  assert.equal(gate.inFlight, 0);
});

Deno.test("enter() waits for the background step that is running", async () => {
  const gate = createIdleGate();
  const hold = deferred();
  const log: string[] = [];
  const step = gate.runWhenIdle(async () => {
    log.push("step start");
    await hold.promise;
    log.push("step end");
  });
  await tick();
  const request = gate.enter().then(() => log.push("request"));
  await tick();
  assert.deepEqual(log, ["step start"], "the request does not run alongside the step");
  assert.equal(gate.inFlight, 1);
  hold.resolve();
  await Promise.all([step, request]);
  assert.deepEqual(log, ["step start", "step end", "request"]);
  gate.leave();
});

Deno.test("a request that enters between an idle wake-up and the step's start keeps the step waiting", async () => {
  const gate = createIdleGate();
  const log: string[] = [];
  await gate.enter();
  const step = gate.runWhenIdle(() => Promise.resolve(void log.push("step")));
  gate.leave(); // wakes the step up...
  await gate.enter(); // ...but another request is in flight before its continuation runs
  await tick();
  assert.deepEqual(log, []);
  gate.leave();
  await step;
  assert.deepEqual(log, ["step"]);
});

Deno.test("steps run one at a time, a failed step rejects only its own caller, and leave() checks its pairing", async () => {
  const gate = createIdleGate();
  const hold = deferred();
  let concurrent = 0, most = 0;
  const run = (fail: boolean) =>
    gate.runWhenIdle(async () => {
      most = Math.max(most, ++concurrent);
      await hold.promise;
      concurrent--;
      if (fail) throw new Error("boom");
      return "ok";
    });
  const a = run(true);
  const b = run(false);
  await tick();
  hold.resolve();
  await assert.rejects(a, /boom/);
  assert.equal(await b, "ok");
  assert.equal(most, 1);
  await gate.enter(); // a failed step does not block requests
  gate.leave();
  assert.throws(() => gate.leave(), /without a matching enter/);
});
