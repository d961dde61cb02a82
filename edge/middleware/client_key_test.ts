import { expect } from "expect";
import { Hono } from "hono";
import { clientAddress, rateLimitKey } from "./client_key.ts";
import { rateLimit } from "./rate_limit.ts";

Deno.test("clientAddress() believes X-Forwarded-For only from a trusted proxy, right to left", () => {
  expect(clientAddress("203.0.113.9", "1.2.3.4", [])).toBe("203.0.113.9");
  expect(clientAddress("203.0.113.9", "1.2.3.4", ["10.0.0.2"])).toBe("203.0.113.9"); // not from the proxy
  expect(clientAddress("10.0.0.2", "1.2.3.4", ["10.0.0.2"])).toBe("1.2.3.4");
  // The client wrote "6.6.6.6" itself; the proxy appended the address it saw.
  expect(clientAddress("10.0.0.2", "6.6.6.6, 198.51.100.7", ["10.0.0.2"])).toBe("198.51.100.7");
  // Two trusted proxies in a row.
  expect(clientAddress("10.0.0.2", "198.51.100.7, 10.0.0.3", ["10.0.0.2", "10.0.0.3"])).toBe("198.51.100.7");
  expect(clientAddress("::ffff:10.0.0.2", "198.51.100.7", ["10.0.0.2"])).toBe("198.51.100.7");
  expect(clientAddress("10.0.0.2", undefined, ["10.0.0.2"])).toBe("10.0.0.2");
  expect(clientAddress(undefined, "1.2.3.4", ["10.0.0.2"])).toBeUndefined();
});

/** An app limited to 3 requests per client (no refill during the test). */
function limited(options: Parameters<typeof rateLimitKey>[0]) {
  const app = new Hono();
  app.use("*", rateLimit({ rps: 0.001, burst: 3, clientKey: rateLimitKey(options), now: () => 0 }));
  app.post("/", (c) => c.text("ok"));
  app.onError((e) => c429(e));
  return async (headers: Record<string, string>, hostname = "192.0.2.10"): Promise<Response> =>
    await app.request("/", { method: "POST", headers }, { remoteAddr: { hostname, port: 1, transport: "tcp" } });
}

function c429(e: Error): Response {
  return new Response(e.message, { status: (e as { status?: number }).status ?? 500 });
}

Deno.test("with API keys off, many random keys from one client share that client's bucket", async () => {
  const send = limited({ apiKeys: false, trustedProxies: [] });
  const statuses = await Promise.all(Array.from({ length: 50 }, (_, i) => {
    const key = crypto.randomUUID();
    return send(i % 2 === 0 ? { "x-api-key": key } : { authorization: `Bearer ${key}` }).then((r) => r.status);
  }));
  expect(statuses.filter((s) => s === 200)).toHaveLength(3);
  expect(statuses.filter((s) => s === 429)).toHaveLength(47);
  expect((await send({}, "192.0.2.11")).status).toBe(200); // another address has its own bucket
  // A forged X-Forwarded-For does not help either (no trusted proxy configured).
  expect((await send({ "x-forwarded-for": "198.51.100.1" })).status).toBe(429);
});

Deno.test("behind a trusted proxy each forwarded client gets its own bucket", async () => {
  const send = limited({ apiKeys: false, trustedProxies: ["10.0.0.2"] });
  const via = (client: string) => send({ "x-forwarded-for": client }, "10.0.0.2").then((r) => r.status);
  for (let i = 0; i < 3; i++) expect(await via("198.51.100.1")).toBe(200);
  expect(await via("198.51.100.1")).toBe(429);
  expect(await via("6.6.6.6, 198.51.100.1")).toBe(429); // a prefix the client wrote changes nothing
  expect(await via("198.51.100.2")).toBe(200);
});

Deno.test("with API keys on, each (already checked) key has its own bucket", async () => {
  const send = limited({ apiKeys: true, trustedProxies: [] });
  for (let i = 0; i < 3; i++) expect((await send({ "x-api-key": "k-one" })).status).toBe(200);
  expect((await send({ "x-api-key": "k-one" })).status).toBe(429);
  expect((await send({ authorization: "Bearer k-two" })).status).toBe(200);
});
