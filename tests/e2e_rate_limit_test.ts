/**
 * The rate limit cannot be dodged with made-up credentials: a real edge process (edge/main.ts, default limit of 20
 * requests per second with bursts of 40, API keys off) gets 200 concurrent requests from one client, each with a
 * random `X-API-Key` or Bearer token; they share the client's one bucket, so about a burst's worth is answered and the
 * rest get 429 with `Retry-After`.
 */
import { expect } from "expect";
import { spawnService } from "./e2e_spawn.ts";

Deno.test({
  name: "e2e rate limit: 200 concurrent requests with random keys from one client share one bucket",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const edge = await spawnService("edge/main.ts", {
      EDGE_PORT: "0",
      EDGE_MODEL_DIR: "models/sentiment",
      EDGE_KV_PATH: ":memory:",
      GATEWAY_URL: "http://127.0.0.1:9", // nothing listens: answers come from the edge (degraded when it offloads)
      SPLITEE_POLICY: "final",
    }, /listening on (http:\/\/\S+)/);
    try {
      const start = performance.now();
      const statuses = await Promise.all(Array.from({ length: 200 }, async (_, i) => {
        const key = crypto.randomUUID();
        const res = await fetch(`${edge.url}/v1/classify`, {
          method: "POST",
          headers: {
            "content-type": "application/json",
            ...(i % 2 === 0 ? { "x-api-key": key } : { authorization: `Bearer ${key}` }),
          },
          body: JSON.stringify({ text: "a charming and often affecting journey" }),
        });
        const retryAfter = res.headers.get("retry-after");
        await res.body?.cancel();
        return { status: res.status, retryAfter };
      }));
      const seconds = (performance.now() - start) / 1000;
      const ok = statuses.filter((s) => s.status === 200).length;
      const limited = statuses.filter((s) => s.status === 429);
      console.log(`   ${ok} x 200, ${limited.length} x 429 in ${seconds.toFixed(2)} s`);
      expect(ok + limited.length).toBe(200);
      // The burst (40) plus what refills at 20/s while the 200 are being answered.
      expect(ok).toBeGreaterThanOrEqual(40);
      expect(ok).toBeLessThanOrEqual(40 + Math.ceil(20 * seconds) + 1);
      expect(limited.every((s) => Number(s.retryAfter) >= 1)).toBe(true);
    } finally {
      await edge.kill();
    }
  },
});
