/**
 * Per-client rate limiting with token buckets: each client gets `burst` tokens, refilled at `rps` per second; a
 * request takes one, and a client with none gets a 429 problem with `Retry-After` (whole seconds until a token is
 * back). Idle clients are forgotten once their bucket is full again, so memory stays bounded by active clients.
 * A batch of N inputs costs N tokens: the middleware takes one, and the handler takes the other N - 1 with
 * {@linkcode chargeExtra} once it knows N (all or nothing: a batch the bucket cannot pay for is refused whole).
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { ProblemError } from "../../shared/problem.ts";

/** Options of {@linkcode rateLimit}. */
export interface RateLimitOptions {
  /** Sustained requests per second per client. */
  readonly rps: number;
  /** Bucket size: requests a client may make at once. */
  readonly burst: number;
  /** The client a request counts against. */
  readonly clientKey: (c: Context) => string;
  /**
   * Milliseconds clock.
   * @default {performance.now}
   */
  readonly now?: () => number;
  /**
   * Most clients tracked at once; beyond it, full buckets are dropped first, then the oldest.
   * @default {10000}
   */
  readonly maxClients?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

/** Per request: takes `n` more tokens from the bucket the middleware charged, or throws the 429 problem. */
type Charge = (n: number) => void;
const charges = new WeakMap<Context, Charge>();

/**
 * Charges `n` more requests to the client of this request (e.g. the extra inputs of a batch). A no-op when no rate
 * limit runs. All or nothing: when the bucket holds fewer than `n` tokens nothing is taken.
 * @throws {ProblemError} 429 `rate-limited` when the client cannot pay for them now
 */
export function chargeExtra(c: Context, n: number): void {
  if (n > 0) charges.get(c)?.(n);
}

function limited(rps: number, burst: number, tokens: number, needed: number): ProblemError {
  const retryAfter = Math.max(1, Math.ceil((needed - tokens) / rps));
  return new ProblemError({
    status: 429,
    slug: "rate-limited",
    title: "Too many requests",
    detail: needed > burst
      ? `This client may make ${rps} requests per second (bursts of ${burst}); a batch of ${needed} inputs is more than one burst.`
      : `This client may make ${rps} requests per second (bursts of ${burst}); retry in ${retryAfter} s.`,
    headers: { "retry-after": String(retryAfter) },
    extensions: { retryAfterSeconds: retryAfter },
  });
}

/** Returns the rate-limiting middleware (see the module docs). */
export function rateLimit(options: RateLimitOptions): MiddlewareHandler {
  const { rps, burst, clientKey } = options;
  const now = options.now ?? (() => performance.now());
  const maxClients = options.maxClients ?? 10_000;
  const buckets = new Map<string, Bucket>();

  const refill = (b: Bucket, t: number) => {
    b.tokens = Math.min(burst, b.tokens + ((t - b.at) / 1000) * rps);
    b.at = t;
  };
  const evict = (t: number) => {
    for (const [key, b] of buckets) {
      refill(b, t);
      if (b.tokens >= burst) buckets.delete(key);
    }
    while (buckets.size >= maxClients) buckets.delete(buckets.keys().next().value!);
  };

  return async function rateLimit(c, next) {
    const t = now();
    const key = clientKey(c);
    let b = buckets.get(key);
    if (b === undefined) {
      if (buckets.size >= maxClients) evict(t);
      b = { tokens: burst, at: t };
      buckets.set(key, b);
    } else refill(b, t);
    if (b.tokens < 1) throw limited(rps, burst, b.tokens, 1);
    b.tokens -= 1;
    const bucket = b;
    charges.set(c, (n) => {
      refill(bucket, now());
      // The request's own token is already taken: the batch as a whole must fit in one burst.
      if (bucket.tokens < n || n + 1 > burst) throw limited(rps, burst, bucket.tokens, n + 1);
      bucket.tokens -= n;
    });
    await next();
  };
}
