/**
 * Who a request counts against for the rate limit (edge/middleware/rate_limit.ts), so that a client cannot dodge
 * its bucket by sending made-up credentials:
 * - API keys on (`EDGE_API_KEYS`): the key, which edge/middleware/api_key.ts has already checked (an invalid key
 *   never reaches the limiter), so only a valid key gets its own bucket;
 * - API keys off: the client's address, from the connection (Deno's `remoteAddr`, which edge/main.ts hands to the
 *   app as its env). Whatever key or token the client sends is ignored.
 * A forwarded address (`X-Forwarded-For`) is believed only when the connection comes from a proxy named in
 * `EDGE_TRUSTED_PROXIES`: then the right-most address in the header that is not itself a trusted proxy is the
 * client (the left part of the header is whatever the client wrote, so it is never used).
 * @module
 */

import type { Context } from "hono";
import { presentedKey } from "./api_key.ts";

/** Options of {@linkcode rateLimitKey}. */
export interface ClientKeyOptions {
  /** API keys are configured (and checked before the limiter runs). */
  readonly apiKeys: boolean;
  /** Addresses of the reverse proxies whose `X-Forwarded-For` is believed; empty = none. */
  readonly trustedProxies: readonly string[];
}

/** The connection's peer address as edge/main.ts passes it (`Deno.ServeHandlerInfo` as the app's env). */
export function remoteAddress(c: Context): string | undefined {
  const addr = (c.env as { remoteAddr?: { hostname?: unknown } } | undefined)?.remoteAddr?.hostname;
  return typeof addr === "string" && addr !== "" ? addr : undefined;
}

/**
 * The client address of a request: the peer address, or, when the peer is a trusted proxy, the right-most
 * `X-Forwarded-For` entry that is not a trusted proxy.
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | undefined,
  trustedProxies: readonly string[],
): string | undefined {
  if (peer === undefined || forwardedFor === undefined || !trustedProxies.includes(normalise(peer))) return peer;
  const hops = forwardedFor.split(",").map((s) => normalise(s.trim())).filter((s) => s !== "");
  for (let i = hops.length - 1; i >= 0; i--) {
    if (!trustedProxies.includes(hops[i]!)) return hops[i]!.slice(0, 64);
  }
  return peer;
}

/** Returns the rate limiter's `clientKey` for these options (see the module docs). */
export function rateLimitKey(options: ClientKeyOptions): (c: Context) => string {
  const trusted = options.trustedProxies.map(normalise);
  return (c) => {
    if (options.apiKeys) {
      const key = presentedKey(c);
      if (key !== undefined) return `key:${key}`;
    }
    return `ip:${clientAddress(remoteAddress(c), c.req.header("x-forwarded-for"), trusted) ?? "unknown"}`;
  };
}

/** `::ffff:1.2.3.4` and `1.2.3.4` are one client; brackets and case of IPv6 do not matter. */
function normalise(address: string): string {
  const a = address.replace(/^\[|\]$/g, "").toLowerCase();
  return a.startsWith("::ffff:") && a.includes(".") ? a.slice(7) : a;
}
