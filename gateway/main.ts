/**
 * `deno task gateway`: reads the configuration from the environment, loads every model folder on onnxruntime-node,
 * serves the gateway app for all of them, and on SIGTERM or SIGINT stops accepting, lets in-flight requests finish,
 * and exits 0.
 * @module
 */

import { createApp, type ModelEntry } from "./app.ts";
import { ConfigError, describeConfig, type GatewayConfig, loadConfig } from "./config.ts";
import { createDrain } from "./drain.ts";
import { loadNodeRunner } from "./runtime/onnx.ts";

async function main(): Promise<number> {
  let config: GatewayConfig;
  try {
    config = loadConfig(Deno.env.toObject());
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    return 2;
  }
  console.log(`gateway: ${describeConfig(config)}`);
  const runners = await loadModels(config);
  if (runners === undefined) return 1;
  const app = createApp({
    models: runners.map((runner): ModelEntry => ({ runner, model: runner.manifest })),
    provider: config.executionProvider,
    auth: config.auth,
    maxBodyBytes: config.maxBodyBytes,
    bodyTimeoutMs: config.bodyTimeoutMs,
    batch: config.batch,
  });
  const drain = createDrain();
  const server = Deno.serve({
    port: config.port,
    hostname: config.hostname,
    onListen: ({ hostname, port }) => {
      const names = runners.map((r) => `${r.manifest.id}@${r.manifest.version}`).join(", ");
      console.log(`gateway: serving ${names} on http://${hostname}:${port} (POST /v1/complete)`);
    },
  }, drain.wrap(app.fetch));

  let stopping = false;
  const stop = async (signal: Deno.Signal) => {
    if (stopping) {
      console.error(`gateway: ${signal} again, exiting now`);
      Deno.exit(1);
    }
    stopping = true;
    console.log(`gateway: ${signal}: taking no new requests, finishing ${drain.inFlight} in flight`);
    const timer = setTimeout(() => {
      console.error(`gateway: in-flight requests still running after ${config.shutdownGraceMs} ms, exiting`);
      Deno.exit(1);
    }, config.shutdownGraceMs);
    // Drain before shutdown(): see drain.ts for the Deno 2.9 body-read bug this avoids.
    await drain.drain();
    await server.shutdown();
    clearTimeout(timer);
  };
  const signals: Deno.Signal[] = Deno.build.os === "windows" ? ["SIGINT"] : ["SIGINT", "SIGTERM"];
  for (const signal of signals) Deno.addSignalListener(signal, () => void stop(signal));
  await server.finished;
  const exitCode = await disposeAll(runners) ? 0 : 1;
  console.log("gateway: stopped");
  return exitCode;
}

type NodeRunner = Awaited<ReturnType<typeof loadNodeRunner>>;

/** Loads every model folder in order, logging each; on a failure or a duplicate id, logs why and releases the rest. */
async function loadModels(config: GatewayConfig): Promise<NodeRunner[] | undefined> {
  const runners: NodeRunner[] = [];
  const dirOf = new Map<string, string>();
  for (const dir of config.modelDirs) {
    let runner: NodeRunner;
    try {
      runner = await loadNodeRunner(dir, {
        executionProvider: config.executionProvider,
        preload: "all",
        cpuMemArena: config.memory.cpuArena,
        memPattern: config.memory.pattern,
        ...(config.intraOpThreads === undefined ? {} : { intraOpThreads: config.intraOpThreads }),
      });
    } catch (err) {
      console.error(`gateway: cannot load the model from ${dir}: ${err instanceof Error ? err.message : err}`);
      await disposeAll(runners);
      return undefined;
    }
    runners.push(runner);
    const { id, version, layers } = runner.manifest;
    const clash = dirOf.get(id);
    if (clash !== undefined) {
      console.error(`gateway: ${clash} and ${dir} both hold model id ${id}; every served model id must be unique`);
      await disposeAll(runners);
      return undefined;
    }
    dirOf.set(id, dir);
    console.log(`gateway: loaded ${id}@${version} (${layers} layers) from ${dir}`);
  }
  return runners;
}

/** Releases every runner's sessions; false when any failed (each failure is logged). */
async function disposeAll(runners: readonly NodeRunner[]): Promise<boolean> {
  let ok = true;
  for (const runner of runners) {
    try {
      await runner.dispose();
    } catch (err) {
      console.error(`gateway: releasing the sessions of ${runner.manifest.id} failed`, err);
      ok = false;
    }
  }
  return ok;
}

if (import.meta.main) Deno.exit(await main());
