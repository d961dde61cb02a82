/**
 * Optional API keys: when keys are configured, a request must carry one as `Authorization: Bearer <key>` or
 * `X-API-Key: <key>`, else it gets a 401 problem. Keys are compared in constant time and never logged or echoed.
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { ProblemError } from "../../shared/problem.ts";

/** The key a request presents, if any. */
export function presentedKey(c: Context): string | undefined {
  const auth = c.req.header("authorization");
  if (auth !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    if (m) return m[1];
  }
  return c.req.header("x-api-key")?.trim() || undefined;
}

/** Returns a middleware that admits only requests carrying one of `keys` (see the module docs). */
export function apiKeyAuth(keys: readonly string[]): MiddlewareHandler {
  const encoder = new TextEncoder();
  const wanted = keys.map((k) => encoder.encode(k));
  return async function apiKeyAuth(c, next) {
    const key = presentedKey(c);
    const got = encoder.encode(key ?? "");
    let ok = false;
    for (const w of wanted) ok = timingSafeEqual(got, w) || ok;
    if (key === undefined || !ok) {
      throw new ProblemError({
        status: 401,
        slug: "unauthorized",
        title: "Unauthorized",
        detail: key === undefined
          ? "This endpoint needs an API key: send Authorization: Bearer <key> or X-API-Key: <key>."
          : "The API key is not valid.",
        headers: { "www-authenticate": 'Bearer realm="splitee-edge"' },
      });
    }
    await next();
  };
}

/** Compares two byte strings in time that depends only on their lengths. */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  const n = Math.max(a.length, b.length);
  let diff = a.length ^ b.length;
  for (let i = 0; i < n; i++) diff |= (a[i % Math.max(1, a.length)] ?? 0) ^ (b[i % Math.max(1, b.length)] ?? 0);
  return diff === 0;
}
