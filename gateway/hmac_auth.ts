/**
 * HMAC request-signature authentication for the gateway (`GATEWAY_AUTH=hmac`; the scheme is in shared/hmac.ts).
 * The middleware reads the body (with the gateway's size limit) to verify its hash and hands the verified bytes to
 * the route through {@linkcode verifiedBody}, so the body is read once. Answers, as problem+json:
 * - 401 `unauthenticated`: a signature header is missing or malformed (with `WWW-Authenticate`);
 * - 403 `forbidden`: the signature does not match;
 * - 401 `stale-signature`: the timestamp is outside the replay window (either way), or earlier than this gateway's
 *   start (`startedAt`): the replay cache lives in memory, so a request signed before a restart, which the previous
 *   process may have accepted, is refused instead of being replayable for the rest of its window (timestamps are whole
 *   seconds, so a request signed in the second the gateway started in is refused too: for at most a second after a
 *   start, plus any clock difference between edge and gateway, offloads get 401 and are answered on the edge);
 * - 401 `replayed-signature`: the same signature was already accepted within the window (per process).
 * No answer or log names the secret or the expected signature.
 * @module
 */

import type { MiddlewareHandler } from "hono";
import {
  DEFAULT_WINDOW_SECONDS,
  importHmacKey,
  ReplayCache,
  SIGNATURE_HEADER,
  TIMESTAMP_HEADER,
  verifySignature,
} from "../shared/hmac.ts";
import { readBodyLimited } from "../shared/http_body.ts";
import { ProblemError } from "../shared/problem.ts";

/** Options of {@linkcode hmacAuth}. */
export interface HmacAuthOptions {
  /** The shared secret (`GATEWAY_TOKEN`). */
  readonly secret: string;
  /** Largest body read for verification (413 beyond). */
  readonly maxBodyBytes: number;
  /** Longest time the body may take to arrive (408 beyond). @default no limit */
  readonly bodyTimeoutMs?: number;
  /**
   * When this gateway started, unix milliseconds: signatures with an earlier timestamp (whole seconds) are refused.
   * @default now() when the middleware is created (after the models loaded, before the server listens)
   */
  readonly startedAt?: number;
  /** Accepted clock difference in seconds, either way. @default 30 */
  readonly windowSeconds?: number;
  /** Wall clock in unix milliseconds. @default Date.now */
  readonly now?: () => number;
  /** Signatures already accepted. @default a new per-app ReplayCache */
  readonly cache?: ReplayCache;
  /** Realm named in `WWW-Authenticate`. @default "splitee-gateway" */
  readonly realm?: string;
}

const bodies = new WeakMap<Request, Uint8Array>();

/** The body bytes {@linkcode hmacAuth} verified for `req`, if it ran. */
export function verifiedBody(req: Request): Uint8Array | undefined {
  return bodies.get(req);
}

/** Middleware that verifies `X-SplitEE-Timestamp` / `X-SplitEE-Signature` (see the module docs). */
export function hmacAuth(options: HmacAuthOptions): MiddlewareHandler {
  const key = importHmacKey(options.secret);
  const windowSeconds = options.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  const cache = options.cache ?? new ReplayCache();
  const now = options.now ?? (() => Date.now());
  const startedAt = options.startedAt ?? now();
  const challenge = `SplitEE-HMAC realm="${options.realm ?? "splitee-gateway"}"`;
  return async function hmacAuth(c, next) {
    const timestamp = c.req.header(TIMESTAMP_HEADER);
    const signature = c.req.header(SIGNATURE_HEADER);
    if (timestamp === undefined || signature === undefined) {
      throw unauthenticated(
        challenge,
        "Sign the request: send `X-SplitEE-Timestamp: <unix seconds>` and `X-SplitEE-Signature: v1=<hex HMAC-SHA256>`",
      );
    }
    const body = await readBodyLimited(c.req.raw, options.maxBodyBytes, { timeoutMs: options.bodyTimeoutMs });
    const url = new URL(c.req.url);
    const result = await verifySignature(await key, {
      method: c.req.method,
      path: url.pathname + url.search,
      body,
      timestamp,
      signature,
    }, { windowSeconds, now, cache });
    if (!result.ok) {
      switch (result.reason) {
        case "missing":
        case "malformed":
          throw unauthenticated(
            challenge,
            "The signature headers are malformed: expected `X-SplitEE-Timestamp: <unix seconds>` and " +
              "`X-SplitEE-Signature: v1=<64 hex digits>`",
          );
        case "bad-signature":
          throw new ProblemError({
            status: 403,
            slug: "forbidden",
            title: "Invalid signature",
            detail: "The request signature does not match the one computed with this gateway's secret",
          });
        case "stale":
        case "future":
          throw new ProblemError({
            status: 401,
            slug: "stale-signature",
            title: "Signature timestamp outside the replay window",
            detail: `The signature timestamp is more than ${windowSeconds} s in the ${
              result.reason === "stale" ? "past" : "future"
            }; sign each request when it is sent and keep the clocks synchronised`,
            headers: { "WWW-Authenticate": challenge },
          });
        case "replayed":
          throw new ProblemError({
            status: 401,
            slug: "replayed-signature",
            title: "Replayed request",
            detail: `This signature was already accepted within the last ${windowSeconds} s; sign every request anew`,
            headers: { "WWW-Authenticate": challenge },
          });
      }
    }
    // A timestamp's second that began before this process's start may have been signed (and accepted) before it.
    if (Number(timestamp) * 1000 < startedAt) {
      throw new ProblemError({
        status: 401,
        slug: "stale-signature",
        title: "Signature timestamp outside the replay window",
        detail: "The request was signed before this gateway started; sign each request when it is sent",
        headers: { "WWW-Authenticate": challenge },
      });
    }
    bodies.set(c.req.raw, body);
    await next();
  };
}

function unauthenticated(challenge: string, detail: string): ProblemError {
  return new ProblemError({
    status: 401,
    slug: "unauthenticated",
    title: "Authentication required",
    detail,
    headers: { "WWW-Authenticate": challenge },
  });
}
