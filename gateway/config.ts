/**
 * Gateway configuration: `loadConfig(env)` resolves environment variables once into a frozen, fully typed
 * {@linkcode GatewayConfig}, or throws one {@linkcode ConfigError} that lists every bad variable. Pure: the caller
 * (gateway/main.ts) passes `Deno.env.toObject()`.
 *
 * | Variable | Default | Meaning |
 * |---|---|---|
 * | `GATEWAY_PORT` | `8001` | listening port (0 = any free port) |
 * | `GATEWAY_HOSTNAME` | `127.0.0.1` | listening address (`0.0.0.0` to expose; insecure mode must stay on loopback) |
 * | `GATEWAY_MODEL_DIRS` | `models/sentiment,models/paraphrase,models/entailment` | comma-separated exported model folders, all served side by side (routed by the offload's `model.id`; ids must be unique) |
 * | `GATEWAY_MODEL_DIR` | none | one model folder: an alias of `GATEWAY_MODEL_DIRS` with one entry (setting both is an error) |
 * | `GATEWAY_EXECUTION_PROVIDER` | `cpu` | onnxruntime-node execution provider: `cpu` or `cuda` |
 * | `GATEWAY_TOKEN` | none | shared secret the edge must prove (at least 16 characters; never logged) |
 * | `GATEWAY_AUTH` | `bearer` | `bearer`: `Authorization: Bearer <GATEWAY_TOKEN>`; `hmac`: HMAC-SHA256 request signatures keyed by `GATEWAY_TOKEN`, with a 30 s replay window (shared/hmac.ts) |
 * | `GATEWAY_INSECURE_LOCAL` | `false` | `true` runs with no token, on a loopback address only, for local development |
 * | `GATEWAY_MAX_BODY_BYTES` | `4194304` | largest request body (413 beyond) |
 * | `GATEWAY_BODY_TIMEOUT_MS` | `10000` | longest time a request body may take to arrive (408 beyond) |
 * | `GATEWAY_INTRA_OP_THREADS` | `0` | onnxruntime threads per operator (0 = onnxruntime's choice, one per core) |
 * | `GATEWAY_CPU_MEM_ARENA` | `false` | onnxruntime's CPU memory arena (`enableCpuMemArena`, onnxruntime's own default is on): `true` pools tensor memory per session, growing to the high-water mark and never shrinking; off, each tensor is malloc'd and freed, ≈ 1-2% slower (docs/reliability.md, "Gateway soak RSS") |
 * | `GATEWAY_MEM_PATTERN` | `true` | onnxruntime's memory pattern (`enableMemPattern`): one planned block per distinct input shape set, cached per session |
 * | `GATEWAY_BATCH_MAX` | `1` | dynamic batching (gateway/batcher.ts): most concurrent offloads (same split layer, same power-of-two length bucket) run as one batch; `0` or `1` = off (off by default: docs/benchmarks.md, "Gateway dynamic batching"; `16` is the measured setting) |
 * | `GATEWAY_BATCH_WAIT_MS` | `0` | dynamic batching: how long a group waits for more requests before it runs (0 = no window: it runs as soon as no other batch is running, growing only while it waits) |
 * | `GATEWAY_SHUTDOWN_GRACE_MS` | `10000` | on SIGTERM/SIGINT, how long in-flight requests may take before exit 1 |
 * | `OTEL_DENO`, `OTEL_SERVICE_NAME`, `OTEL_EXPORTER_OTLP_ENDPOINT`, `OTEL_EXPORTER_OTLP_PROTOCOL` | off, `splitee-gateway`, `http://localhost:4318`, `http/protobuf` | read by Deno itself at startup; echoed here for the startup log |
 *
 * Either `GATEWAY_TOKEN` or `GATEWAY_INSECURE_LOCAL=true` is required: with neither, the gateway refuses to start.
 *
 * Not a variable here but part of running the gateway: V8's young generation, capped with
 * `--v8-flags=--max-semi-space-size=2` (or `DENO_V8_FLAGS`), else it grows once by 5-20 MiB after about two minutes
 * under load (docs/reliability.md, "Gateway soak RSS"). V8 reads it at process start, so `main.ts` cannot set it:
 * `deno task gateway`, `deno task start` and bench/load.ts pass {@linkcode GATEWAY_V8_FLAGS}.
 * @module
 */

/** The V8 flags the gateway runs with (`deno run --v8-flags=<this>` or `DENO_V8_FLAGS=<this>`). */
export const GATEWAY_V8_FLAGS = "--max-semi-space-size=2";

/** onnxruntime-node execution providers the gateway can ask for. */
export const EXECUTION_PROVIDERS = ["cpu", "cuda"] as const;
/** One of {@linkcode EXECUTION_PROVIDERS}. */
export type ExecutionProvider = typeof EXECUTION_PROVIDERS[number];

/** Values of `GATEWAY_AUTH`. */
export const AUTH_SCHEMES = ["bearer", "hmac"] as const;

/** How requests are authenticated: `token` is the bearer scheme, `hmac` signs requests with the same secret. */
export type GatewayAuth =
  | { readonly mode: "token"; readonly token: string }
  | { readonly mode: "hmac"; readonly token: string }
  | { readonly mode: "insecure-local" };

/** The gateway's resolved configuration. */
export interface GatewayConfig {
  readonly port: number;
  readonly hostname: string;
  /** Model folders to serve, in order (at least one, no folder twice). */
  readonly modelDirs: readonly string[];
  readonly executionProvider: ExecutionProvider;
  readonly auth: GatewayAuth;
  readonly maxBodyBytes: number;
  /** Longest time a request body may take to arrive. */
  readonly bodyTimeoutMs: number;
  /** `undefined`: onnxruntime's default. */
  readonly intraOpThreads: number | undefined;
  /** onnxruntime session memory: the CPU arena (`enableCpuMemArena`) and memory patterns (`enableMemPattern`). */
  readonly memory: { readonly cpuArena: boolean; readonly pattern: boolean };
  readonly shutdownGraceMs: number;
  /** Dynamic batching (gateway/batcher.ts); `maxBatch` <= 1 is off. */
  readonly batch: { readonly maxBatch: number; readonly waitMs: number };
  /** OpenTelemetry settings as Deno sees them (Deno reads these variables itself; they cannot change at runtime). */
  readonly otel: {
    readonly enabled: boolean;
    /** `undefined`: unset, and Deno reports `unknown_service:deno`. */
    readonly serviceName: string | undefined;
    readonly endpoint: string;
    readonly protocol: "http/protobuf" | "http/json";
  };
}

/** One or more environment variables are invalid. */
export class ConfigError extends Error {
  readonly problems: readonly string[];
  constructor(problems: readonly string[]) {
    super(`Invalid gateway configuration:\n  ${problems.join("\n  ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

type Env = Readonly<Record<string, string | undefined>>;

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
const MIN_TOKEN_LENGTH = 16;
/** Default of `GATEWAY_BATCH_MAX` (see docs/benchmarks.md, "Gateway dynamic batching"). */
export const DEFAULT_BATCH_MAX = 1;
/** Default of `GATEWAY_MODEL_DIRS`. */
export const DEFAULT_MODEL_DIRS: readonly string[] = ["models/sentiment", "models/paraphrase", "models/entailment"];
/** Default of `GATEWAY_CPU_MEM_ARENA` (see docs/reliability.md, "Gateway soak RSS"). */
export const DEFAULT_CPU_MEM_ARENA = false;
/** Default of `GATEWAY_BATCH_WAIT_MS`. */
export const DEFAULT_BATCH_WAIT_MS = 0;

/**
 * Resolves the gateway configuration from environment variables (see the module docs for names and defaults).
 * @throws {ConfigError} listing every invalid variable at once.
 */
export function loadConfig(env: Env): GatewayConfig {
  const p = new Parser(env);
  const insecure = p.bool("GATEWAY_INSECURE_LOCAL", false);
  const token = p.raw("GATEWAY_TOKEN");
  const hostname = p.raw("GATEWAY_HOSTNAME") ?? "127.0.0.1";
  const scheme = p.oneOf("GATEWAY_AUTH", AUTH_SCHEMES, "bearer");
  let auth: GatewayAuth = { mode: "insecure-local" };
  if (token !== undefined) {
    if (insecure) p.problems.push("GATEWAY_TOKEN and GATEWAY_INSECURE_LOCAL=true are mutually exclusive; pick one");
    if (token.length < MIN_TOKEN_LENGTH || /\s/.test(token)) {
      p.problems.push(
        `GATEWAY_TOKEN must be at least ${MIN_TOKEN_LENGTH} characters with no whitespace (value hidden)`,
      );
    }
    auth = scheme === "hmac" ? { mode: "hmac", token } : { mode: "token", token };
  } else if (!insecure) {
    p.problems.push(
      "GATEWAY_TOKEN is not set: set a shared token (e.g. `openssl rand -hex 32`), or GATEWAY_INSECURE_LOCAL=true " +
        "to run without authentication on a loopback address",
    );
  } else if (scheme === "hmac") {
    p.problems.push("GATEWAY_AUTH=hmac needs GATEWAY_TOKEN (the HMAC secret); it cannot run in insecure local mode");
  } else if (!LOOPBACK.has(hostname)) {
    p.problems.push(`GATEWAY_INSECURE_LOCAL=true only listens on a loopback address, not GATEWAY_HOSTNAME=${hostname}`);
  }
  const config: GatewayConfig = {
    port: p.int("GATEWAY_PORT", 8001, 0, 65535),
    hostname,
    modelDirs: modelDirs(p),
    executionProvider: p.oneOf("GATEWAY_EXECUTION_PROVIDER", EXECUTION_PROVIDERS, "cpu"),
    auth,
    maxBodyBytes: p.int("GATEWAY_MAX_BODY_BYTES", 4 * 1024 * 1024, 1024, 1024 * 1024 * 1024),
    bodyTimeoutMs: p.int("GATEWAY_BODY_TIMEOUT_MS", 10_000, 1, 3_600_000),
    intraOpThreads: p.int("GATEWAY_INTRA_OP_THREADS", 0, 0, 1024) || undefined,
    memory: {
      cpuArena: p.bool("GATEWAY_CPU_MEM_ARENA", DEFAULT_CPU_MEM_ARENA),
      pattern: p.bool("GATEWAY_MEM_PATTERN", true),
    },
    shutdownGraceMs: p.int("GATEWAY_SHUTDOWN_GRACE_MS", 10_000, 0, 3_600_000),
    batch: {
      maxBatch: p.int("GATEWAY_BATCH_MAX", DEFAULT_BATCH_MAX, 0, 1024),
      waitMs: p.int("GATEWAY_BATCH_WAIT_MS", DEFAULT_BATCH_WAIT_MS, 0, 1000),
    },
    otel: {
      enabled: p.bool("OTEL_DENO", false),
      serviceName: p.raw("OTEL_SERVICE_NAME"),
      endpoint: p.url("OTEL_EXPORTER_OTLP_ENDPOINT", "http://localhost:4318"),
      protocol: p.oneOf("OTEL_EXPORTER_OTLP_PROTOCOL", ["http/protobuf", "http/json"] as const, "http/protobuf"),
    },
  };
  if (p.problems.length > 0) throw new ConfigError(p.problems);
  return deepFreeze(config);
}

/** A one-line description for the startup log: never the token. */
export function describeConfig(config: GatewayConfig): string {
  const auth = config.auth.mode === "token"
    ? "auth=bearer-token"
    : config.auth.mode === "hmac"
    ? "auth=hmac-sha256 (replay window 30s)"
    : "auth=NONE (INSECURE LOCAL MODE: GATEWAY_INSECURE_LOCAL=true, loopback only)";
  const otel = config.otel.enabled
    ? `otel=on (${
      config.otel.serviceName ?? "unknown_service:deno"
    } -> ${config.otel.endpoint}, ${config.otel.protocol})`
    : "otel=off (OTEL_DENO=true to enable)";
  const batch = config.batch.maxBatch > 1 ? `batch=${config.batch.maxBatch}/${config.batch.waitMs}ms` : "batch=off";
  const onOff = (b: boolean) => b ? "on" : "off";
  const memory = `cpuArena=${onOff(config.memory.cpuArena)} memPattern=${onOff(config.memory.pattern)}`;
  return `models=${
    config.modelDirs.join(",")
  } provider=${config.executionProvider} ${auth} maxBody=${config.maxBodyBytes}B ${memory} ${batch} ${otel}`;
}

/** `GATEWAY_MODEL_DIRS`, or `GATEWAY_MODEL_DIR` as a one-folder alias; the default when neither is set. */
function modelDirs(p: Parser): readonly string[] {
  const list = p.raw("GATEWAY_MODEL_DIRS");
  const one = p.raw("GATEWAY_MODEL_DIR");
  if (list !== undefined && one !== undefined) {
    p.problems.push(
      "GATEWAY_MODEL_DIR and GATEWAY_MODEL_DIRS are both set; set only GATEWAY_MODEL_DIRS (GATEWAY_MODEL_DIR is a " +
        "one-folder alias)",
    );
  }
  if (list === undefined) return one !== undefined ? [one] : DEFAULT_MODEL_DIRS;
  const dirs = list.split(",").map((d) => d.trim());
  if (dirs.some((d) => d === "")) {
    p.problems.push(`GATEWAY_MODEL_DIRS must be comma-separated folders with none empty, got "${list}"`);
  }
  const seen = new Set<string>();
  for (const dir of dirs.filter((d) => d !== "")) {
    const key = dir.replace(/\/+$/, "").replace(/^\.\//, "");
    if (seen.has(key)) p.problems.push(`GATEWAY_MODEL_DIRS names ${dir} twice; every model id must be served once`);
    seen.add(key);
  }
  return dirs.filter((d) => d !== "");
}

/** Collects problems instead of throwing on the first one. Values of secrets never appear in messages. */
class Parser {
  readonly problems: string[] = [];
  constructor(private readonly env: Env) {}

  raw(name: string): string | undefined {
    const v = this.env[name];
    return v === undefined || v.trim() === "" ? undefined : v.trim();
  }

  int(name: string, fallback: number, min: number, max: number): number {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    const n = Number(v);
    if (!/^\d+$/.test(v) || !Number.isSafeInteger(n) || n < min || n > max) {
      this.problems.push(`${name} must be an integer in ${min}..${max}, got "${v}"`);
      return fallback;
    }
    return n;
  }

  bool(name: string, fallback: boolean): boolean {
    const v = this.raw(name)?.toLowerCase();
    if (v === undefined) return fallback;
    if (["1", "true", "yes", "on"].includes(v)) return true;
    if (["0", "false", "no", "off"].includes(v)) return false;
    this.problems.push(`${name} must be true or false, got "${this.raw(name)}"`);
    return fallback;
  }

  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if ((allowed as readonly string[]).includes(v)) return v as T;
    this.problems.push(`${name} must be one of ${allowed.join(", ")}, got "${v}"`);
    return fallback;
  }

  url(name: string, fallback: string): string {
    const v = this.raw(name);
    if (v === undefined) return fallback;
    if (!URL.canParse(v) || !/^https?:$/.test(new URL(v).protocol)) {
      this.problems.push(`${name} must be an http(s) URL, got "${v}"`);
      return fallback;
    }
    return v;
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
