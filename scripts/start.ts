/**
 * `deno task start`: runs the gateway and the edge locally as two child processes, with embedded defaults that work
 * from a fresh clone (CPU onnxruntime, KV file `.data/policy.kv`, gateway on 8001 and edge on 8000, a random shared
 * token generated for this run unless `GATEWAY_TOKEN` is set or `GATEWAY_INSECURE_LOCAL=true` is asked for, no rate
 * limit unless `EDGE_RATE_LIMIT_RPS` is set: every local client shares one address). Any `EDGE_*`, `GATEWAY_*`,
 * `SPLITEE_*` or `OTEL_*` variable in the environment is passed through. Waits until both answer `/healthz`, prints
 * the URLs and a sample `curl`, and then supervises them: a child that exits on its own is logged and restarted on
 * the same port after a backoff (1 s, doubling up to 30 s; back to 1 s once it has run for a minute), while the other
 * keeps serving (the edge answers on its own while the gateway is down). On Ctrl-C or SIGTERM it stops both (SIGTERM,
 * then SIGKILL after 15 s) and exits 0.
 * @module
 */

import { GATEWAY_V8_FLAGS } from "../gateway/config.ts";

const ROOT = new URL("../", import.meta.url);
const READY_TIMEOUT_MS = 180_000;
const STOP_TIMEOUT_MS = 15_000;
/** First restart delay; doubled after each restart up to {@linkcode BACKOFF_MAX_MS}. */
const BACKOFF_MIN_MS = 1_000;
const BACKOFF_MAX_MS = 30_000;
/** A child that ran this long before it exited is restarted after the first delay again. */
const STABLE_MS = 60_000;
/** Time for a signal meant for every process (a terminal Ctrl-C) to reach this process too, before a restart. */
const EXIT_SETTLE_MS = 300;

interface Child {
  readonly name: string;
  readonly process: Deno.ChildProcess;
  readonly url: Promise<string>;
  exited: boolean;
}

function randomToken(): string {
  return Array.from(crypto.getRandomValues(new Uint8Array(24)), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** Starts `deno run -A --unstable-kv <entry>`, prefixing its output, and resolves `url` from its ready line. */
function spawn(name: string, entry: string, env: Record<string, string>, ready: RegExp): Child {
  const process = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--unstable-kv", entry],
    cwd: ROOT,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let resolveUrl: (url: string) => void = () => {};
  const url = new Promise<string>((resolve) => (resolveUrl = resolve));
  const pump = async (stream: ReadableStream<Uint8Array>, out: typeof Deno.stdout) => {
    let buffer = "";
    const encoder = new TextEncoder();
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      buffer += chunk;
      let nl: number;
      while ((nl = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        const m = ready.exec(line);
        if (m) resolveUrl(m[1]!.replace(/\/+$/, ""));
        await out.write(encoder.encode(`[${name}] ${line}\n`));
      }
    }
  };
  void pump(process.stdout, Deno.stdout);
  void pump(process.stderr, Deno.stderr);
  const child: Child = { name, process, url, exited: false };
  process.status.then(() => (child.exited = true));
  return child;
}

async function waitHealthy(child: Child): Promise<string> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const url = await Promise.race([
    child.url,
    child.process.status.then((s) => {
      throw new Error(`${child.name} exited with code ${s.code} during startup`);
    }),
    new Promise<never>((_, reject) =>
      setTimeout(() => reject(new Error(`${child.name} did not start in time`)), READY_TIMEOUT_MS)
    ),
  ]);
  while (Date.now() < deadline) {
    try {
      const res = await fetch(`${url}/healthz`);
      await res.body?.cancel();
      if (res.ok) return url;
    } catch {
      // not accepting yet
    }
    if (child.exited) throw new Error(`${child.name} exited during startup`);
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${child.name} did not become healthy at ${url}/healthz`);
}

/**
 * Stops a child. After a terminal Ctrl-C the child got SIGINT itself (same process group) and is draining: give it
 * `graceMs` before sending SIGTERM, so it is not signalled twice.
 */
async function stop(child: Child, graceMs = 0): Promise<number> {
  if (graceMs > 0 && !child.exited) {
    let t: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([child.process.status, new Promise((r) => (t = setTimeout(r, graceMs)))]);
    clearTimeout(t);
  }
  if (!child.exited) {
    try {
      child.process.kill("SIGTERM");
    } catch {
      // already gone
    }
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      if (!child.exited) {
        console.error(`start: ${child.name} did not stop in ${STOP_TIMEOUT_MS / 1000} s; killing it`);
        child.process.kill("SIGKILL");
      }
      resolve();
    }, STOP_TIMEOUT_MS);
  });
  const status = await Promise.race([child.process.status, killed.then(() => child.process.status)]);
  clearTimeout(timer);
  return status.code;
}

/** One supervised service: how to (re)start it and its current process. */
interface Service {
  readonly name: string;
  readonly entry: string;
  /** The environment of its next start (the port is pinned to the first start's one). */
  env: Record<string, string>;
  readonly ready: RegExp;
  child: Child;
}

/**
 * Restarts `svc` whenever its process exits while `stopping()` is false: logs the exit, waits the backoff, starts it
 * again and waits for `/healthz`. Resolves once `stopping()` is true.
 */
async function supervise(
  svc: Service,
  stopping: () => boolean,
  replace: (old: Child, next: Child) => void,
): Promise<void> {
  let delay = BACKOFF_MIN_MS;
  for (;;) {
    const startedAt = Date.now();
    const status = await svc.child.process.status;
    await sleep(EXIT_SETTLE_MS);
    if (stopping()) return;
    if (Date.now() - startedAt >= STABLE_MS) delay = BACKOFF_MIN_MS;
    const how = status.signal ? `killed by ${status.signal}` : `exited with code ${status.code}`;
    console.error(`start: ${svc.name} (pid ${svc.child.process.pid}) ${how}; restarting it in ${delay / 1000} s`);
    await sleep(delay);
    if (stopping()) return;
    delay = Math.min(2 * delay, BACKOFF_MAX_MS);
    const old = svc.child;
    svc.child = spawn(svc.name, svc.entry, svc.env, svc.ready);
    replace(old, svc.child);
    try {
      const url = await waitHealthy(svc.child);
      console.log(`start: ${svc.name} restarted (pid ${svc.child.process.pid}) at ${url}`);
    } catch (error) {
      if (stopping()) return;
      console.error(`start: restarting ${svc.name} failed: ${error instanceof Error ? error.message : error}`);
      if (!svc.child.exited) svc.child.process.kill("SIGKILL");
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** `env` with the port variable set to the port of `url` (a restart binds the port the first start got). */
function pinPort(env: Record<string, string>, variable: string, url: string): Record<string, string> {
  return { ...env, [variable]: new URL(url).port };
}

async function main(): Promise<number> {
  const passthrough = Object.fromEntries(
    Object.entries(Deno.env.toObject()).filter(([k]) => /^(EDGE_|GATEWAY_|SPLITEE_|OTEL_)/.test(k)),
  );
  const insecure = /^(true|1|yes|on)$/i.test(passthrough.GATEWAY_INSECURE_LOCAL ?? "");
  const auth: Record<string, string> = insecure && !passthrough.GATEWAY_TOKEN
    ? {}
    : { GATEWAY_TOKEN: passthrough.GATEWAY_TOKEN ?? randomToken() };
  const children: Child[] = [];
  let stopping = false;
  const shutdown = async (why: string): Promise<number> => {
    if (stopping) return 0;
    stopping = true;
    console.log(`start: ${why}: stopping edge and gateway`);
    let code = 0;
    const graceMs = why === "SIGINT" ? 3000 : 0;
    for (const child of [...children].reverse()) code = Math.max(code, await stop(child, graceMs));
    return code === 0 ? 0 : 1;
  };
  const exitOn = (signal: Deno.Signal) => {
    try {
      Deno.addSignalListener(signal, () => void shutdown(signal).then(() => Deno.exit(0)));
    } catch {
      // signal not supported on this platform
    }
  };
  exitOn("SIGINT");
  exitOn("SIGTERM");

  try {
    const gatewayEnv = {
      DENO_V8_FLAGS: GATEWAY_V8_FLAGS, // the young-generation cap that keeps its RSS flat (gateway/config.ts)
      GATEWAY_PORT: "8001",
      OTEL_SERVICE_NAME: "splitee-gateway",
      ...passthrough,
      ...auth,
    };
    const gateway: Service = {
      name: "gateway",
      entry: "gateway/main.ts",
      env: gatewayEnv,
      ready: /serving .* on (http:\/\/\S+)/,
      child: spawn("gateway", "gateway/main.ts", gatewayEnv, /serving .* on (http:\/\/\S+)/),
    };
    children.push(gateway.child);
    const gatewayUrl = await waitHealthy(gateway.child);
    gateway.env = pinPort(gateway.env, "GATEWAY_PORT", gatewayUrl);
    const edgeEnv = {
      EDGE_PORT: "8000",
      EDGE_RATE_LIMIT_RPS: "0", // local: every client is 127.0.0.1, one bucket for all (set it to turn the limit on)
      ...passthrough,
      GATEWAY_URL: passthrough.GATEWAY_URL ?? gatewayUrl,
      ...auth,
      OTEL_SERVICE_NAME: "splitee-edge",
    };
    const edge: Service = {
      name: "edge",
      entry: "edge/main.ts",
      env: edgeEnv,
      ready: /listening on (http:\/\/\S+)/,
      child: spawn("edge", "edge/main.ts", edgeEnv, /listening on (http:\/\/\S+)/),
    };
    children.push(edge.child);
    const edgeUrl = await waitHealthy(edge.child);
    edge.env = pinPort(edge.env, "EDGE_PORT", edgeUrl);
    console.log(`
SplitEE is running
  edge:    ${edgeUrl}   (page: ${edgeUrl}/, API docs: ${edgeUrl}/docs, policy: ${edgeUrl}/v1/policy)
  gateway: ${gatewayUrl}
Try:
  curl -s -X POST ${edgeUrl}/v1/classify -H 'content-type: application/json' \\
    -d '{"text": "a charming and often affecting journey"}'
  curl -s -X POST ${edgeUrl}/v1/classify -H 'content-type: application/json' \\
    -d '{"model": "paraphrase-en", "text": "How do I learn guitar fast?", "textPair": "What is the quickest way to learn guitar?"}'
  curl -s -X POST ${edgeUrl}/v1/classify -H 'content-type: application/json' \\
    -d '{"text": "a charming and often affecting journey", "split": 3, "earlyExit": false}'   # answered by the gateway
Press Ctrl-C to stop.`);
    console.log(`start: gateway pid ${gateway.child.process.pid}, edge pid ${edge.child.process.pid}`);
    // shutdown() must stop the current processes: a restarted child takes its predecessor's place in `children`.
    const replace = (old: Child, next: Child) => children.splice(children.indexOf(old), 1, next);
    await Promise.all([supervise(gateway, () => stopping, replace), supervise(edge, () => stopping, replace)]);
    return await new Promise<number>(() => {}); // stopping: the signal handler exits
  } catch (error) {
    console.error(`start: ${error instanceof Error ? error.message : error}`);
    await shutdown("startup failed");
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main());
