import assert from "node:assert/strict";
import { createDrain } from "./drain.ts";

const INFO = { remoteAddr: { transport: "tcp", hostname: "127.0.0.1", port: 1 } } as Deno.ServeHandlerInfo;

Deno.test("createDrain() waits for in-flight requests and answers new ones 503 while draining", async () => {
  const drain = createDrain();
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));
  const handler = drain.wrap(async () => {
    await gate;
    return new Response("done");
  });
  const first = handler(new Request("http://x/v1/complete", { method: "POST", body: "a" }), INFO);
  assert.equal(drain.inFlight, 1);
  let drained = false;
  const draining = drain.drain().then(() => (drained = true));
  const late = await handler(new Request("http://x/v1/complete", { method: "POST", body: "b" }), INFO);
  assert.equal(late.status, 503);
  assert.equal(late.headers.get("retry-after"), "1");
  assert.equal(late.headers.get("connection"), "close");
  assert.equal((await late.json()).type, "https://splitee.dev/problems/shutting-down");
  await new Promise((r) => setTimeout(r, 10));
  assert.equal(drained, false, "drain resolved while a request was in flight");
  release();
  assert.equal(await (await first).text(), "done");
  await draining;
  assert.equal(drain.inFlight, 0);
});

Deno.test("createDrain() resolves at once when idle and counts a failing handler out", async () => {
  const drain = createDrain();
  const handler = drain.wrap(() => Promise.reject(new Error("boom")));
  await assert.rejects(Promise.resolve(handler(new Request("http://x/"), INFO)), /boom/);
  assert.equal(drain.inFlight, 0);
  await drain.drain();
});
