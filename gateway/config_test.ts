import assert from "node:assert/strict";
import {
  ConfigError,
  DEFAULT_BATCH_MAX,
  DEFAULT_BATCH_WAIT_MS,
  DEFAULT_MODEL_DIRS,
  describeConfig,
  GATEWAY_V8_FLAGS,
  loadConfig,
} from "./config.ts";

const TOKEN = "0123456789abcdef0123";

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    return err.problems;
  }
  assert.fail("expected a ConfigError");
}

Deno.test("loadConfig() resolves the documented defaults when only a token is set", () => {
  const config = loadConfig({ GATEWAY_TOKEN: TOKEN });
  assert.deepEqual(config, {
    port: 8001,
    hostname: "127.0.0.1",
    modelDirs: ["models/sentiment", "models/paraphrase", "models/entailment"],
    executionProvider: "cpu",
    auth: { mode: "token", token: TOKEN },
    maxBodyBytes: 4194304,
    bodyTimeoutMs: 10000,
    intraOpThreads: undefined,
    memory: { cpuArena: false, pattern: true },
    shutdownGraceMs: 10000,
    batch: { maxBatch: DEFAULT_BATCH_MAX, waitMs: DEFAULT_BATCH_WAIT_MS },
    otel: { enabled: false, serviceName: undefined, endpoint: "http://localhost:4318", protocol: "http/protobuf" },
  });
  assert.ok(Object.isFrozen(config) && Object.isFrozen(config.auth) && Object.isFrozen(config.memory));
});

Deno.test("loadConfig() reads every variable", () => {
  const config = loadConfig({
    GATEWAY_PORT: "9000",
    GATEWAY_HOSTNAME: "0.0.0.0",
    GATEWAY_MODEL_DIR: "/srv/model",
    GATEWAY_EXECUTION_PROVIDER: "cuda",
    GATEWAY_TOKEN: TOKEN,
    GATEWAY_MAX_BODY_BYTES: "65536",
    GATEWAY_INTRA_OP_THREADS: "2",
    GATEWAY_SHUTDOWN_GRACE_MS: "500",
    OTEL_DENO: "true",
    OTEL_SERVICE_NAME: "splitee-gateway",
    OTEL_EXPORTER_OTLP_ENDPOINT: "http://jaeger:4318",
    OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
  });
  assert.equal(config.port, 9000);
  assert.equal(config.hostname, "0.0.0.0");
  assert.deepEqual(config.modelDirs, ["/srv/model"]);
  assert.equal(config.executionProvider, "cuda");
  assert.equal(config.maxBodyBytes, 65536);
  assert.equal(config.intraOpThreads, 2);
  assert.equal(config.shutdownGraceMs, 500);
  assert.deepEqual(config.otel, {
    enabled: true,
    serviceName: "splitee-gateway",
    endpoint: "http://jaeger:4318",
    protocol: "http/json",
  });
});

Deno.test("loadConfig() refuses to start with no token unless insecure local mode is explicit", () => {
  assert.match(problemsOf({}).join("\n"), /GATEWAY_TOKEN is not set/);
  const config = loadConfig({ GATEWAY_INSECURE_LOCAL: "true" });
  assert.deepEqual(config.auth, { mode: "insecure-local" });
  assert.match(describeConfig(config), /INSECURE LOCAL MODE/);
  assert.match(
    problemsOf({ GATEWAY_INSECURE_LOCAL: "1", GATEWAY_HOSTNAME: "0.0.0.0" }).join("\n"),
    /only listens on a loopback address/,
  );
  assert.match(
    problemsOf({ GATEWAY_INSECURE_LOCAL: "true", GATEWAY_TOKEN: TOKEN }).join("\n"),
    /mutually exclusive/,
  );
});

Deno.test("loadConfig() lists every bad variable at once and never echoes the token", () => {
  const problems = problemsOf({
    GATEWAY_PORT: "80a",
    GATEWAY_EXECUTION_PROVIDER: "tpu",
    GATEWAY_TOKEN: "short secret",
    GATEWAY_MAX_BODY_BYTES: "12",
    GATEWAY_INSECURE_LOCAL: "maybe",
    GATEWAY_INTRA_OP_THREADS: "-1",
    OTEL_DENO: "sure",
    OTEL_EXPORTER_OTLP_ENDPOINT: "jaeger:4318",
    OTEL_EXPORTER_OTLP_PROTOCOL: "grpc",
  });
  assert.equal(problems.length, 9, problems.join("\n"));
  const text = problems.join("\n");
  for (
    const name of [
      "GATEWAY_PORT",
      "GATEWAY_EXECUTION_PROVIDER must be one of cpu, cuda",
      "GATEWAY_TOKEN must be at least 16",
      "GATEWAY_MAX_BODY_BYTES",
      "GATEWAY_INSECURE_LOCAL",
      "GATEWAY_INTRA_OP_THREADS",
      "OTEL_DENO",
      "OTEL_EXPORTER_OTLP_ENDPOINT",
      "OTEL_EXPORTER_OTLP_PROTOCOL",
    ]
  ) assert.ok(text.includes(name), `${name} missing from:\n${text}`);
  assert.ok(!text.includes("short secret"));
});

Deno.test("describeConfig() names the auth mode and tracing target but not the token", () => {
  const line = describeConfig(loadConfig({ GATEWAY_TOKEN: TOKEN, OTEL_DENO: "true" }));
  assert.ok(!line.includes(TOKEN));
  assert.match(line, /auth=bearer-token/);
  assert.match(line, /otel=on \(unknown_service:deno -> http:\/\/localhost:4318, http\/protobuf\)/);
});

Deno.test("loadConfig() reads GATEWAY_BATCH_MAX and GATEWAY_BATCH_WAIT_MS and rejects bad values", () => {
  const config = loadConfig({ GATEWAY_TOKEN: TOKEN, GATEWAY_BATCH_MAX: "16", GATEWAY_BATCH_WAIT_MS: "3" });
  assert.deepEqual(config.batch, { maxBatch: 16, waitMs: 3 });
  assert.match(describeConfig(config), /batch=16\/3ms/);
  assert.match(describeConfig(loadConfig({ GATEWAY_TOKEN: TOKEN, GATEWAY_BATCH_MAX: "0" })), /batch=off/);
  try {
    loadConfig({ GATEWAY_TOKEN: TOKEN, GATEWAY_BATCH_MAX: "-1", GATEWAY_BATCH_WAIT_MS: "soon" });
    assert.fail("expected a ConfigError");
  } catch (err) {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.problems.length, 2);
    assert.match(err.problems[0]!, /GATEWAY_BATCH_MAX must be an integer in 0\.\.1024/);
    assert.match(err.problems[1]!, /GATEWAY_BATCH_WAIT_MS/);
  }
});

Deno.test("loadConfig() reads GATEWAY_CPU_MEM_ARENA and GATEWAY_MEM_PATTERN as booleans and rejects other values", () => {
  const off = loadConfig({ GATEWAY_TOKEN: TOKEN, GATEWAY_CPU_MEM_ARENA: "false", GATEWAY_MEM_PATTERN: "0" });
  assert.deepEqual(off.memory, { cpuArena: false, pattern: false });
  assert.match(describeConfig(off), /cpuArena=off memPattern=off/);
  const on = loadConfig({ GATEWAY_TOKEN: TOKEN, GATEWAY_CPU_MEM_ARENA: "TRUE", GATEWAY_MEM_PATTERN: " on " });
  assert.deepEqual(on.memory, { cpuArena: true, pattern: true });
  assert.match(describeConfig(on), /cpuArena=on memPattern=on/);
  const problems = problemsOf({ GATEWAY_TOKEN: TOKEN, GATEWAY_CPU_MEM_ARENA: "arena", GATEWAY_MEM_PATTERN: "2" });
  assert.deepEqual(problems, [
    'GATEWAY_CPU_MEM_ARENA must be true or false, got "arena"',
    'GATEWAY_MEM_PATTERN must be true or false, got "2"',
  ]);
});

Deno.test("loadConfig() reads GATEWAY_AUTH: bearer by default, hmac reusing GATEWAY_TOKEN as the secret", () => {
  assert.deepEqual(loadConfig({ GATEWAY_TOKEN: TOKEN, GATEWAY_AUTH: "bearer" }).auth, { mode: "token", token: TOKEN });
  const config = loadConfig({ GATEWAY_TOKEN: TOKEN, GATEWAY_AUTH: "hmac" });
  assert.deepEqual(config.auth, { mode: "hmac", token: TOKEN });
  const line = describeConfig(config);
  assert.match(line, /auth=hmac-sha256 \(replay window 30s\)/);
  assert.ok(!line.includes(TOKEN));
  assert.match(problemsOf({ GATEWAY_TOKEN: TOKEN, GATEWAY_AUTH: "jwt" }).join("\n"), /GATEWAY_AUTH must be one of/);
  assert.match(
    problemsOf({ GATEWAY_AUTH: "hmac", GATEWAY_INSECURE_LOCAL: "true" }).join("\n"),
    /GATEWAY_AUTH=hmac needs GATEWAY_TOKEN/,
  );
});

Deno.test("loadConfig() reads GATEWAY_MODEL_DIRS as a list and GATEWAY_MODEL_DIR as a one-folder alias", () => {
  assert.deepEqual(loadConfig({ GATEWAY_TOKEN: TOKEN }).modelDirs, DEFAULT_MODEL_DIRS);
  const config = loadConfig({ GATEWAY_TOKEN: TOKEN, GATEWAY_MODEL_DIRS: " models/a, /srv/b/ ,models/c" });
  assert.deepEqual(config.modelDirs, ["models/a", "/srv/b/", "models/c"]);
  assert.ok(Object.isFrozen(config.modelDirs));
  assert.match(describeConfig(config), /models=models\/a,\/srv\/b\/,models\/c /);
  assert.deepEqual(loadConfig({ GATEWAY_TOKEN: TOKEN, GATEWAY_MODEL_DIR: "models/a" }).modelDirs, ["models/a"]);
});

Deno.test("loadConfig() refuses both model variables, empty entries and a folder named twice", () => {
  assert.match(
    problemsOf({ GATEWAY_TOKEN: TOKEN, GATEWAY_MODEL_DIR: "models/a", GATEWAY_MODEL_DIRS: "models/b" }).join("\n"),
    /GATEWAY_MODEL_DIR and GATEWAY_MODEL_DIRS are both set/,
  );
  assert.match(
    problemsOf({ GATEWAY_TOKEN: TOKEN, GATEWAY_MODEL_DIRS: "models/a,,models/b" }).join("\n"),
    /GATEWAY_MODEL_DIRS must be comma-separated folders with none empty/,
  );
  assert.match(
    problemsOf({ GATEWAY_TOKEN: TOKEN, GATEWAY_MODEL_DIRS: "models/a,./models/a/" }).join("\n"),
    /GATEWAY_MODEL_DIRS names \.\/models\/a\/ twice/,
  );
});

Deno.test("deno task gateway runs with GATEWAY_V8_FLAGS (the young-generation cap of docs/reliability.md)", async () => {
  const tasks = JSON.parse(await Deno.readTextFile(new URL("../deno.json", import.meta.url))).tasks;
  assert.ok(tasks.gateway.includes(`--v8-flags=${GATEWAY_V8_FLAGS} gateway/main.ts`), tasks.gateway);
});
