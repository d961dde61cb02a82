/**
 * Helpers of the end-to-end tests: the default model on onnxruntime-web, the SST-2 fixture, an edge service built
 * from env overrides, and a classify call that insists on a 200.
 * @module
 */

import type { Hono } from "hono";
import type { Classification } from "../edge/classifier.ts";
import { loadWebRunner } from "../edge/runtime/onnx.ts";
import { createEdgeService, type EdgeService } from "../edge/service.ts";
import { loadModelFiles, MODEL_DIR, testConfig } from "../edge/testing.ts";
import type { SegmentRunner } from "../shared/tensor.ts";

/** The default model's manifest, vocabulary and an onnxruntime-web runner (sessions open lazily). */
export async function loadEdgeModel() {
  const { manifest, vocabText } = await loadModelFiles();
  const edgeRunner = await loadWebRunner({ manifest, files: (name) => Deno.readFile(new URL(name, MODEL_DIR)) });
  return { manifest, vocabText, edgeRunner };
}

/** The 200 SST-2 dev sentences of tests/fixtures/e2e/sst2_dev_200.tsv. */
export async function readSst2(): Promise<Array<{ text: string; label: number }>> {
  const tsv = await Deno.readTextFile(new URL("./fixtures/e2e/sst2_dev_200.tsv", import.meta.url));
  return tsv.split("\n").slice(1).filter((l) => l.trim() !== "").map((line) => {
    const [text, label] = line.split("\t");
    return { text: text!.trim(), label: Number(label) };
  });
}

/** An edge service with its own KV (from `EDGE_KV_PATH`, default in-memory); `close` also closes the KV. */
export async function edgeService(
  env: Record<string, string>,
  runner: SegmentRunner,
  fetch: (req: Request) => Response | Promise<Response>,
  options: { now?: () => number } = {},
): Promise<EdgeService & { kv: Deno.Kv }> {
  const config = testConfig(env);
  const { manifest, vocabText } = await loadModelFiles();
  const kv = await Deno.openKv(config.kv.path);
  const service = await createEdgeService({
    config,
    models: [{ manifest, vocabText, runner }],
    kv,
    fetch,
    seed: 7,
    ...(options.now ? { now: options.now } : {}),
  });
  return {
    ...service,
    kv,
    close: async () => {
      await service.close();
      kv.close();
    },
  };
}

/** POSTs one classification and returns the body; throws with the problem body on a non-200. */
export async function classifyVia(
  app: Hono,
  body: { text: string; textPair?: string; model?: string },
): Promise<Classification> {
  const res = await app.request("/v1/classify", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  if (res.status !== 200) throw new Error(`classify answered ${res.status}: ${await res.text()}`);
  return await res.json();
}

/** Runs `fn` with a fresh temporary directory, removed afterwards. */
export async function withTempDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "splitee-e2e-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/**
 * A milliseconds clock that moves only when told to: tests that depend on measured times (costs, decay, breaker
 * cooldown) give it to the edge and advance it by fixed amounts, so their outcome does not depend on the machine's
 * speed or load.
 */
export class VirtualClock {
  #ms = 0;
  /** The current virtual time. */
  readonly now = (): number => this.#ms;
  /** Moves the clock forward by `ms`. */
  advance(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`VirtualClock.advance needs ms >= 0, got ${ms}`);
    this.#ms += ms;
  }
}

/** `runner` whose every layer takes exactly `msPerLayer` on `clock` (the embedding takes no time). */
export function clockedRunner(runner: SegmentRunner, clock: VirtualClock, msPerLayer: number): SegmentRunner {
  return {
    layers: runner.layers,
    embed: (ids, types) => runner.embed(ids, types),
    layer: async (k, hidden, mask) => {
      const out = await runner.layer(k, hidden, mask);
      clock.advance(msPerLayer);
      return out;
    },
    dispose: () => runner.dispose(),
  };
}
