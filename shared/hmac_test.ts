import { expect } from "expect";
import {
  canonicalString,
  importHmacKey,
  ReplayCache,
  SIGNATURE_HEADER,
  signRequest,
  TIMESTAMP_HEADER,
  timingSafeEqual,
  verifySignature,
} from "./hmac.ts";

const SECRET = "hmac-secret-0123456789abcdef";
const NOW_MS = 1_800_000_000_000;
const NOW_S = NOW_MS / 1000;
const BODY = Uint8Array.of(1, 2, 3, 4, 5);
const parts = (timestamp = NOW_S, body = BODY) => ({ method: "POST", path: "/v1/complete", timestamp, body });

async function signed(timestamp = NOW_S, secret = SECRET) {
  const headers = await signRequest(await importHmacKey(secret), parts(timestamp));
  return { timestamp: headers[TIMESTAMP_HEADER], signature: headers[SIGNATURE_HEADER] };
}

async function verify(
  h: { timestamp: string | undefined; signature: string | undefined },
  overrides: { body?: Uint8Array; method?: string; path?: string; cache?: ReplayCache; nowMs?: number } = {},
) {
  const key = await importHmacKey(SECRET);
  return await verifySignature(key, {
    method: overrides.method ?? "POST",
    path: overrides.path ?? "/v1/complete",
    body: overrides.body ?? BODY,
    ...h,
  }, { now: () => overrides.nowMs ?? NOW_MS, cache: overrides.cache ?? new ReplayCache() });
}

Deno.test("canonicalString() joins version, method, path, timestamp and the body's SHA-256", async () => {
  expect(await canonicalString({ method: "post", path: "/v1/complete", timestamp: 12, body: new Uint8Array(0) }))
    .toBe("v1\nPOST\n/v1/complete\n12\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
});

Deno.test("signRequest() sends the timestamp and v1=<64 hex> headers", async () => {
  const h = await signed();
  expect(h.timestamp).toBe(String(NOW_S));
  expect(h.signature).toMatch(/^v1=[0-9a-f]{64}$/);
});

Deno.test("verifySignature() accepts a good signature, also with clock skew inside the window", async () => {
  expect(await verify(await signed())).toEqual({ ok: true });
  expect(await verify(await signed(NOW_S - 30))).toEqual({ ok: true });
  expect(await verify(await signed(NOW_S + 30))).toEqual({ ok: true });
});

Deno.test("verifySignature() refuses a tampered body, method or path", async () => {
  const h = await signed();
  expect(await verify(h, { body: Uint8Array.of(1, 2, 3, 4, 6) })).toEqual({ ok: false, reason: "bad-signature" });
  expect(await verify(h, { method: "PUT" })).toEqual({ ok: false, reason: "bad-signature" });
  expect(await verify(h, { path: "/v1/other" })).toEqual({ ok: false, reason: "bad-signature" });
});

Deno.test("verifySignature() refuses a signature made with another secret", async () => {
  expect(await verify(await signed(NOW_S, "another-secret-0123456789"))).toEqual({
    ok: false,
    reason: "bad-signature",
  });
});

Deno.test("verifySignature() refuses a changed timestamp as a bad signature", async () => {
  const h = await signed();
  expect(await verify({ ...h, timestamp: String(NOW_S + 1) })).toEqual({ ok: false, reason: "bad-signature" });
});

Deno.test("verifySignature() refuses stale and future timestamps outside the window", async () => {
  expect(await verify(await signed(NOW_S - 31))).toEqual({ ok: false, reason: "stale" });
  expect(await verify(await signed(NOW_S + 31))).toEqual({ ok: false, reason: "future" });
});

Deno.test("verifySignature() refuses a replayed signature within the window, once per cache", async () => {
  const cache = new ReplayCache();
  const h = await signed();
  expect(await verify(h, { cache })).toEqual({ ok: true });
  expect(await verify(h, { cache, nowMs: NOW_MS + 10_000 })).toEqual({ ok: false, reason: "replayed" });
  // Once outside the window it is stale rather than replayed.
  expect(await verify(h, { cache, nowMs: NOW_MS + 31_000 })).toEqual({ ok: false, reason: "stale" });
});

Deno.test("verifySignature() names missing and malformed headers without throwing", async () => {
  const h = await signed();
  expect(await verify({ ...h, signature: undefined })).toEqual({ ok: false, reason: "missing" });
  expect(await verify({ ...h, timestamp: undefined })).toEqual({ ok: false, reason: "missing" });
  for (const signature of ["", "v2=" + "a".repeat(64), "v1=" + "a".repeat(63), "v1=" + "g".repeat(64), "abc"]) {
    expect(await verify({ ...h, signature })).toEqual({ ok: false, reason: "malformed" });
  }
  for (const timestamp of ["", "-1", "1.5", "1e9", "soon", "9".repeat(13)]) {
    expect(await verify({ ...h, timestamp })).toEqual({ ok: false, reason: "malformed" });
  }
});

Deno.test("ReplayCache forgets expired entries and stays within maxEntries", () => {
  const cache = new ReplayCache({ maxEntries: 3 });
  expect(cache.add("a", 100, 0)).toBe(true);
  expect(cache.add("a", 100, 50)).toBe(false);
  expect(cache.add("a", 200, 101)).toBe(true); // expired: accepted again
  for (const s of ["b", "c", "d", "e"]) expect(cache.add(s, 1000, 150)).toBe(true);
  expect(cache.size).toBe(3);
  expect(cache.add("e", 1000, 150)).toBe(false);
  expect(cache.add("z", 5000, 2000)).toBe(true);
  expect(cache.size).toBe(1); // everything else had expired
  expect(() => new ReplayCache({ maxEntries: 0 })).toThrow(RangeError);
});

Deno.test("timingSafeEqual() compares bytes and lengths", () => {
  expect(timingSafeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2))).toBe(true);
  expect(timingSafeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 3))).toBe(false);
  expect(timingSafeEqual(Uint8Array.of(1, 2), Uint8Array.of(1, 2, 3))).toBe(false);
});
