/**
 * Gateway and edge as real processes on loopback (ports chosen by the OS), with Deno's OpenTelemetry exporting
 * OTLP/HTTP JSON to a receiver inside this test:
 * - a few classifications over HTTP equal an in-process full-model run, and offloaded ones come from the gateway;
 * - SIGTERM stops both with exit code 0;
 * - the spans received show one trace per request across both services, with the SplitEE attributes.
 */
import { expect } from "expect";
import { padBatch, rowsOf, runAllExits } from "../shared/model_io.ts";
import { softmax } from "../shared/math.ts";
import { WordPieceTokenizer } from "../shared/tokenizer/mod.ts";
import { ATTR, SPAN } from "../shared/tracing.ts";
import { loadEdgeModel, readSst2, withTempDir } from "./e2e_helpers.ts";
import { type OtlpSpan, startOtlpReceiver } from "./e2e_otlp.ts";
import { spawnService } from "./e2e_spawn.ts";

const TOKEN = "process-token-0123456789abcdef";

Deno.test({
  name: "e2e processes: edge and gateway on loopback answer, trace across both hops, and stop on SIGTERM",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async (t) => {
    const { edgeRunner, manifest, vocabText } = await loadEdgeModel();
    const tokenizer = new WordPieceTokenizer(vocabText, { maxLength: manifest.maxLength });
    const receiver = startOtlpReceiver();
    const otel = (service: string) => ({
      OTEL_DENO: "true",
      OTEL_EXPORTER_OTLP_PROTOCOL: "http/json",
      OTEL_EXPORTER_OTLP_ENDPOINT: `http://127.0.0.1:${receiver.port}`,
      OTEL_SERVICE_NAME: service,
      OTEL_DENO_CONSOLE: "ignore",
    });
    await withTempDir(async (dir) => {
      const gateway = await spawnService("gateway/main.ts", {
        GATEWAY_PORT: "0",
        GATEWAY_TOKEN: TOKEN,
        GATEWAY_INTRA_OP_THREADS: "1",
        ...otel("splitee-gateway"),
      }, /serving .* on (http:\/\/\S+)/);
      const edge = await spawnService("edge/main.ts", {
        EDGE_PORT: "0",
        GATEWAY_URL: gateway.url,
        GATEWAY_TOKEN: TOKEN,
        EDGE_KV_PATH: `${dir}/policy.kv`,
        SPLITEE_POLICY: "offload-all",
        ...otel("splitee-edge"),
      }, /listening on (http:\/\/\S+)/);
      const traceIds: string[] = [];
      try {
        await t.step("classifications over HTTP equal an in-process full-model run", async () => {
          for (const { text } of (await readSst2()).slice(0, 4)) {
            const res = await fetch(`${edge.url}/v1/classify`, {
              method: "POST",
              headers: { "content-type": "application/json" },
              body: JSON.stringify({ text }),
            });
            expect(res.status).toBe(200);
            const body = await res.json();
            expect(body).toMatchObject({ splitLayer: 1, exitLayer: 12, answeredBy: "gateway", degraded: false });
            const exits = await runAllExits(edgeRunner, padBatch([tokenizer.encode(text)]));
            const reference = softmax(rowsOf(exits[manifest.layers - 1]!)[0]!);
            body.probabilities.forEach((p: number, i: number) =>
              expect(Math.abs(p - reference[i]!)).toBeLessThan(1e-4)
            );
            expect(body.traceId).toMatch(/^[0-9a-f]{32}$/);
            traceIds.push(body.traceId);
          }
          const health = await (await fetch(`${edge.url}/healthz`)).json();
          expect(health.status).toBe("ok");
        });
        await t.step("SIGTERM stops both services with exit code 0", async () => {
          expect(await edge.stop("SIGTERM")).toBe(0);
          expect(await gateway.stop("SIGTERM")).toBe(0);
        });
      } finally {
        await edge.kill();
        await gateway.kill();
      }
      await t.step("one trace spans both services with the SplitEE attributes", async () => {
        const spans = await receiver.waitFor((all) => {
          const ids = new Set(all.filter((s) => s.service === "splitee-gateway").map((s) => s.traceId));
          return traceIds.every((id) => ids.has(id));
        }, 10_000);
        for (const traceId of traceIds) {
          const trace = spans.filter((s) => s.traceId === traceId);
          const services = new Set(trace.map((s) => s.service));
          expect([...services].sort()).toEqual(["splitee-edge", "splitee-gateway"]);
          const byName = (name: string): OtlpSpan => {
            const span = trace.find((s) => s.name === name);
            if (!span) throw new Error(`trace ${traceId} has no ${name} span: ${trace.map((s) => s.name).join(", ")}`);
            return span;
          };
          for (const name of [SPAN.classify, SPAN.policyDecide, SPAN.edgeLayers, SPAN.encode, SPAN.offload]) {
            expect(byName(name).service).toBe("splitee-edge");
          }
          expect(byName(SPAN.gatewayLayers).service).toBe("splitee-gateway");
          expect(byName(SPAN.classify).attributes).toMatchObject({
            [ATTR.splitLayer]: 1,
            [ATTR.exitLayer]: 12,
            [ATTR.offloaded]: true,
            [ATTR.modelId]: manifest.id,
          });
          const offload = byName(SPAN.offload).attributes;
          expect(offload[ATTR.payloadBytes]).toBeGreaterThan(0);
          expect(offload[ATTR.commMs]).toBeGreaterThanOrEqual(0);
          // The gateway's spans hang below the edge's offload call (W3C traceparent over the real socket).
          const edgeSpanIds = new Set(trace.filter((s) => s.service === "splitee-edge").map((s) => s.spanId));
          const gatewayRoots = trace.filter((s) => s.service === "splitee-gateway" && edgeSpanIds.has(s.parentSpanId));
          expect(gatewayRoots.length).toBeGreaterThan(0);
        }
      });
    });
    await receiver.close();
  },
});
