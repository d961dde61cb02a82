/**
 * Edge configuration: `loadConfig(env)` resolves environment variables once into a frozen, fully typed
 * {@linkcode EdgeConfig}, or throws one {@linkcode ConfigError} that lists every bad variable. Pure: the caller
 * (edge/main.ts) passes `Deno.env.toObject()`.
 *
 * | Variable | Default | Meaning |
 * |---|---|---|
 * | `EDGE_PORT` (or `PORT`) | `8000` | listening port (0 = any free port) |
 * | `EDGE_HOSTNAME` | `127.0.0.1` | listening address (`0.0.0.0` to expose) |
 * | `EDGE_MODEL_DIRS` | `models/sentiment,models/paraphrase,models/entailment` | comma-separated exported model folders served side by side; the first is the default model (a request picks another with `"model": "<id>"`); each model has its own policy state |
 * | `EDGE_MODEL_DIR` | none | one folder: shorthand for `EDGE_MODEL_DIRS` with a single model (not both) |
 * | `EDGE_MAX_SPLIT` | none (every layer) | K: the edge loads the embedding and layers 1..K only (per model, at most its L); the policy's split layers are 1..K, arm K offloads when exit K is not confident, and the gateway runs K+1..L. For models too big for the edge. On a gateway failure the answer comes from the deepest edge exit (`edge-exit`), flagged degraded, whatever `EDGE_FALLBACK` says |
 * | `EDGE_CPU_MEM_ARENA` | `false` | onnxruntime-web's per-session memory arena (`enableCpuMemArena`; onnxruntime's own default is on): each of a model's 13 sessions keeps its high-water mark in the WASM heap, which never shrinks; off costs nothing measurable per request (docs/benchmarks.md, "Edge memory") |
 * | `EDGE_MEM_PATTERN` | `false` | onnxruntime-web's memory pattern (`enableMemPattern`): a planned block per input shape set, cached per session |
 * | `GATEWAY_URL` | `http://127.0.0.1:8001` | gateway base URL |
 * | `GATEWAY_TOKEN` | none | shared gateway secret (never logged) |
 * | `GATEWAY_AUTH` | `bearer` | how offloads prove `GATEWAY_TOKEN`: `bearer` (`Authorization: Bearer`) or `hmac` (signed requests, shared/hmac.ts); set the same value as on the gateway |
 * | `EDGE_OFFLOAD_TIMEOUT_MS` | `2000` | offload request timeout |
 * | `EDGE_BREAKER_FAILURES` | `3` | consecutive offload failures that open the circuit breaker |
 * | `EDGE_BREAKER_COOLDOWN_MS` | `2000` | open time before one half-open probe |
 * | `EDGE_WIRE_DTYPE` | `float32` | hidden-state encoding on the wire: `float32`, `float16` or `int8` (lossy) |
 * | `EDGE_FALLBACK` | `edge-complete` | on gateway failure: `edge-complete` (run the remaining layers on the edge) or `edge-exit` (answer with the deepest computed exit) |
 * | `SPLITEE_ALPHA` | `0.7` | confidence threshold |
 * | `SPLITEE_LAMBDA` | `0.1` | per-layer edge cost (constant mode; the prior in measured mode) |
 * | `SPLITEE_O` | `0.5` | offload cost (constant mode; the prior in measured mode) |
 * | `SPLITEE_BETA` | `1` | UCB exploration weight |
 * | `SPLITEE_POLICY` | `splitee-s` (constant), `splitee-s-adaptive` (measured) | a shared/policy registry name (not `*-paper`, `oracle`) |
 * | `SPLITEE_SEED` | random | PRNG seed for the policy's tie breaks |
 * | `SPLITEE_COST_MODE` | `constant` | `constant` (paper) or `measured` (see edge/cost_meter.ts) |
 * | `SPLITEE_MS_PER_UNIT` | `10` | measured mode: milliseconds worth one reward unit |
 * | `SPLITEE_EWMA_WEIGHT` | `0.2` | measured mode: weight of a new measurement in the moving averages |
 * | `SPLITEE_COST_HALF_LIFE_MS` | `30000` | measured mode: half-life of the decay of a stale estimate toward its prior |
 * | `SPLITEE_FAILURE_PENALTY` | `1` | constant mode: added to `o` for an offload that failed |
 * | `EDGE_KV_PATH` | `.data/policy.kv` | Deno KV file; `default` = `Deno.openKv()` (Deno Deploy), `:memory:` = none |
 * | `EDGE_POLICY_FLUSH_EVERY` | `8` | write learned statistics after this many updates (an answer waits while more than `2 * EDGE_POLICY_FLUSH_EVERY - 1` updates are unwritten: the SIGKILL loss bound, edge/policy_store.ts)... |
 * | `EDGE_POLICY_FLUSH_MS` | `500` | ...or this long after the first unwritten one |
 * | `EDGE_POLICY_SYNC_MS` | `1000` | re-read the shared statistics this often; own flushes are counted locally (0 = no timer, re-read after each own flush instead) |
 * | `EDGE_API_KEYS` | none | comma-separated keys; when set, `/v1/*` needs `Authorization: Bearer <key>` or `X-API-Key` |
 * | `EDGE_RATE_LIMIT_RPS` | `20` | per-client sustained requests per second on `/v1/classify` (0 = off) |
 * | `EDGE_RATE_LIMIT_BURST` | `40` | per-client burst |
 * | `EDGE_TRUSTED_PROXIES` | none | comma-separated addresses of reverse proxies in front of the edge: only a connection from one of them has its `X-Forwarded-For` believed for the rate limit's client address (edge/middleware/client_key.ts); unset = the connection's own address |
 * | `EDGE_BODY_LIMIT_BYTES` | `65536` | request body limit (413 beyond) |
 * | `EDGE_BODY_TIMEOUT_MS` | `10000` | longest time a request body may take to arrive (408 beyond; slow or stalled uploads) |
 * | `EDGE_MAX_TEXT_CHARS` | `10000` | longest `text` / `textPair` in characters (413 beyond) |
 * | `EDGE_MAX_BATCH` | `32` | most `inputs` in one batch `POST /v1/classify` (413 beyond) |
 * | `EDGE_JAEGER_UI_URL` | none | Jaeger UI base URL; the page at `/` links trace ids to `<url>/trace/<id>` |
 * | `EDGE_CORS_ORIGINS` | none | comma-separated allowed origins or `*`; unset = no CORS headers |
 * | `EDGE_LOG_DECISIONS` | `false` | print one JSON line per request: arm, reason, UCB scores, observation |
 * | `EDGE_SHUTDOWN_GRACE_MS` | `10000` | on SIGTERM/SIGINT, how long in-flight requests may take before exit 1 |
 * | `OTEL_DENO`, `OTEL_SERVICE_NAME` | off, `splitee-edge` | read by Deno itself; echoed here for logs |
 *
 * On Deno Deploy (`DENO_DEPLOY=1` or `DENO_DEPLOYMENT_ID` set) the KV default is the platform's KV.
 * @module
 */

import { POLICY_NAMES } from "../shared/policy/registry.ts";

/** Registry policies a live edge can run: not the paper replay modes (they read unobserved C_L) nor the oracle. */
const LIVE_POLICIES = POLICY_NAMES.filter((n) => !n.endsWith("-paper") && n !== "oracle");

/** The models served when neither `EDGE_MODEL_DIRS` nor `EDGE_MODEL_DIR` is set; the first is the default. */
export const DEFAULT_MODEL_DIRS = ["models/sentiment", "models/paraphrase", "models/entailment"] as const;

/** Default of `EDGE_CPU_MEM_ARENA` (docs/benchmarks.md, "Edge memory"). */
export const DEFAULT_CPU_MEM_ARENA = false;
/** Default of `EDGE_MEM_PATTERN` (docs/benchmarks.md, "Edge memory"). */
export const DEFAULT_MEM_PATTERN = false;

/** What the edge does when an offload fails. */
export type FallbackMode = "edge-exit" | "edge-complete";
/** How lambda and o are obtained. */
export type CostMode = "constant" | "measured";
/** How offloads authenticate to the gateway (same variable and values as the gateway's `GATEWAY_AUTH`). */
export type GatewayAuthScheme = "bearer" | "hmac";
/** Hidden-state encodings on the wire (mirrors shared/wire's `WireDtype`). */
export type WireDtypeName = "float32" | "float16" | "int8";

/** The edge's resolved configuration. */
export interface EdgeConfig {
  readonly port: number;
  readonly hostname: string;
  /** Model folders; the first is the default model. */
  readonly modelDirs: readonly string[];
  /** `EDGE_MAX_SPLIT`: the deepest layer the edge holds (per model `min(K, L)`); `undefined` = every layer. */
  readonly maxSplit: number | undefined;
  /** onnxruntime-web session memory options (edge/runtime/onnx.ts `WebRunnerOptions`). */
  readonly wasm: { readonly cpuMemArena: boolean; readonly memPattern: boolean };
  readonly gateway: {
    readonly url: string;
    /** Shared secret; `undefined` when the gateway runs in insecure local mode. */
    readonly token: string | undefined;
    /** `bearer`: send the token; `hmac`: sign each request with it (needs a token). */
    readonly auth: GatewayAuthScheme;
    readonly timeoutMs: number;
    readonly dtype: WireDtypeName;
  };
  readonly breaker: { readonly failureThreshold: number; readonly cooldownMs: number };
  readonly fallback: FallbackMode;
  readonly policy: {
    readonly alpha: number;
    readonly lambda: number;
    readonly o: number;
    readonly beta: number;
    /** A shared/policy registry name (`splitee-s`, `splitee-s-adaptive`, `splitee`, `final`, `fixed-3`, ...). */
    readonly name: string;
    /** `undefined`: main.ts draws one from `crypto.getRandomValues`. */
    readonly seed: number | undefined;
  };
  readonly cost: {
    readonly mode: CostMode;
    readonly msPerUnit: number;
    readonly ewmaWeight: number;
    readonly halfLifeMs: number;
    readonly failurePenalty: number;
  };
  readonly kv: {
    /** File path, `":memory:"`, or `undefined` for `Deno.openKv()` with no argument (Deno Deploy). */
    readonly path: string | undefined;
    readonly flushEvery: number;
    readonly flushMs: number;
    readonly syncMs: number;
  };
  readonly http: {
    readonly apiKeys: readonly string[];
    /** `undefined` when rate limiting is off. */
    readonly rateLimit: { readonly rps: number; readonly burst: number } | undefined;
    /** Proxies whose `X-Forwarded-For` is believed (edge/middleware/client_key.ts). */
    readonly trustedProxies: readonly string[];
    readonly bodyLimitBytes: number;
    /** Longest time a request body may take to arrive. */
    readonly bodyTimeoutMs: number;
    readonly maxTextChars: number;
    /** Most `inputs` of a batch request. */
    readonly maxBatch: number;
    readonly corsOrigins: readonly string[];
    /** Jaeger UI base URL the page links trace ids to; `undefined` = no links. */
    readonly jaegerUiUrl: string | undefined;
  };
  readonly logDecisions: boolean;
  readonly shutdownGraceMs: number;
  readonly otel: { readonly enabled: boolean; readonly serviceName: string };
}

/** Thrown by {@linkcode loadConfig}; `problems` has one line per bad variable. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid edge configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Resolves the edge configuration from environment variables (see the module docs for names and defaults).
 * @throws {ConfigError} listing every invalid variable at once.
 */
export function loadConfig(env: Env): EdgeConfig {
  const p = new Parser(env);
  const onDeploy = env.DENO_DEPLOY === "1" || (env.DENO_DEPLOYMENT_ID ?? "") !== "";
  const port = env.EDGE_PORT !== undefined ? p.int("EDGE_PORT", 8000, 0, 65535) : p.int("PORT", 8000, 0, 65535);
  const rps = p.num("EDGE_RATE_LIMIT_RPS", 20, 0);
  const burst = p.int("EDGE_RATE_LIMIT_BURST", 40, 1);
  const costMode = p.oneOf("SPLITEE_COST_MODE", ["constant", "measured"] as const, "constant");
  const kvRaw = p.str("EDGE_KV_PATH", onDeploy ? "default" : ".data/policy.kv");
  const gatewayToken = p.optionalSecret("GATEWAY_TOKEN");
  const gatewayAuth = p.oneOf("GATEWAY_AUTH", ["bearer", "hmac"] as const, "bearer");
  if (gatewayAuth === "hmac" && gatewayToken === undefined) {
    p.problems.push("GATEWAY_AUTH=hmac needs GATEWAY_TOKEN (the HMAC secret)");
  }
  const config: EdgeConfig = {
    port,
    hostname: p.str("EDGE_HOSTNAME", "127.0.0.1"),
    modelDirs: p.modelDirs(),
    maxSplit: env.EDGE_MAX_SPLIT === undefined || env.EDGE_MAX_SPLIT.trim() === ""
      ? undefined
      : p.int("EDGE_MAX_SPLIT", 1, 1, 1000),
    wasm: {
      cpuMemArena: p.bool("EDGE_CPU_MEM_ARENA", DEFAULT_CPU_MEM_ARENA),
      memPattern: p.bool("EDGE_MEM_PATTERN", DEFAULT_MEM_PATTERN),
    },
    gateway: {
      url: p.url("GATEWAY_URL", "http://127.0.0.1:8001"),
      token: gatewayToken,
      auth: gatewayAuth,
      timeoutMs: p.int("EDGE_OFFLOAD_TIMEOUT_MS", 2000, 1),
      dtype: p.oneOf("EDGE_WIRE_DTYPE", ["float32", "float16", "int8"] as const, "float32"),
    },
    breaker: {
      failureThreshold: p.int("EDGE_BREAKER_FAILURES", 3, 1),
      cooldownMs: p.int("EDGE_BREAKER_COOLDOWN_MS", 2000, 1),
    },
    fallback: p.oneOf("EDGE_FALLBACK", ["edge-complete", "edge-exit"] as const, "edge-complete"),
    policy: {
      alpha: p.num("SPLITEE_ALPHA", 0.7, 0, 1),
      lambda: p.num("SPLITEE_LAMBDA", 0.1, 0),
      o: p.num("SPLITEE_O", 0.5, 0),
      beta: p.num("SPLITEE_BETA", 1, 0),
      name: p.policyName("SPLITEE_POLICY", costMode === "measured" ? "splitee-s-adaptive" : "splitee-s"),
      seed: env.SPLITEE_SEED === undefined || env.SPLITEE_SEED === ""
        ? undefined
        : p.int("SPLITEE_SEED", 0, 0, Number.MAX_SAFE_INTEGER),
    },
    cost: {
      mode: costMode,
      msPerUnit: p.num("SPLITEE_MS_PER_UNIT", 10, Number.MIN_VALUE),
      ewmaWeight: p.num("SPLITEE_EWMA_WEIGHT", 0.2, Number.MIN_VALUE, 1),
      halfLifeMs: p.num("SPLITEE_COST_HALF_LIFE_MS", 30000, Number.MIN_VALUE),
      failurePenalty: p.num("SPLITEE_FAILURE_PENALTY", 1, 0),
    },
    kv: {
      path: kvRaw === "default" ? undefined : kvRaw,
      flushEvery: p.int("EDGE_POLICY_FLUSH_EVERY", 8, 1),
      flushMs: p.int("EDGE_POLICY_FLUSH_MS", 500, 1),
      syncMs: p.int("EDGE_POLICY_SYNC_MS", 1000, 0),
    },
    http: {
      apiKeys: p.list("EDGE_API_KEYS"),
      rateLimit: rps > 0 ? { rps, burst } : undefined,
      trustedProxies: p.list("EDGE_TRUSTED_PROXIES"),
      bodyLimitBytes: p.int("EDGE_BODY_LIMIT_BYTES", 65536, 64),
      bodyTimeoutMs: p.int("EDGE_BODY_TIMEOUT_MS", 10_000, 1, 3_600_000),
      maxTextChars: p.int("EDGE_MAX_TEXT_CHARS", 10000, 1),
      maxBatch: p.int("EDGE_MAX_BATCH", 32, 1, 10_000),
      corsOrigins: p.list("EDGE_CORS_ORIGINS"),
      jaegerUiUrl: env.EDGE_JAEGER_UI_URL ? p.url("EDGE_JAEGER_UI_URL", "http://localhost:16686") : undefined,
    },
    logDecisions: p.bool("EDGE_LOG_DECISIONS", false),
    shutdownGraceMs: p.int("EDGE_SHUTDOWN_GRACE_MS", 10_000, 0, 3_600_000),
    otel: {
      enabled: (env.OTEL_DENO ?? "").toLowerCase() === "true" || env.OTEL_DENO === "1",
      serviceName: p.str("OTEL_SERVICE_NAME", "splitee-edge"),
    },
  };
  if (p.problems.length > 0) throw new ConfigError(p.problems);
  return deepFreeze(config);
}

/** Collects problems instead of throwing on the first one. Values of secrets never appear in messages. */
class Parser {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  private raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  }

  str(name: string, fallback: string): string {
    return this.raw(name) ?? fallback;
  }

  modelDirs(): string[] {
    const one = this.raw("EDGE_MODEL_DIR");
    const many = this.list("EDGE_MODEL_DIRS");
    if (one !== undefined && many.length > 0) {
      this.problems.push("EDGE_MODEL_DIR and EDGE_MODEL_DIRS are both set: use one");
    }
    const dirs = one !== undefined ? [one] : many.length > 0 ? [...many] : [...DEFAULT_MODEL_DIRS];
    const seen = new Set<string>();
    for (const d of dirs) {
      const key = d.replace(/\/+$/, "");
      if (seen.has(key)) this.problems.push(`EDGE_MODEL_DIRS names ${JSON.stringify(d)} twice`);
      seen.add(key);
    }
    return dirs;
  }

  optionalSecret(name: string): string | undefined {
    const v = this.raw(name);
    if (v !== undefined && /\s/.test(v)) this.problems.push(`${name} must not contain whitespace (value hidden)`);
    return v;
  }

  num(name: string, fallback: number, min = -Infinity, max = Infinity): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!Number.isFinite(n) || n < min || n > max) {
      this.problems.push(`${name} must be a number in [${fmt(min)}, ${fmt(max)}] (got ${JSON.stringify(v)})`);
      return fallback;
    }
    return n;
  }

  int(name: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^-?\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${name} must be an integer in [${fmt(min)}, ${fmt(max)}] (got ${JSON.stringify(v)})`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (["true", "1", "yes", "on"].includes(v)) return true;
    if (["false", "0", "no", "off"].includes(v)) return false;
    this.problems.push(`${name} must be true or false (got ${JSON.stringify(v)})`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    this.problems.push(`${name} must be one of ${allowed.join(", ")} (got ${JSON.stringify(v)})`);
    return fallback;
  }

  policyName(name: string, fallback: string): string {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (LIVE_POLICIES.includes(v) || /^fixed-[1-9][0-9]*$/.test(v)) return v;
    this.problems.push(
      `${name} must be one of ${LIVE_POLICIES.join(", ")} or fixed-<layer> (got ${JSON.stringify(v)})`,
    );
    return fallback;
  }

  url(name: string, fallback: string): string {
    const v = this.raw(name) ?? fallback;
    try {
      const u = new URL(v);
      if (u.protocol !== "http:" && u.protocol !== "https:") throw new Error("scheme");
      if (u.username !== "" || u.password !== "") {
        this.problems.push(`${name} must not carry credentials; use GATEWAY_TOKEN`);
      }
      return v.replace(/\/+$/, "");
    } catch {
      this.problems.push(`${name} must be an http(s) URL (got ${JSON.stringify(v)})`);
      return fallback;
    }
  }

  list(name: string): string[] {
    const v = this.raw(name);
    if (v === undefined) return [];
    return v.split(",").map((s) => s.trim()).filter((s) => s !== "");
  }
}

function fmt(n: number): string {
  if (n === Number.MIN_VALUE) return "0 (exclusive)";
  if (n === Number.MAX_SAFE_INTEGER) return "2^53-1";
  return String(n);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
