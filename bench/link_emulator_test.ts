import { expect } from "expect";
import { headerBytes, startLinkEmulator, transmitMs } from "./link_emulator.ts";

/** An upstream that echoes the request body and reports what it received. */
function startEcho() {
  return Deno.serve({ port: 0, hostname: "127.0.0.1", onListen: () => {} }, async (req) => {
    const body = new Uint8Array(await req.arrayBuffer());
    return new Response(body, {
      headers: { "content-type": "application/octet-stream", "x-echo-method": req.method, "x-echo-path": req.url },
    });
  });
}

async function timed(
  url: string,
  body: Uint8Array<ArrayBuffer>,
): Promise<{ ms: number; bytes: Uint8Array; res: Response }> {
  const t = performance.now();
  const res = await fetch(url, { method: "POST", body, signal: AbortSignal.timeout(10_000) });
  const bytes = new Uint8Array(await res.arrayBuffer());
  return { ms: performance.now() - t, bytes, res };
}

function randomBytes(n: number, seed: number): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(n);
  let x = seed >>> 0;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    out[i] = x >>> 24;
  }
  return out;
}

Deno.test("transmitMs() is bytes * 8 / bps and 0 without a cap", () => {
  expect(transmitMs(125_000, 1e6)).toBeCloseTo(1000, 9);
  expect(transmitMs(125_000, 0)).toBe(0);
  expect(headerBytes("GET / HTTP/1.1", new Headers({ a: "b" }))).toBe(14 + 2 + 2 + 1 + 2 + 1 + 2);
});

Deno.test({
  name: "link emulator forwards bodies intact and adds the configured RTT and bandwidth delay",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const echo = startEcho();
    const link = startLinkEmulator({ upstream: `http://127.0.0.1:${echo.addr.port}` });
    try {
      const small = randomBytes(100, 1);
      // Baseline with no delay (also warms connections).
      await timed(`${link.url}/x`, small);
      const base = await timed(`${link.url}/x?q=1`, small);
      expect(base.res.status).toBe(200);
      expect(base.bytes).toEqual(small);
      expect(base.res.headers.get("x-echo-method")).toBe("POST");
      expect(
        new URL(base.res.headers.get("x-echo-path")!).pathname + new URL(base.res.headers.get("x-echo-path")!).search,
      )
        .toBe("/x?q=1");

      // RTT only, set through the admin endpoint.
      const put = await fetch(`${link.url}/_link`, { method: "PUT", body: JSON.stringify({ rttMs: 120 }) });
      expect(await put.json()).toEqual({ rttMs: 120, bandwidthBps: 0 });
      const rtt = await timed(`${link.url}/x`, small);
      expect(rtt.bytes).toEqual(small);
      expect(rtt.ms).toBeGreaterThanOrEqual(118);
      expect(rtt.ms - base.ms).toBeLessThan(120 + 200); // generous: the suite runs in parallel on busy hosts

      // Bandwidth only: 40 kB each way at 1 Mbit/s = 320 ms + headers each way.
      link.setLink({ rttMs: 0, bandwidthBps: 1e6 });
      const big = randomBytes(40_000, 2);
      const before = link.stats();
      const bw = await timed(`${link.url}/x`, big);
      const after = link.stats();
      expect(bw.bytes).toEqual(big);
      const linkBytes = after.bytesUp - before.bytesUp + after.bytesDown - before.bytesDown;
      expect(linkBytes).toBeGreaterThan(80_000);
      expect(linkBytes).toBeLessThan(81_000);
      const expected = transmitMs(linkBytes, 1e6); // ~645 ms
      expect(bw.ms).toBeGreaterThanOrEqual(expected * 0.98);
      expect(bw.ms - base.ms).toBeLessThan(expected + 250);

      // Bad settings are a 400 and change nothing.
      const bad = await fetch(`${link.url}/_link`, { method: "PUT", body: JSON.stringify({ rttMs: -1 }) });
      expect(bad.status).toBe(400);
      await bad.body?.cancel();
      expect(link.stats()).toMatchObject({ rttMs: 0, bandwidthBps: 1e6, errors: 0 });
    } finally {
      await link.shutdown();
      await echo.shutdown();
    }
  },
});

Deno.test({
  name: "link emulator queues concurrent transfers on a capped link",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const echo = startEcho();
    const link = startLinkEmulator({ upstream: `http://127.0.0.1:${echo.addr.port}`, bandwidthBps: 2e6 });
    try {
      const body = randomBytes(25_000, 3); // ~100 ms each way at 2 Mbit/s
      const t = performance.now();
      const results = await Promise.all([1, 2, 3].map(() => timed(`${link.url}/y`, body)));
      const total = performance.now() - t;
      for (const r of results) expect(r.bytes).toEqual(body);
      // Three requests share the uplink (~300 ms) before the last one's ~100 ms downlink.
      expect(total).toBeGreaterThanOrEqual(390);
      expect(total).toBeLessThan(1000);
    } finally {
      await link.shutdown();
      await echo.shutdown();
    }
  },
});

Deno.test({
  name: "link emulator answers 502 problem details when the upstream is unreachable",
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const dead = Deno.listen({ port: 0, hostname: "127.0.0.1" });
    const port = (dead.addr as Deno.NetAddr).port;
    dead.close();
    const link = startLinkEmulator({ upstream: `http://127.0.0.1:${port}` });
    try {
      const res = await fetch(`${link.url}/z`, { method: "POST", body: "x" });
      expect(res.status).toBe(502);
      expect((await res.json()).title).toMatch(/unreachable/);
      expect(link.stats().errors).toBe(1);
    } finally {
      await link.shutdown();
    }
  },
});
