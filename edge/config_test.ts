import { expect } from "expect";
import { ConfigError, loadConfig } from "./config.ts";

Deno.test("loadConfig() fills every documented default from an empty environment", () => {
  const c = loadConfig({});
  expect(c.port).toBe(8000);
  expect(c.hostname).toBe("127.0.0.1");
  expect(c.modelDirs).toEqual(["models/sentiment", "models/paraphrase", "models/entailment"]);
  expect(c.wasm).toEqual({ cpuMemArena: false, memPattern: false });
  expect(c.gateway).toEqual({
    url: "http://127.0.0.1:8001",
    token: undefined,
    auth: "bearer",
    timeoutMs: 2000,
    dtype: "float32",
  });
  expect(c.policy).toEqual({
    alpha: 0.7,
    lambda: 0.1,
    o: 0.5,
    beta: 1,
    name: "splitee-s",
    seed: undefined,
  });
  expect(c.cost.mode).toBe("constant");
  expect(c.fallback).toBe("edge-complete");
  expect(c.kv.path).toBe(".data/policy.kv");
  expect(c.http.rateLimit).toEqual({ rps: 20, burst: 40 });
  expect(c.http.apiKeys).toEqual([]);
  expect(c.otel).toEqual({ enabled: false, serviceName: "splitee-edge" });
  expect(Object.isFrozen(c.policy)).toBe(true);
});

Deno.test("loadConfig() reads every variable it documents", () => {
  const c = loadConfig({
    EDGE_PORT: "0",
    GATEWAY_URL: "https://gw.example/",
    GATEWAY_TOKEN: "s3cret",
    SPLITEE_COST_MODE: "measured",
    SPLITEE_MS_PER_UNIT: "4",
    SPLITEE_SEED: "42",
    SPLITEE_POLICY: "fixed-3",
    EDGE_WIRE_DTYPE: "float16",
    EDGE_FALLBACK: "edge-exit",
    EDGE_KV_PATH: ":memory:",
    EDGE_API_KEYS: "a, b,,",
    EDGE_RATE_LIMIT_RPS: "0",
    EDGE_CORS_ORIGINS: "https://a.example,https://b.example",
    EDGE_CPU_MEM_ARENA: "true",
    EDGE_MEM_PATTERN: "1",
    OTEL_DENO: "true",
  });
  expect(c.wasm).toEqual({ cpuMemArena: true, memPattern: true });
  expect(c.port).toBe(0);
  expect(c.gateway.url).toBe("https://gw.example");
  expect(c.gateway.token).toBe("s3cret");
  expect(c.cost).toMatchObject({ mode: "measured", msPerUnit: 4 });
  expect(c.policy.seed).toBe(42);
  expect(c.policy.name).toBe("fixed-3");
  expect(c.gateway.dtype).toBe("float16");
  expect(loadConfig({ SPLITEE_COST_MODE: "measured" }).policy.name).toBe("splitee-s-adaptive");
  expect(() => loadConfig({ SPLITEE_POLICY: "splitee-s-paper" })).toThrow("SPLITEE_POLICY");
  expect(() => loadConfig({ SPLITEE_POLICY: "oracle" })).toThrow("SPLITEE_POLICY");
  expect(c.fallback).toBe("edge-exit");
  expect(c.kv.path).toBe(":memory:");
  expect(c.http.apiKeys).toEqual(["a", "b"]);
  expect(c.http.rateLimit).toBeUndefined();
  expect(c.http.corsOrigins).toEqual(["https://a.example", "https://b.example"]);
  expect(c.otel.enabled).toBe(true);
});

Deno.test("loadConfig() uses the platform KV on Deno Deploy unless a path is given", () => {
  expect(loadConfig({ DENO_DEPLOY: "1" }).kv.path).toBeUndefined();
  expect(loadConfig({ DENO_DEPLOYMENT_ID: "abc" }).kv.path).toBeUndefined();
  expect(loadConfig({ EDGE_KV_PATH: "default" }).kv.path).toBeUndefined();
  expect(loadConfig({ DENO_DEPLOY: "1", EDGE_KV_PATH: "/tmp/x.kv" }).kv.path).toBe("/tmp/x.kv");
});

Deno.test("loadConfig() lists every bad variable in one error and never echoes the token", () => {
  let error: unknown;
  try {
    loadConfig({
      EDGE_PORT: "99999",
      SPLITEE_ALPHA: "1.5",
      SPLITEE_LAMBDA: "abc",
      SPLITEE_COST_MODE: "magic",
      EDGE_FALLBACK: "pray",
      GATEWAY_URL: "ftp://x",
      GATEWAY_TOKEN: "has space",
      EDGE_OFFLOAD_TIMEOUT_MS: "1.5",
      SPLITEE_POLICY: "greedy",
      EDGE_CPU_MEM_ARENA: "arena",
    });
  } catch (e) {
    error = e;
  }
  expect(error).toBeInstanceOf(ConfigError);
  const problems = (error as ConfigError).problems;
  expect(problems).toHaveLength(10);
  for (
    const name of [
      "EDGE_PORT",
      "SPLITEE_ALPHA",
      "SPLITEE_LAMBDA",
      "SPLITEE_COST_MODE",
      "EDGE_FALLBACK",
      "GATEWAY_URL",
      "GATEWAY_TOKEN",
      "EDGE_OFFLOAD_TIMEOUT_MS",
      "SPLITEE_POLICY",
      "EDGE_CPU_MEM_ARENA",
    ]
  ) {
    expect(problems.some((line) => line.startsWith(name))).toBe(true);
  }
  expect((error as Error).message).not.toContain("has space");
});

Deno.test("loadConfig() falls back to PORT when EDGE_PORT is unset", () => {
  expect(loadConfig({ PORT: "9000" }).port).toBe(9000);
  expect(loadConfig({ PORT: "9000", EDGE_PORT: "9001" }).port).toBe(9001);
});

Deno.test("loadConfig() reads GATEWAY_AUTH (bearer or hmac); hmac needs GATEWAY_TOKEN", () => {
  expect(loadConfig({ GATEWAY_TOKEN: "s3cret" }).gateway.auth).toBe("bearer");
  expect(loadConfig({ GATEWAY_TOKEN: "s3cret", GATEWAY_AUTH: "hmac" }).gateway).toMatchObject({
    token: "s3cret",
    auth: "hmac",
  });
  expect(() => loadConfig({ GATEWAY_AUTH: "hmac" })).toThrow("GATEWAY_AUTH=hmac needs GATEWAY_TOKEN");
  expect(() => loadConfig({ GATEWAY_TOKEN: "s3cret", GATEWAY_AUTH: "basic" })).toThrow("GATEWAY_AUTH must be one of");
});

Deno.test("loadConfig() reads the served model folders from EDGE_MODEL_DIRS or the EDGE_MODEL_DIR shorthand", () => {
  expect(loadConfig({ EDGE_MODEL_DIRS: "a, b/" }).modelDirs).toEqual(["a", "b/"]);
  expect(loadConfig({ EDGE_MODEL_DIR: "models/sentiment" }).modelDirs).toEqual(["models/sentiment"]);
  expect(() => loadConfig({ EDGE_MODEL_DIR: "a", EDGE_MODEL_DIRS: "b" })).toThrow(
    "EDGE_MODEL_DIR and EDGE_MODEL_DIRS are both set",
  );
  expect(() => loadConfig({ EDGE_MODEL_DIRS: "a,a/" })).toThrow('EDGE_MODEL_DIRS names "a/" twice');
});

Deno.test("loadConfig() reads EDGE_MAX_BATCH (default 32, 1..10000)", () => {
  expect(loadConfig({}).http.maxBatch).toBe(32);
  expect(loadConfig({ EDGE_MAX_BATCH: "8" }).http.maxBatch).toBe(8);
  for (const bad of ["0", "-1", "2.5", "many", "10001"]) {
    expect(() => loadConfig({ EDGE_MAX_BATCH: bad })).toThrow(/EDGE_MAX_BATCH must be an integer in \[1, 10000\]/);
  }
});
