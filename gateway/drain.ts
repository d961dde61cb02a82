/**
 * Graceful-shutdown bookkeeping for `Deno.serve`: counts in-flight requests and, once draining, answers new ones
 * 503 (problem+json, `Retry-After`, `Connection: close`) while the in-flight ones finish.
 *
 * Why not just `server.shutdown()`: on Deno 2.9 it makes every in-flight request body unreadable at once
 * (`BadResource: Cannot read request body`, denoland/deno#36809), so a request still uploading its hidden state
 * would get a 500. main.ts therefore drains first and calls `shutdown()` only when nothing is in flight.
 * @module
 */

import { PROBLEM_CONTENT_TYPE, ProblemError, problemJson } from "../shared/problem.ts";

type Handler = (req: Request, info: Deno.ServeHandlerInfo) => Response | Promise<Response>;

/** Tracks in-flight requests of a handler. */
export interface Drain {
  /** The handler, counted; after {@linkcode Drain.drain} starts it answers 503. */
  wrap(handler: Handler): Handler;
  /** Stops taking new work and resolves once nothing is in flight. */
  drain(): Promise<void>;
  /** Requests being handled now. */
  readonly inFlight: number;
}

/** Creates the in-flight tracker. */
export function createDrain(): Drain {
  let inFlight = 0;
  let draining = false;
  let idle: (() => void) | undefined;
  const idlePromise = new Promise<void>((resolve) => (idle = resolve));
  const unavailable = new ProblemError({
    status: 503,
    slug: "shutting-down",
    title: "Shutting down",
    detail: "This gateway is shutting down and takes no new requests",
    headers: { "Retry-After": "1", Connection: "close" },
  });
  return {
    get inFlight() {
      return inFlight;
    },
    wrap(handler) {
      return async function counted(req, info) {
        if (draining) {
          await req.body?.cancel().catch(() => {});
          return new Response(JSON.stringify(problemJson(unavailable, new URL(req.url).pathname)), {
            status: 503,
            headers: { ...unavailable.headers, "content-type": PROBLEM_CONTENT_TYPE },
          });
        }
        inFlight++;
        try {
          return await handler(req, info);
        } finally {
          inFlight--;
          if (draining && inFlight === 0) idle?.();
        }
      };
    },
    drain() {
      draining = true;
      if (inFlight === 0) idle?.();
      return idlePromise;
    },
  };
}
