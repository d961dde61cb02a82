/**
 * The gateway's one error handler: a {@linkcode ProblemError} becomes its problem+json response; a
 * {@linkcode WireError} becomes a 4xx problem (its code picks the status); anything else is logged and answered with
 * a generic 500 that reveals nothing. Hono's own `HTTPException`s (e.g. a malformed request line) keep their 4xx. A
 * client that went away mid-body is one warning line, not an error with a stack.
 * @module
 */

import type { Context, ErrorHandler, NotFoundHandler } from "hono";
import { HTTPException } from "hono/http-exception";
import { CLIENT_ABORTED, clientAbortLine } from "../shared/http_body.ts";
import { internalProblem, PROBLEM_CONTENT_TYPE, ProblemError, problemJson } from "../shared/problem.ts";
import { WireError, type WireErrorCode } from "../shared/wire/mod.ts";

/** HTTP status and problem slug for each wire error code: unparseable is 400, a model mismatch 409, the rest 422. */
const WIRE_STATUS: Readonly<Record<WireErrorCode, readonly [number, string, string]>> = {
  malformed_msgpack: [400, "malformed-msgpack", "Body is not valid msgpack"],
  unsupported_version: [422, "unsupported-wire-version", "Unsupported wire version"],
  missing_field: [422, "invalid-offload-request", "Invalid offload request"],
  unknown_field: [422, "invalid-offload-request", "Invalid offload request"],
  wrong_type: [422, "invalid-offload-request", "Invalid offload request"],
  invalid_value: [422, "invalid-offload-request", "Invalid offload request"],
  unknown_dtype: [422, "unknown-dtype", "Unknown hidden-state dtype"],
  invalid_dims: [422, "invalid-dims", "Invalid hidden-state dims"],
  size_mismatch: [422, "size-mismatch", "Hidden-state size mismatch"],
  mask_length_mismatch: [422, "mask-length-mismatch", "Attention mask length mismatch"],
  non_finite: [422, "non-finite-values", "Non-finite values"],
  layer_out_of_range: [422, "split-layer-out-of-range", "Split layer out of range"],
  model_mismatch: [409, "model-mismatch", "Model mismatch"],
};

/** The problem for a wire error (status by code, the error's message as detail, its code and field as members). */
export function wireProblem(err: WireError, extensions: Readonly<Record<string, unknown>> = {}): ProblemError {
  const [status, slug, title] = WIRE_STATUS[err.code];
  return new ProblemError({
    status,
    slug,
    title,
    detail: err.message,
    extensions: { code: err.code, ...(err.field ? { field: err.field } : {}), ...extensions },
  });
}

/** A problem+json response. */
export function problemResponse(c: Context, problem: ProblemError): Response {
  const headers = new Headers(problem.headers);
  headers.set("content-type", PROBLEM_CONTENT_TYPE);
  headers.set("cache-control", "no-store");
  return new Response(JSON.stringify(problemJson(problem, new URL(c.req.url).pathname)), {
    status: problem.status,
    headers,
  });
}

/** Options of {@linkcode problemHandler}. */
export interface ProblemHandlerOptions {
  /** Where unexpected (5xx) failures are reported. @default console.error */
  readonly log?: (message: string, error: unknown) => void;
}

/** Hono `onError` handler answering every error as problem+json. */
export function problemHandler(options: ProblemHandlerOptions = {}): ErrorHandler {
  const log = options.log ?? ((message, error) => console.error(message, error));
  return function onError(err, c) {
    let problem: ProblemError;
    if (err instanceof ProblemError) problem = err;
    else if (err instanceof WireError) problem = wireProblem(err);
    else if (err instanceof HTTPException && err.status < 500) {
      problem = new ProblemError({
        status: err.status,
        slug: "bad-request",
        title: "Bad request",
        detail: err.message,
      });
    } else problem = internalProblem(err);
    if (problem.slug === CLIENT_ABORTED) console.warn(clientAbortLine("gateway", c.req.raw, problem));
    if (problem.status >= 500) log(`${c.req.method} ${new URL(c.req.url).pathname} failed`, problem.cause ?? err);
    return problemResponse(c, problem);
  };
}

/** Hono `notFound` handler: 404 problem+json naming the method and path. */
export const notFoundHandler: NotFoundHandler = function notFound(c) {
  const path = new URL(c.req.url).pathname;
  return problemResponse(
    c,
    new ProblemError({
      status: 404,
      slug: "not-found",
      title: "Not found",
      detail: `No route for ${c.req.method} ${path.length > 200 ? `${path.slice(0, 200)}...` : path}`,
    }),
  );
};
