/**
 * `deno task gateway`: reads the configuration from the environment, loads the model on onnxruntime-node, serves the
 * gateway app, and on SIGTERM or SIGINT stops accepting, lets in-flight requests finish, and exits 0.
 * @module
 */

import { createApp } from "./app.ts";
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
  let runner: Awaited<ReturnType<typeof loadNodeRunner>>;
  try {
    runner = await loadNodeRunner(config.modelDir, {
      executionProvider: config.executionProvider,
      preload: "all",
      ...(config.intraOpThreads === undefined ? {} : { intraOpThreads: config.intraOpThreads }),
    });
  } catch (err) {
    console.error(
      `gateway: cannot load the model from ${config.modelDir}: ${err instanceof Error ? err.message : err}`,
    );
    return 1;
  }
  const app = createApp({
    runner,
    model: runner.manifest,
    provider: config.executionProvider,
    auth: config.auth,
    maxBodyBytes: config.maxBodyBytes,
    batch: config.batch,
  });
  const drain = createDrain();
  const server = Deno.serve({
    port: config.port,
    hostname: config.hostname,
    onListen: ({ hostname, port }) => {
      const m = runner.manifest;
      console.log(`gateway: serving ${m.id}@${m.version} on http://${hostname}:${port} (POST /v1/complete)`);
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
  let exitCode = 0;
  try {
    await runner.dispose();
  } catch (err) {
    console.error("gateway: releasing sessions failed", err);
    exitCode = 1;
  }
  console.log("gateway: stopped");
  return exitCode;
}

if (import.meta.main) Deno.exit(await main());
