/**
 * Assembles a running edge from resolved config and loaded models: per model a policy (shared/policy registry), a policy
 * store on Deno KV, a cost meter, an offload client and the classifier pipeline; one circuit breaker (one gateway) and
 * the HTTP app, which routes each request to the model it names (default: the first). main.ts and the end-to-end
 * tests build the edge through this one function, with a real `fetch` or a gateway app's `fetch`.
 * @module
 */

import type { Hono } from "hono";
import type { Manifest } from "../shared/manifest.ts";
import { createPolicy, type Policy } from "../shared/policy/mod.ts";
import { createPrng } from "../shared/prng.ts";
import type { SegmentRunner } from "../shared/tensor.ts";
import { manifestTokenizer } from "../shared/tokenizer/mod.ts";
import { createApp } from "./app.ts";
import { CircuitBreaker } from "./circuit_breaker.ts";
import { type Classification, classify, type ClassifyInput, type DecisionLogEntry } from "./classifier.ts";
import type { EdgeConfig } from "./config.ts";
import { edgeMaxSplit, modelInfo } from "./model_info.ts";
import { prefixRunner } from "./prefix_runner.ts";
import { CostMeter } from "./cost_meter.ts";
import { OffloadClient } from "./offload_client.ts";
import { PolicyStore } from "./policy_store.ts";
import { type PolicyView, policyView } from "./policy_view.ts";
import { RecentWindow } from "./recent_window.ts";

/** One model the edge serves: its manifest, vocabulary text and onnxruntime-web runner. */
export interface EdgeModel {
  readonly manifest: Manifest;
  /** Text of the model's `vocab.txt`. */
  readonly vocabText: string;
  /** The edge's runner (edge/runtime/onnx.ts `loadWebRunner`). */
  readonly runner: SegmentRunner;
}

/** Inputs of {@linkcode createEdgeService}. */
export interface EdgeServiceOptions {
  readonly config: EdgeConfig;
  /** The served models, at least one, distinct ids; the first is the default model. */
  readonly models: readonly EdgeModel[];
  /** An open KV; the service never closes it. */
  readonly kv: Deno.Kv;
  /** How offloads are sent: `fetch`, or `(req) => gatewayApp.fetch(req)`. */
  readonly fetch: (request: Request) => Response | Promise<Response>;
  /** Seed of the policy PRNGs (model k uses seed + k; main.ts draws one when the config has none). */
  readonly seed: number;
  /** Per-request decision records. @default none */
  readonly log?: (entry: DecisionLogEntry & { readonly modelId: string }) => void;
  /** Milliseconds clock for costs, breaker and rate limit. @default performance.now */
  readonly now?: () => number;
}

/** One served model with its own policy, statistics, costs and offload client. */
export interface ServedModel {
  readonly manifest: Manifest;
  readonly policy: Policy;
  readonly store: PolicyStore;
  readonly costs: CostMeter;
  /** Runs the pipeline on this model. */
  classify(input: ClassifyInput): Promise<Classification>;
  /** The `GET /v1/policy` body of this model. */
  view(): PolicyView;
}

/** A running edge. */
export interface EdgeService {
  readonly app: Hono;
  /** Served models by id, in configuration order; the first is the default. */
  readonly models: ReadonlyMap<string, ServedModel>;
  /** The default model's policy. */
  readonly policy: Policy;
  /** The default model's policy statistics. */
  readonly store: PolicyStore;
  /** The default model's cost meter. */
  readonly costs: CostMeter;
  /** The gateway circuit breaker, shared by all models (one gateway). */
  readonly breaker: CircuitBreaker;
  /** Flushes every policy store and stops their timers (the KV and the runners stay open). */
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
  const { config } = options;
  if (options.models.length === 0) throw new RangeError("createEdgeService needs at least one model");
  const ids = options.models.map((m) => m.manifest.id);
  const dup = ids.find((id, i) => ids.indexOf(id) !== i);
  if (dup !== undefined) throw new RangeError(`Two served models have the id ${dup}`);
  const now = options.now ?? (() => performance.now());
  const breaker = new CircuitBreaker({ ...config.breaker, now });
  const models = new Map<string, ServedModel>();
  try {
    for (const [k, model] of options.models.entries()) {
      models.set(model.manifest.id, await serveModel(options, model, options.seed + k, breaker, now));
    }
  } catch (e) {
    await Promise.allSettled([...models.values()].map((m) => m.store.close()));
    throw e;
  }
  const first = models.get(ids[0]!)!;
  const app = createApp({
    models: [...models.values()].map((m) => modelInfo(m.manifest, config)),
    http: config.http,
    classify: (input) => modelOf(models, input.model ?? first.manifest.id).classify(input),
    policy: (modelId) => modelOf(models, modelId ?? first.manifest.id).view(),
    health: () => ({ gatewayBreaker: breaker.state, policy: first.policy.name, costMode: config.cost.mode }),
    ui: {
      models: [...models.values()].map(({ manifest: m }) => ({ id: m.id, task: m.task, labels: m.labels })),
      ...(config.http.jaegerUiUrl ? { jaegerUrl: config.http.jaegerUiUrl } : {}),
    },
    now,
  });
  return {
    app,
    models,
    policy: first.policy,
    store: first.store,
    costs: first.costs,
    breaker,
    close: async () => {
      const results = await Promise.allSettled([...models.values()].map((m) => m.store.close()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed) throw failed.reason;
    },
  };
}

/** The served model with this id; app.ts validated the id, so a miss is a programming error. */
function modelOf(models: ReadonlyMap<string, ServedModel>, id: string): ServedModel {
  const m = models.get(id);
  if (m === undefined) throw new RangeError(`No served model ${id}`);
  return m;
}

/** One model's policy, statistics, costs, offload client and pipeline. */
async function serveModel(
  options: EdgeServiceOptions,
  model: EdgeModel,
  seed: number,
  breaker: CircuitBreaker,
  now: () => number,
): Promise<ServedModel> {
  const { config } = options;
  const { manifest } = model;
  const prng = createPrng(seed);
  const maxSplit = edgeMaxSplit(config, manifest.layers);
  const policy = createPolicy(config.policy.name, {
    layers: manifest.layers,
    maxArm: maxSplit,
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
  // Case, HTML line breaks, length and truncation as the manifest says (imported BERT models differ from ours).
  const tokenizer = manifestTokenizer(manifest, model.vocabText);
  const deps = {
    manifest,
    tokenizer,
    // An edge that holds layers 1..K never runs (or loads) a deeper one, not even as a fallback.
    runner: maxSplit < manifest.layers ? prefixRunner(model.runner, maxSplit) : model.runner,
    policy,
    store,
    prng,
    offload: (input: Parameters<OffloadClient["offload"]>[0]) => client.offload(input),
    costs,
    fallback: maxSplit < manifest.layers ? "edge-exit" as const : config.fallback,
    recent,
    now,
    ...(options.log ? { log: (entry: DecisionLogEntry) => options.log!({ ...entry, modelId: manifest.id }) } : {}),
  };
  return {
    manifest,
    policy,
    store,
    costs,
    classify: (input) => classify(deps, input),
    view: () => policyView({ manifest, policy, store, costs, recent, breaker: () => breaker.snapshot() }),
  };
}
