import assert from "node:assert/strict";
import { isWasmTrap, WasmLock, WasmTrapError } from "./wasm_lock.ts";

const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));

Deno.test("WasmLock runs calls one at a time, in order, even when each yields", async () => {
  const lock = new WasmLock();
  const events: string[] = [];
  const call = (name: string) =>
    lock.exclusive(async () => {
      events.push(`${name}:start`);
      await tick();
      await tick();
      events.push(`${name}:end`);
      return name;
    });
  assert.deepEqual(await Promise.all([call("a"), call("b"), call("c")]), ["a", "b", "c"]);
  assert.deepEqual(events, ["a:start", "a:end", "b:start", "b:end", "c:start", "c:end"]);
  assert.equal(lock.maxConcurrent, 1);
});

Deno.test("WasmLock: an ordinary error fails only its own call", async () => {
  const lock = new WasmLock();
  await assert.rejects(lock.exclusive(() => Promise.reject(new Error("bad feed"))), /bad feed/);
  assert.equal(await lock.exclusive(() => Promise.resolve(7)), 7);
  assert.equal(lock.trapped, false);
});

Deno.test("WasmLock: a WebAssembly trap latches the lock, tells listeners once and refuses every later call", async () => {
  const lock = new WasmLock();
  const seen: unknown[] = [];
  lock.onTrap((e) => seen.push(e));
  const trap = new WebAssembly.RuntimeError("operation does not support unaligned accesses");
  assert.ok(isWasmTrap(trap));
  assert.ok(!isWasmTrap(new Error("x")));
  let ranAfter = false;
  const failing = lock.exclusive(() => Promise.reject(trap));
  const queued = lock.exclusive(() => {
    ranAfter = true;
    return Promise.resolve(1);
  });
  const first = await failing.catch((e) => e);
  assert.ok(first instanceof WasmTrapError);
  assert.equal(first.status, 503);
  assert.equal(first.cause, trap);
  await assert.rejects(queued, WasmTrapError);
  await assert.rejects(lock.exclusive(() => Promise.resolve(2)), WasmTrapError);
  assert.equal(ranAfter, false, "nothing runs on a trapped instance");
  assert.equal(lock.trapped, true);
  lock.trip(new Error("again"));
  assert.deepEqual(seen, [trap]);
  const late: unknown[] = [];
  lock.onTrap((e) => late.push(e));
  assert.deepEqual(late, [trap], "a listener added after the trap hears of it at once");
});
