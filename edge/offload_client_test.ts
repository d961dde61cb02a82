import { expect } from "expect";
import { importHmacKey, SIGNATURE_HEADER, TIMESTAMP_HEADER, verifySignature } from "../shared/hmac.ts";
import {
  decodeOffloadRequest,
  encodeOffloadResponse,
  MSGPACK_CONTENT_TYPE,
  unpackHidden,
  WIRE_VERSION,
} from "../shared/wire/mod.ts";
import { CircuitBreaker } from "./circuit_breaker.ts";
import { OffloadClient, type OffloadClientOptions, OffloadError, serverTimingMs } from "./offload_client.ts";

const MODEL = { id: "m", version: "0123456789abcdef" };
const INPUT = { splitLayer: 3, hidden: new Float32Array([1, 2, 3, 4, 5, 6]), dims: [2, 3] as const };

function okResponse(computeMs = 2, headers: Record<string, string> = {}): Response {
  const body = encodeOffloadResponse({ v: WIRE_VERSION, model: MODEL, exitLayer: 12, logits: [0.5, -1], computeMs });
  return new Response(body as Uint8Array<ArrayBuffer>, {
    headers: { "content-type": MSGPACK_CONTENT_TYPE, ...headers },
  });
}

function client(fetch: OffloadClientOptions["fetch"], overrides: Partial<OffloadClientOptions> = {}) {
  return new OffloadClient({
    fetch,
    baseUrl: "http://gw.test/",
    token: "tok",
    timeoutMs: 200,
    breaker: new CircuitBreaker({ failureThreshold: 2, cooldownMs: 60_000 }),
    model: MODEL,
    layers: 12,
    classes: 2,
    ...overrides,
  });
}

async function failure(p: Promise<unknown>): Promise<OffloadError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof OffloadError) return e;
    throw e;
  }
  throw new Error("expected an OffloadError");
}

Deno.test("OffloadClient sends the hidden state as msgpack with the bearer token and measures comm time", async () => {
  let seen: Request | undefined;
  let hidden: Float32Array | undefined;
  const c = client(async (req) => {
    seen = req;
    const decoded = decodeOffloadRequest(new Uint8Array(await req.arrayBuffer()), { model: MODEL, layers: 12 });
    expect(decoded.splitLayer).toBe(3);
    expect(decoded.dims).toEqual([2, 3]);
    hidden = unpackHidden(decoded);
    await new Promise((r) => setTimeout(r, 20));
    return okResponse(7, { "server-timing": "decode;dur=1, compute;dur=5.5" });
  });
  const r = await c.offload(INPUT);
  expect(seen!.url).toBe("http://gw.test/v1/complete");
  expect(seen!.method).toBe("POST");
  expect(seen!.headers.get("authorization")).toBe("Bearer tok");
  expect(seen!.headers.get("content-type")).toBe(MSGPACK_CONTENT_TYPE);
  expect([...hidden!]).toEqual([1, 2, 3, 4, 5, 6]);
  expect(r.logits).toEqual([0.5, -1]);
  expect(r.gatewayMs).toBe(5.5); // Server-Timing wins over the body's computeMs
  expect(r.rttMs).toBeGreaterThanOrEqual(15);
  expect(r.commMs).toBeCloseTo(r.rttMs - 5.5, 6);
  expect(r.payloadBytes).toBeGreaterThan(24);
});

Deno.test("OffloadClient omits the Authorization header in insecure local mode and uses computeMs without Server-Timing", async () => {
  let auth: string | null = "unset";
  const r = await client((req) => {
    auth = req.headers.get("authorization");
    return Promise.resolve(okResponse(3));
  }, { token: undefined }).offload(INPUT);
  expect(auth).toBeNull();
  expect(r.gatewayMs).toBe(3);
});

Deno.test("OffloadClient types every failure: refused, unreachable, timeout, 5xx, 4xx and garbage", async () => {
  const cases: Array<[OffloadClientOptions["fetch"], string, number | undefined]> = [
    () => Promise.reject(new TypeError("error sending request: Connection refused (os error 111)")),
    () => Promise.reject(new TypeError("dns error: failed to lookup address")),
    () => new Promise<Response>(() => {}), // never answers
    () => Promise.resolve(new Response("oops", { status: 503 })),
    () => Promise.resolve(Response.json({ title: "Model mismatch" }, { status: 409 })),
    () => Promise.resolve(new Response("not msgpack", { headers: { "content-type": "text/plain" } })),
    () =>
      Promise.resolve(
        new Response(new Uint8Array([0xc1, 0x00]), { headers: { "content-type": MSGPACK_CONTENT_TYPE } }),
      ),
  ].map((fetch, i) => [
    fetch,
    ["refused", "unreachable", "timeout", "server-error", "rejected", "garbage", "garbage"][i]!,
    [undefined, undefined, undefined, 503, 409, 200, 200][i],
  ]);
  for (const [fetch, kind, status] of cases) {
    const e = await failure(client(fetch, { timeoutMs: 30 }).offload(INPUT));
    expect(e.kind).toBe(kind);
    expect(e.status).toBe(status);
    expect(e.message).not.toContain("tok");
  }
});

Deno.test("OffloadClient times out a response whose body never finishes", async () => {
  const e = await failure(
    client(() => {
      const body = new ReadableStream({ start() {} }); // headers arrive, body never does
      return Promise.resolve(new Response(body, { headers: { "content-type": MSGPACK_CONTENT_TYPE } }));
    }, { timeoutMs: 30 }).offload(INPUT),
  );
  expect(e.kind).toBe("timeout");
  expect(e.elapsedMs).toBeGreaterThanOrEqual(25);
});

Deno.test("OffloadClient opens its circuit breaker after repeated failures and fails fast without calling fetch", async () => {
  let calls = 0;
  const c = client(() => {
    calls++;
    return Promise.resolve(new Response("", { status: 500 }));
  });
  expect((await failure(c.offload(INPUT))).kind).toBe("server-error");
  expect((await failure(c.offload(INPUT))).kind).toBe("server-error");
  const fast = await failure(c.offload(INPUT));
  expect(fast.kind).toBe("breaker-open");
  expect(fast.elapsedMs).toBe(0);
  expect(calls).toBe(2);
  expect(c.breaker.state).toBe("open");
});

Deno.test("OffloadClient reports a hidden state it cannot encode without blaming the gateway", async () => {
  const c = client(() => Promise.resolve(okResponse()));
  const e = await failure(c.offload({ ...INPUT, hidden: new Float32Array([1, NaN, 3, 4, 5, 6]) }));
  expect(e.kind).toBe("encode");
  expect(c.breaker.snapshot().consecutiveFailures).toBe(0);
});

Deno.test("serverTimingMs() reads one metric's dur", () => {
  expect(serverTimingMs("compute;dur=12.5", "compute")).toBe(12.5);
  expect(serverTimingMs('db;dur=3, compute;desc="layers";dur=4', "compute")).toBe(4);
  expect(serverTimingMs("compute", "compute")).toBeUndefined();
  expect(serverTimingMs(null, "compute")).toBeUndefined();
});

Deno.test("OffloadClient in hmac mode signs the exact body with a timestamp instead of sending the token", async () => {
  const key = await importHmacKey("tok");
  let verdict: unknown;
  let auth: string | null = "unset";
  const clockMs = 1_800_000_000_900;
  const r = await client(async (req) => {
    auth = req.headers.get("authorization");
    verdict = await verifySignature(key, {
      method: req.method,
      path: new URL(req.url).pathname,
      body: new Uint8Array(await req.arrayBuffer()),
      timestamp: req.headers.get(TIMESTAMP_HEADER),
      signature: req.headers.get(SIGNATURE_HEADER),
    }, { now: () => clockMs });
    expect(req.headers.get(TIMESTAMP_HEADER)).toBe("1800000000");
    return okResponse(3);
  }, { auth: "hmac", clock: () => clockMs }).offload(INPUT);
  expect(verdict).toEqual({ ok: true });
  expect(auth).toBeNull();
  expect(r.logits).toEqual([0.5, -1]);
});

Deno.test("OffloadClient does not count 4xx rejections (a client/model mismatch) against the breaker", async () => {
  let status = 409;
  let calls = 0;
  const c = client(() => {
    calls++;
    return Promise.resolve(Response.json({ title: "Model mismatch" }, { status }));
  });
  for (let i = 0; i < 5; i++) expect((await failure(c.offload(INPUT))).kind).toBe("rejected");
  expect(calls).toBe(5);
  expect(c.breaker.snapshot()).toMatchObject({ state: "closed", consecutiveFailures: 0, opened: 0 });
  // Faults still open it: 429 and 5xx are the gateway's.
  status = 429;
  expect((await failure(c.offload(INPUT))).kind).toBe("server-error");
  expect((await failure(c.offload(INPUT))).kind).toBe("server-error");
  expect(c.breaker.state).toBe("open");
});
