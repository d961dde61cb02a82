/**
 * A fresh stack under a concurrent burst: gateway and edge as real processes, a new in-memory policy (so it explores
 * deep arms, offloads and opens sessions lazily, as on any first start), rate limit off, three models, and a burst of
 * short SST-2 sentences, long IMDb reviews and sentence pairs at concurrency 16 right after start-up. Every request is
 * answered 200 and neither log shows a WebAssembly trap or an internal error: all runs and session creations of the
 * edge's onnxruntime-web instance go through one lock (edge/runtime/wasm_lock.ts). Without it this burst got 4 of 120 answers 500.
 */
import { expect } from "expect";
import { readSst2 } from "./e2e_helpers.ts";
import { spawnService } from "./e2e_spawn.ts";

const TOKEN = "burst-token-0123456789abcdef";
const CONCURRENCY = 16;
const MODELS = "models/sentiment,models/paraphrase,models/entailment";

async function imdbReviews(n: number): Promise<string[]> {
  const fixture = JSON.parse(await Deno.readTextFile(new URL("./fixtures/tokenizer/imdb_500.json", import.meta.url)));
  return (fixture.samples as { text: string }[]).map((s) => s.text).filter((t) => t.length > 1500).slice(0, n);
}

Deno.test({
  name: "e2e burst: a fresh stack answers concurrent short, long and pair requests with no 5xx and no trap",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const sentences = (await readSst2()).map((s) => s.text).slice(0, 60);
    const reviews = await imdbReviews(30);
    expect(reviews.length).toBe(30);
    const bodies: Record<string, string>[] = [];
    for (let i = 0; i < 120; i++) {
      if (i % 4 === 1) bodies.push({ text: reviews[i % reviews.length]! });
      else if (i % 6 === 2) {
        bodies.push({ model: "paraphrase-en", text: sentences[i % 60]!, textPair: sentences[(i + 7) % 60]! });
      } else if (i % 6 === 4) {
        bodies.push({ model: "entailment-en", text: sentences[i % 60]!, textPair: sentences[(i + 3) % 60]! });
      } else bodies.push({ text: sentences[i % 60]! });
    }
    const gateway = await spawnService("gateway/main.ts", {
      GATEWAY_PORT: "0",
      GATEWAY_TOKEN: TOKEN,
      GATEWAY_INTRA_OP_THREADS: "1",
      GATEWAY_MODEL_DIRS: MODELS,
    }, /serving .* on (http:\/\/\S+)/);
    let edge;
    try {
      edge = await spawnService("edge/main.ts", {
        EDGE_PORT: "0",
        GATEWAY_URL: gateway.url,
        GATEWAY_TOKEN: TOKEN,
        EDGE_KV_PATH: ":memory:",
        EDGE_MODEL_DIRS: MODELS,
        EDGE_RATE_LIMIT_RPS: "0",
      }, /listening on (http:\/\/\S+)/);
      const url = edge.url;
      const statuses: number[] = new Array(bodies.length);
      let next = 0;
      const worker = async () => {
        while (next < bodies.length) {
          const i = next++;
          const res = await fetch(`${url}/v1/classify`, {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify(bodies[i]),
            signal: AbortSignal.timeout(60_000),
          });
          await res.body?.cancel();
          statuses[i] = res.status;
        }
      };
      await Promise.all(Array.from({ length: CONCURRENCY }, worker));
      const counts: Record<number, number> = {};
      for (const s of statuses) counts[s] = (counts[s] ?? 0) + 1;
      expect(counts).toEqual({ 200: bodies.length });
      const logs = edge.output() + gateway.output();
      expect(logs).not.toMatch(/RuntimeError|unaligned|OrtRun|internal-error|trapped/);
    } finally {
      await edge?.kill();
      await gateway.kill();
    }
  },
});
