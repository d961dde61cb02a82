import { expect } from "expect";
import { decodeOffloadRequest, encodeOffloadResponse, MSGPACK_CONTENT_TYPE, WIRE_VERSION } from "../shared/wire/mod.ts";
import { createEdgeService } from "./service.ts";
import { loadModelFiles, PAIR_MODEL_DIRS, scriptedRunner, testConfig } from "./testing.ts";

const { manifest, vocabText } = await loadModelFiles();
const MODEL = { id: manifest.id, version: manifest.version };

/** A fake gateway: answers class 0 with high confidence, or fails while `down` is set. */
function fakeGateway() {
  const state = { down: false, calls: 0, auth: [] as (string | null)[] };
  const fetch = async (req: Request): Promise<Response> => {
    state.calls++;
    state.auth.push(req.headers.get("authorization"));
    if (state.down) throw new TypeError("error sending request: Connection refused (os error 111)");
    decodeOffloadRequest(new Uint8Array(await req.arrayBuffer()), { model: MODEL, layers: manifest.layers });
    const body = encodeOffloadResponse({ v: WIRE_VERSION, model: MODEL, exitLayer: 12, logits: [3, -3], computeMs: 1 });
    return new Response(body as Uint8Array<ArrayBuffer>, {
      headers: { "content-type": MSGPACK_CONTENT_TYPE, "server-timing": "compute;dur=1" },
    });
  };
  return { state, fetch };
}

async function service(env: Record<string, string>, gateway = fakeGateway()) {
  let t = 0;
  const kv = await Deno.openKv(":memory:");
  const edge = await createEdgeService({
    config: testConfig({ GATEWAY_TOKEN: "edge-test-token-123456", ...env }),
    // never confident: always offloads
    models: [{ manifest, vocabText, runner: scriptedRunner(manifest.layers, manifest.hiddenSize, () => 0.6) }],
    kv,
    fetch: gateway.fetch,
    seed: 3,
    now: () => t,
  });
  const classify = async () => {
    const res = await edge.app.request("/v1/classify", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ text: "an unremarkable film" }),
    });
    expect(res.status).toBe(200);
    return await res.json();
  };
  return {
    edge,
    gateway,
    classify,
    advance: (ms: number) => (t += ms),
    close: async () => {
      await edge.close();
      kv.close();
    },
  };
}

Deno.test("createEdgeService() offloads with the gateway token and reports the answer and its costs", async () => {
  const s = await service({ SPLITEE_POLICY: "fixed-2" });
  const r = await s.classify();
  expect(r).toMatchObject({ splitLayer: 2, exitLayer: 12, answeredBy: "gateway", label: "negative", degraded: false });
  expect(r.costs.measured.gatewayMs).toBe(1);
  expect(s.gateway.state.auth).toEqual(["Bearer edge-test-token-123456"]);
  const policy = await (await s.edge.app.request("/v1/policy")).json();
  expect(policy).toMatchObject({ modelId: manifest.id, policy: "fixed-2", t: 1, chosenArm: 2 });
  expect(policy.arms).toHaveLength(manifest.layers);
  expect(policy.arms[1]).toMatchObject({ arm: 2, pulls: 1 });
  expect(policy.recent).toMatchObject({ size: 1, offloadRate: 1 });
  await s.close();
});

Deno.test("createEdgeService() answers every request while the gateway is down, opens the breaker and re-probes", async () => {
  const s = await service({
    SPLITEE_POLICY: "fixed-3",
    EDGE_BREAKER_FAILURES: "2",
    EDGE_BREAKER_COOLDOWN_MS: "1000",
    EDGE_FALLBACK: "edge-exit",
  });
  s.gateway.state.down = true;
  const answers = [];
  for (let i = 0; i < 5; i++) answers.push(await s.classify());
  expect(answers.every((a) => a.degraded && a.answeredBy === "edge" && a.exitLayer === 3)).toBe(true);
  expect(answers.map((a) => a.degradedReason)).toEqual([
    "refused",
    "refused",
    "breaker-open",
    "breaker-open",
    "breaker-open",
  ]);
  expect(s.gateway.state.calls).toBe(2); // the open breaker fails fast
  let policy = await (await s.edge.app.request("/v1/policy")).json();
  expect(policy.breaker).toMatchObject({ state: "open", opened: 1, rejected: 3 });
  expect(policy.costs.measured.failures).toBe(5);
  expect(policy.recent.degradedRate).toBe(1);
  expect((await (await s.edge.app.request("/healthz")).json()).gatewayBreaker).toBe("open");

  s.gateway.state.down = false;
  s.advance(1000); // cooldown over: the next offload is the half-open probe
  const probe = await s.classify();
  expect(probe).toMatchObject({ degraded: false, answeredBy: "gateway" });
  policy = await (await s.edge.app.request("/v1/policy")).json();
  expect(policy.breaker.state).toBe("closed");
  await s.close();
});

Deno.test("createEdgeService() in measured mode raises o when offloads fail, so the policy sees the failures", async () => {
  const s = await service({ SPLITEE_COST_MODE: "measured", SPLITEE_POLICY: "fixed-3" });
  await s.classify();
  const healthy = s.edge.costs.costs().o;
  s.gateway.state.down = true;
  for (let i = 0; i < 3; i++) await s.classify();
  expect(s.edge.costs.costs().o).toBeGreaterThan(healthy + 0.4); // failure penalty: 1 unit per failed offload
  await s.close();
});

Deno.test("createEdgeService() serves several models, each request on the model it names with its own policy", async () => {
  const nli = await loadModelFiles(PAIR_MODEL_DIRS.entailment);
  const kv = await Deno.openKv(":memory:");
  const calls = { sentiment: 0, entailment: 0 };
  const runner = (m: typeof manifest, name: keyof typeof calls) => {
    const r = scriptedRunner(m.layers, m.hiddenSize, () => 0.99); // confident at once: answers on the edge
    return { ...r, embed: (...a: Parameters<typeof r.embed>) => (calls[name]++, r.embed(...a)) };
  };
  const edge = await createEdgeService({
    config: testConfig({ GATEWAY_TOKEN: "edge-test-token-123456", SPLITEE_POLICY: "fixed-1" }),
    models: [
      { manifest, vocabText, runner: runner(manifest, "sentiment") },
      { ...nli, runner: runner(nli.manifest, "entailment") },
    ],
    kv,
    fetch: fakeGateway().fetch,
    seed: 3,
  });
  try {
    expect([...edge.models.keys()]).toEqual([manifest.id, nli.manifest.id]);
    const post = (body: unknown) =>
      edge.app.request("/v1/classify", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const res = await post({ model: nli.manifest.id, text: "A man plays.", textPair: "Someone plays." });
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body.modelId).toBe(nli.manifest.id);
    expect(nli.manifest.labels).toContain(body.label);
    expect(calls).toEqual({ sentiment: 0, entailment: 1 });
    expect((await post({ text: "fine" })).status).toBe(200);
    expect(calls).toEqual({ sentiment: 1, entailment: 1 });
    // Each model learns on its own: one round each, in separate statistics.
    expect(edge.models.get(nli.manifest.id)!.store.state().t).toBe(1);
    expect(edge.store.state().t).toBe(1);
    const view = await (await edge.app.request(`/v1/policy?model=${nli.manifest.id}`)).json();
    expect(view.modelId).toBe(nli.manifest.id);
  } finally {
    await edge.close();
    kv.close();
  }
});

Deno.test("createEdgeService() refuses two models with the same id", async () => {
  const kv = await Deno.openKv(":memory:");
  const model = { manifest, vocabText, runner: scriptedRunner(manifest.layers, manifest.hiddenSize, () => 0.6) };
  await expect(createEdgeService({
    config: testConfig({ GATEWAY_TOKEN: "edge-test-token-123456" }),
    models: [model, model],
    kv,
    fetch: fakeGateway().fetch,
    seed: 1,
  })).rejects.toThrow(`Two served models have the id ${manifest.id}`);
  kv.close();
});
