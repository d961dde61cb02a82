/**
 * gateway/main.ts as a real process: configuration errors stop it before loading anything; with Deno's OpenTelemetry
 * on it joins the caller's W3C trace and exports the layer span over OTLP; SIGTERM lets an in-flight request finish
 * and exits 0.
 */
import assert from "node:assert/strict";
import { ATTR, SPAN } from "../shared/tracing.ts";
import { createOffloadRequest, decodeOffloadResponse, encodeOffloadRequest } from "../shared/wire/mod.ts";

const MAIN = new URL("./main.ts", import.meta.url).pathname;
const ROOT = new URL("../", import.meta.url).pathname;
const TOKEN = "main-test-token-0123456789";

function spawnGateway(env: Record<string, string>): Deno.ChildProcess {
  return new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN],
    cwd: ROOT,
    env: { GATEWAY_PORT: "0", GATEWAY_INTRA_OP_THREADS: "1", OTEL_DENO: "false", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
}

/** Reads stdout until the listening line; returns the base URL and the rest of the stream's text as it arrives. */
async function waitForListening(child: Deno.ChildProcess): Promise<{ url: string; output: () => string }> {
  let text = "";
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  const deadline = setTimeout(() => reader.cancel(), 60_000);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += value;
    const m = /on (http:\/\/[^\s]+) \(POST/.exec(text);
    if (m) {
      clearTimeout(deadline);
      (async () => {
        for (;;) {
          const r = await reader.read().catch(() => ({ done: true, value: "" }));
          if (r.done) break;
          text += r.value;
        }
      })();
      return { url: m[1]!, output: () => text };
    }
  }
  clearTimeout(deadline);
  throw new Error(`gateway did not start:\n${text}`);
}

/** SIGKILLs a gateway spawned by {@linkcode spawnGateway} (if still running) and waits for it to exit. */
async function killGateway(child: Deno.ChildProcess): Promise<void> {
  try {
    child.kill("SIGKILL");
  } catch { /* already exited */ }
  await child.status;
  await child.stderr.cancel().catch(() => {});
}

async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((
    _,
    reject,
  ) => (timer = setTimeout(() => reject(new Error(`${what} timed out`)), ms)));
  try {
    return await Promise.race([p, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

Deno.test("gateway/main.ts refuses to start without a token and names the variable", async () => {
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", MAIN],
    cwd: ROOT,
    env: { GATEWAY_TOKEN: "", GATEWAY_INSECURE_LOCAL: "", GATEWAY_PORT: "abc" },
    stdout: "null",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(stderr);
  assert.equal(code, 2, text);
  assert.match(text, /GATEWAY_TOKEN is not set/);
  assert.match(text, /GATEWAY_PORT must be an integer/);
});

Deno.test({
  name: "gateway/main.ts joins the caller's trace, exports the layer span, and drains in-flight work on SIGTERM",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const exported: unknown[] = [];
    const receiver = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, async (req) => {
      if (new URL(req.url).pathname === "/v1/traces") exported.push(await req.json());
      else await req.body?.cancel();
      return Response.json({});
    });
    const child = spawnGateway({
      GATEWAY_TOKEN: TOKEN,
      OTEL_DENO: "true",
      OTEL_SERVICE_NAME: "splitee-gateway",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.addr.port}`,
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_DENO_CONSOLE: "ignore",
    });
    try {
      const { url, output } = await waitForListening(child);
      const manifest = (await (await fetch(`${url}/healthz`)).json()).model;
      const body = encodeOffloadRequest(createOffloadRequest({
        model: manifest,
        splitLayer: 5,
        dims: [3, 128],
        hidden: Float32Array.from({ length: 3 * 128 }, (_, i) => Math.cos(i)),
      }));
      const traceId = "4bf92f3577b34da6a3ce929d0e0e4736";
      const parentId = "00f067aa0ba902b7";
      const headers = {
        "content-type": "application/msgpack",
        authorization: `Bearer ${TOKEN}`,
        traceparent: `00-${traceId}-${parentId}-01`,
      };
      const res = await fetch(`${url}/v1/complete`, { method: "POST", body, headers });
      assert.equal(res.status, 200);
      assert.equal(decodeOffloadResponse(new Uint8Array(await res.arrayBuffer())).exitLayer, 12);

      // A request whose body is still arriving when SIGTERM comes must still be answered.
      let sendRest!: () => void;
      const slowBody = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(body.subarray(0, 100));
          sendRest = () => {
            controller.enqueue(body.subarray(100));
            controller.close();
          };
        },
      });
      const inFlight = fetch(`${url}/v1/complete`, {
        method: "POST",
        body: slowBody,
        headers: { "content-type": "application/msgpack", authorization: `Bearer ${TOKEN}` },
        duplex: "half",
      } as RequestInit);
      await new Promise((r) => setTimeout(r, 300));
      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 300));
      sendRest();
      const late = await withTimeout(inFlight, 10_000, "in-flight request");
      assert.equal(late.status, 200, await late.clone().text());
      await late.body?.cancel();
      const status = await withTimeout(child.status, 20_000, "gateway exit");
      assert.equal(status.code, 0, output());
      assert.match(output(), /SIGTERM: taking no new requests, finishing 1 in flight/);
      await assert.rejects(fetch(`${url}/healthz`), "no longer accepting connections");

      const spans = exported.flatMap((doc) => otlpSpans(doc));
      const layerSpan = spans.find((s) => s.name === SPAN.gatewayLayers && s.traceId === traceId);
      assert.ok(
        layerSpan,
        `no ${SPAN.gatewayLayers} span in trace ${traceId}: ${JSON.stringify(spans.map((s) => s.name))}`,
      );
      assert.equal(layerSpan.service, "splitee-gateway");
      const server = spans.find((s) => s.spanId === layerSpan.parentSpanId);
      assert.ok(server, "the layer span's parent (Deno's server span) was exported");
      assert.equal(server.parentSpanId, parentId, "the server span continues the caller's traceparent");
      assert.equal(server.name, "POST /v1/complete");
      assert.equal(layerSpan.attributes[ATTR.splitLayer], 5);
      assert.equal(layerSpan.attributes[ATTR.layersRun], 7);
      assert.equal(layerSpan.attributes[ATTR.payloadBytes], body.byteLength);
      assert.equal(layerSpan.attributes[ATTR.modelId], manifest.id);
    } finally {
      await killGateway(child);
      await receiver.shutdown();
    }
  },
});

/** A temporary model folder: models/sentiment's files (symlinked) with manifest.json's `id` set to `id`. */
async function copyOfSentiment(id: string): Promise<string> {
  const src = `${ROOT}models/sentiment/`;
  const dir = await Deno.makeTempDir({ prefix: "gateway-model-" });
  for await (const entry of Deno.readDir(src)) {
    if (entry.name !== "manifest.json") await Deno.symlink(`${src}${entry.name}`, `${dir}/${entry.name}`);
  }
  const manifest = JSON.parse(await Deno.readTextFile(`${src}manifest.json`));
  await Deno.writeTextFile(`${dir}/manifest.json`, JSON.stringify({ ...manifest, id }));
  return dir;
}

Deno.test({
  name: "gateway/main.ts serves every folder of GATEWAY_MODEL_DIRS and refuses two folders with one model id",
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const copy = await copyOfSentiment("sentiment-copy");
    const twin = await copyOfSentiment(JSON.parse(await Deno.readTextFile(`${ROOT}models/sentiment/manifest.json`)).id);
    const child = spawnGateway({ GATEWAY_INSECURE_LOCAL: "true", GATEWAY_MODEL_DIRS: `models/sentiment,${copy}` });
    try {
      const { url, output } = await waitForListening(child);
      assert.match(output(), /loaded sentiment-en@\w+ \(12 layers\) from models\/sentiment\n/);
      assert.match(output(), new RegExp(`loaded sentiment-copy@\\w+ \\(12 layers\\) from ${copy}\n`));
      assert.match(output(), /serving sentiment-en@\w+, sentiment-copy@\w+ on http/);
      const health = await (await fetch(`${url}/healthz`)).json();
      assert.deepEqual(health.models.map((m: { id: string }) => m.id), ["sentiment-en", "sentiment-copy"]);
      const body = encodeOffloadRequest(createOffloadRequest({
        model: health.models[1],
        splitLayer: 5,
        dims: [3, 128],
        hidden: Float32Array.from({ length: 3 * 128 }, (_, i) => Math.cos(i)),
      }));
      const res = await fetch(`${url}/v1/complete`, {
        method: "POST",
        body,
        headers: { "content-type": "application/msgpack" },
      });
      assert.equal(res.status, 200);
      assert.equal(decodeOffloadResponse(new Uint8Array(await res.arrayBuffer())).model.id, "sentiment-copy");
      child.kill("SIGTERM");
      assert.equal((await withTimeout(child.status, 20_000, "gateway exit")).code, 0, output());

      const clash = await new Deno.Command(Deno.execPath(), {
        args: ["run", "-A", MAIN],
        cwd: ROOT,
        env: {
          GATEWAY_INSECURE_LOCAL: "true",
          GATEWAY_INTRA_OP_THREADS: "1",
          GATEWAY_MODEL_DIRS: `models/sentiment,${twin}`,
        },
        stdout: "null",
        stderr: "piped",
      }).output();
      const text = new TextDecoder().decode(clash.stderr);
      assert.equal(clash.code, 1, text);
      assert.match(text, new RegExp(`models/sentiment and ${twin} both hold model id sentiment-en`));
    } finally {
      await killGateway(child);
      await Deno.remove(copy, { recursive: true });
      await Deno.remove(twin, { recursive: true });
    }
  },
});

interface FlatSpan {
  service: string | undefined;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId: string | undefined;
  attributes: Record<string, unknown>;
}

/** Spans of an OTLP/JSON export request, with attribute values unwrapped (intValue strings become numbers). */
function otlpSpans(doc: unknown): FlatSpan[] {
  // deno-lint-ignore no-explicit-any
  const d = doc as any;
  const out: FlatSpan[] = [];
  for (const rs of d.resourceSpans ?? []) {
    const service = value(rs.resource?.attributes?.find((a: { key: string }) => a.key === "service.name")?.value);
    for (const ss of rs.scopeSpans ?? []) {
      for (const s of ss.spans ?? []) {
        const attributes: Record<string, unknown> = {};
        for (const a of s.attributes ?? []) attributes[a.key] = value(a.value);
        out.push({
          service: service as string | undefined,
          name: s.name,
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          attributes,
        });
      }
    }
  }
  return out;
}

function value(v: Record<string, unknown> | undefined): unknown {
  if (!v) return undefined;
  if ("intValue" in v) return Number(v.intValue);
  return v.stringValue ?? v.doubleValue ?? v.boolValue;
}
