/**
 * Bearer-token authentication for the gateway. The token is compared in constant time (SHA-256 digests of both,
 * compared in full), so neither its content nor its length leaks through timing.
 * @module
 */

import type { MiddlewareHandler } from "hono";
import { ProblemError } from "../shared/problem.ts";

/** Options of {@linkcode bearerAuth}. */
export interface BearerAuthOptions {
  /** The shared secret the edge sends as `Authorization: Bearer <token>`. */
  readonly token: string;
  /** Realm named in `WWW-Authenticate`. @default "splitee-gateway" */
  readonly realm?: string;
}

/** Middleware that answers 401 (no or malformed credentials) or 403 (wrong token) as problem+json. */
export function bearerAuth(options: BearerAuthOptions): MiddlewareHandler {
  const expected = digest(options.token);
  const challenge = `Bearer realm="${options.realm ?? "splitee-gateway"}"`;
  return async function bearerAuth(c, next) {
    const header = c.req.header("authorization");
    const match = header === undefined ? null : /^Bearer[ ]+([^\s]+)[ ]*$/i.exec(header);
    if (!match) {
      throw new ProblemError({
        status: 401,
        slug: "unauthenticated",
        title: "Authentication required",
        detail: header === undefined
          ? "Send the shared gateway token as `Authorization: Bearer <token>`"
          : "The Authorization header is not of the form `Bearer <token>`",
        headers: { "WWW-Authenticate": challenge },
      });
    }
    if (!equalDigests(await expected, await digest(match[1]!))) {
      throw new ProblemError({
        status: 403,
        slug: "forbidden",
        title: "Invalid token",
        detail: "The bearer token is not the one this gateway was configured with",
      });
    }
    await next();
  };
}

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));
}

/** Constant-time comparison of two equal-length digests. */
export function equalDigests(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}
