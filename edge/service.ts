/**
 * Assembles a running edge from resolved config and loaded parts: policy (shared/policy registry), policy store on
 * Deno KV, cost meter, circuit breaker, offload client, classifier pipeline and HTTP app. main.ts and the end-to-end
 * tests build the edge through this one function, with a real `fetch` or a gateway app's `fetch`.
 * @module
 */

import type { Hono } from "hono";
import type { Manifest } from "../shared/manifest.ts";
import { createPolicy, type Policy } from "../shared/policy/mod.ts";
import { createPrng } from "../shared/prng.ts";
import type { SegmentRunner } from "../shared/tensor.ts";
import { WordPieceTokenizer } from "../shared/tokenizer/mod.ts";
import { createApp } from "./app.ts";
import { CircuitBreaker } from "./circuit_breaker.ts";
import { classify, type DecisionLogEntry } from "./classifier.ts";
import type { EdgeConfig } from "./config.ts";
import { CostMeter } from "./cost_meter.ts";
import { OffloadClient } from "./offload_client.ts";
import { PolicyStore } from "./policy_store.ts";
import { policyView } from "./policy_view.ts";
import { RecentWindow } from "./recent_window.ts";

/** Inputs of {@linkcode createEdgeService}. */
export interface EdgeServiceOptions {
  readonly config: EdgeConfig;
  readonly manifest: Manifest;
  /** Text of the model's `vocab.txt`. */
  readonly vocabText: string;
  /** The edge's runner (edge/runtime/onnx.ts `loadWebRunner`). */
  readonly runner: SegmentRunner;
  /** An open KV; the service never closes it. */
  readonly kv: Deno.Kv;
  /** How offloads are sent: `fetch`, or `(req) => gatewayApp.fetch(req)`. */
  readonly fetch: (request: Request) => Response | Promise<Response>;
  /** Seed of the policy PRNG (main.ts draws one when the config has none). */
  readonly seed: number;
  /** Per-request decision records. @default none */
  readonly log?: (entry: DecisionLogEntry) => void;
  /** Milliseconds clock for costs, breaker and rate limit. @default performance.now */
  readonly now?: () => number;
}

/** A running edge. */
export interface EdgeService {
  readonly app: Hono;
  readonly policy: Policy;
  readonly store: PolicyStore;
  readonly costs: CostMeter;
  readonly breaker: CircuitBreaker;
  /** Flushes the policy store and stops its timers (the KV and the runner stay open). */
  close(): Promise<void>;
}

/** The KV key prefix of a policy's statistics: model, export version, and what makes rewards comparable. */
export function policyPrefix(
  manifest: Pick<Manifest, "id" | "version">,
  policy: Policy,
  cost: EdgeConfig["cost"],
): string[] {
  const c = policy.config;
  const costKey = c.adaptiveCosts ? "adaptive" : `${cost.mode}:l=${c.lambda}:o=${c.o}`;
  return ["splitee", "policy", manifest.id, manifest.version, `${policy.name}:a=${c.alpha}:${costKey}`];
}

/** Builds every part of the edge and its app. */
export async function createEdgeService(options: EdgeServiceOptions): Promise<EdgeService> {
  const { config, manifest } = options;
  const now = options.now ?? (() => performance.now());
  const prng = createPrng(options.seed);
  const policy = createPolicy(config.policy.name, {
    layers: manifest.layers,
    alpha: config.policy.alpha,
    lambda: config.policy.lambda,
    o: config.policy.o,
    beta: config.policy.beta,
  }, { prng });
  const store = await PolicyStore.open({
    kv: options.kv,
    prefix: policyPrefix(manifest, policy, config.cost),
    shape: { layers: manifest.layers, adaptiveCosts: policy.config.adaptiveCosts },
    flushEvery: config.kv.flushEvery,
    flushMs: config.kv.flushMs,
    syncMs: config.kv.syncMs,
  });
  const costs = new CostMeter({
    mode: config.cost.mode,
    lambda: config.policy.lambda,
    o: config.policy.o,
    msPerUnit: config.cost.msPerUnit,
    weight: config.cost.ewmaWeight,
    halfLifeMs: config.cost.halfLifeMs,
    failurePenalty: config.cost.failurePenalty,
    now,
  });
  const breaker = new CircuitBreaker({ ...config.breaker, now });
  const client = new OffloadClient({
    fetch: options.fetch,
    baseUrl: config.gateway.url,
    token: config.gateway.token,
    auth: config.gateway.auth,
    timeoutMs: config.gateway.timeoutMs,
    breaker,
    model: { id: manifest.id, version: manifest.version },
    layers: manifest.layers,
    classes: manifest.labels.length,
    dtype: config.gateway.dtype,
    now,
  });
  const recent = new RecentWindow();
  const tokenizer = new WordPieceTokenizer(options.vocabText, {
    maxLength: manifest.maxLength,
    headTokens: manifest.tokenizer.headTokens,
  });
  const deps = {
    manifest,
    tokenizer,
    runner: options.runner,
    policy,
    store,
    prng,
    offload: (input: Parameters<OffloadClient["offload"]>[0]) => client.offload(input),
    costs,
    fallback: config.fallback,
    recent,
    now,
    ...(options.log ? { log: options.log } : {}),
  };
  const app = createApp({
    manifest,
    http: config.http,
    classify: (input) => classify(deps, input),
    policy: () => policyView({ manifest, policy, store, costs, recent, breaker: () => breaker.snapshot() }),
    health: () => ({ gatewayBreaker: breaker.state, policy: policy.name, costMode: config.cost.mode }),
    ui: {
      models: [{ id: manifest.id, task: manifest.task, labels: manifest.labels }],
      ...(config.http.jaegerUiUrl ? { jaegerUrl: config.http.jaegerUiUrl } : {}),
    },
    now,
  });
  return { app, policy, store, costs, breaker, close: () => store.close() };
}
