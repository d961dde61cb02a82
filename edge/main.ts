/**
 * Edge entry point (`deno task edge`; the Deno Deploy entrypoint): resolves the config from the environment, loads
 * every configured model for onnxruntime-web (sessions open lazily, and are preloaded in the background after the
 * server listens, one session at a time and only while no request is in flight: edge/idle_gate.ts), opens Deno KV,
 * and serves the app. On SIGTERM or
 * SIGINT it stops accepting, finishes in-flight requests (up to `EDGE_SHUTDOWN_GRACE_MS`), flushes the policy
 * statistics to KV and exits 0 (Deno flushes pending OpenTelemetry data on exit). If onnxruntime-web's WASM instance
 * traps, the instance answers nothing more (503 problems, edge/runtime/wasm_lock.ts) and the process stops the same
 * way but exits 1, so that its supervisor (`deno task start`, systemd, Deno Deploy) starts a fresh one.
 * @module
 */

import { parseManifest } from "../shared/manifest.ts";
import { ConfigError, type EdgeConfig, loadConfig } from "./config.ts";
import { createIdleGate } from "./idle_gate.ts";
import { edgeMaxSplit } from "./model_info.ts";
import { loadWebRunner, onWasmTrap } from "./runtime/onnx.ts";
import { scratchReader } from "./runtime/scratch_reader.ts";
import { createEdgeService, type EdgeModel } from "./service.ts";

async function openKv(config: EdgeConfig): Promise<Deno.Kv> {
  if (typeof Deno.openKv !== "function") {
    throw new Error('Deno KV is unavailable: add "unstable": ["kv"] to deno.json or run with --unstable-kv');
  }
  const path = config.kv.path;
  if (path === undefined) return await Deno.openKv();
  if (path !== ":memory:") {
    const dir = path.replace(/[\\/][^\\/]*$/, "");
    if (dir !== path && dir !== "") await Deno.mkdir(dir, { recursive: true });
  }
  return await Deno.openKv(path);
}

async function main(): Promise<number> {
  let config: EdgeConfig;
  try {
    config = loadConfig(Deno.env.toObject());
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    console.error(e.message);
    return 2;
  }
  const models: (EdgeModel & { runner: Awaited<ReturnType<typeof loadWebRunner>> })[] = [];
  for (const folder of config.modelDirs) {
    const dir = folder.replace(/\/+$/, "");
    try {
      const manifest = parseManifest(JSON.parse(await Deno.readTextFile(`${dir}/manifest.json`)));
      const vocabText = await Deno.readTextFile(`${dir}/${manifest.tokenizer.vocab}`);
      const runner = await loadWebRunner({ manifest, files: scratchReader(dir) }, config.wasm);
      models.push({ manifest, vocabText, runner });
    } catch (e) {
      console.error(`edge: cannot load the model in ${dir}: ${e instanceof Error ? e.message : e}`);
      await Promise.allSettled(models.map((m) => m.runner.dispose()));
      return 2;
    }
  }
  const kv = await openKv(config);
  // Requests and background session creation never overlap (see edge/idle_gate.ts for why).
  const gate = createIdleGate();
  const seed = config.policy.seed ?? crypto.getRandomValues(new Uint32Array(1))[0]!;
  const edge = await createEdgeService({
    config,
    models,
    kv,
    fetch,
    seed,
    ...(config.logDecisions ? { log: (entry) => console.log(JSON.stringify({ decision: entry })) } : {}),
  });

  const server = Deno.serve({
    port: config.port,
    hostname: config.hostname,
    onListen: ({ hostname, port }) => {
      const gatewayAuth = config.gateway.token ? ` (${config.gateway.auth} auth)` : " without a token";
      console.log(
        `edge: listening on http://${hostname}:${port} (models ${
          models.map((m) => `${m.manifest.id}@${m.manifest.version}`).join(", ")
        }${config.maxSplit === undefined ? "" : `, layers 1..${config.maxSplit} on the edge`}, policy ` +
          `${edge.policy.name}, ${config.cost.mode} costs, gateway ${config.gateway.url}` +
          `${gatewayAuth}, KV ${config.kv.path ?? "Deno Deploy"})`,
      );
    },
  }, async (request, info) => {
    await gate.enter();
    try {
      return await edge.app.fetch(request, info);
    } finally {
      gate.leave();
    }
  });

  // Open the ONNX sessions in the background, so that later requests (and measured edge costs) do not pay for session
  // creation; a request that arrives first opens what it needs itself. Default model first, one session at a time,
  // each only while no request is in flight; a request that arrives during one waits for it to finish (at most one
  // session's creation, ~25-60 ms for a layer) instead of running alongside it: onnxruntime-web creates sessions on
  // the one JS thread, so an overlap delays the request and inflates its measured communication cost
  // (docs/benchmarks.md, "Through the real edge process" and "Link emulator").
  // With EDGE_MAX_SPLIT = K only layers 1..K are ever opened: the rest of the model stays on disk (the gateway runs it).
  void (async () => {
    for (const m of models) {
      const maxSplit = edgeMaxSplit(config, m.manifest.layers);
      for (const { layer } of m.manifest.segments.filter((s) => s.layer <= maxSplit)) {
        await gate.runWhenIdle(() => m.runner.preload([layer])); // the first call also opens the embedding
      }
    }
  })().catch((e) => console.error("edge: preloading sessions failed:", e));

  let code = 0;
  let stopping = false;
  const stop = (signal: Deno.Signal | "trap") => {
    if (stopping) return;
    stopping = true;
    console.log(`edge: ${signal}: no new connections, finishing in-flight requests`);
    const timer = setTimeout(() => {
      console.error(`edge: in-flight requests still running after ${config.shutdownGraceMs} ms, exiting`);
      code = 1;
      void edge.close().finally(() => Deno.exit(1));
    }, config.shutdownGraceMs);
    void server.shutdown().finally(() => clearTimeout(timer));
  };
  onWasmTrap((error) => {
    console.error(
      `edge: onnxruntime-web trapped (${error instanceof Error ? error.message : error}); ` +
        "this instance answers 503 from now on and exits so that a fresh one is started",
    );
    code = 1;
    stop("trap");
  });
  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    try {
      Deno.addSignalListener(signal, () => stop(signal));
    } catch {
      // Not available on this platform (Deno Deploy, SIGTERM on Windows): the platform stops the isolate.
    }
  }
  await server.finished;
  try {
    await edge.close(); // flushes the policy statistics
  } catch (e) {
    console.error("edge: writing the policy statistics failed:", e instanceof Error ? e.message : e);
    code = 1;
  }
  kv.close();
  await Promise.allSettled(models.map((m) => m.runner.dispose()));
  console.log("edge: stopped");
  return code;
}

if (import.meta.main) Deno.exit(await main());
