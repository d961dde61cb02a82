/**
 * The gateway: `POST /v1/complete` takes an offloaded hidden state (msgpack, shared/wire), runs the remaining layers
 * of the model its `model.id` names (one gateway serves several models: gateway/models.ts) and answers the final
 * exit's logits with its own compute time (`computeMs` and `Server-Timing`). An id it does not serve, or another
 * version of a served id, is a 409 `model-mismatch` listing the served models. `GET /healthz` names the models and
 * execution provider. Every failure is RFC 9457 problem+json; bad input is always a 4xx.
 *
 * With `batch` (maxBatch >= 2) concurrent offloads for one model run as one batch (gateway/batcher.ts, one batcher
 * per model); `computeMs` is then the request's own decode time plus its share of the batch's run time (batch time /
 * batch size), not its time queued.
 * @module
 */

import { trace, type Tracer } from "@opentelemetry/api";
import { Hono } from "hono";
import { readBodyLimited } from "../shared/http_body.ts";
import { ProblemError } from "../shared/problem.ts";
import { ATTR } from "../shared/tracing.ts";
import {
  decodeOffloadRequest,
  encodeOffloadResponse,
  isMsgpackContentType,
  MSGPACK_CONTENT_TYPE,
  type OffloadRequest,
  WireError,
} from "../shared/wire/mod.ts";
import { bearerAuth } from "./auth.ts";
import { completeOffload } from "./complete.ts";
import type { GatewayAuth } from "./config.ts";
import { notFoundHandler, problemHandler } from "./errors.ts";
import { hmacAuth, verifiedBody } from "./hmac_auth.ts";
import { createModelTable, type ModelEntry } from "./models.ts";
import { gatewayTracer } from "./tracing.ts";

export type { ModelEntry, ServedModel } from "./models.ts";

/** What {@linkcode createApp} is built from. */
export interface GatewayDeps {
  /**
   * The served models (at least one, ids unique), each with the runner of its layers (the gateway never disposes
   * them). Offloads are routed by `model.id`; an unknown id or another version gets 409.
   */
  readonly models: readonly ModelEntry[];
  /** Execution provider name reported by `/healthz` (e.g. "cpu", "cuda"). */
  readonly provider: string;
  /** Bearer token, HMAC request signatures, or the explicit insecure local mode (no authentication). */
  readonly auth: GatewayAuth;
  /** Wall clock in unix milliseconds for the HMAC replay window. @default Date.now */
  readonly clock?: () => number;
  /** When this gateway started (unix ms): HMAC signatures from before it are refused. @default clock() at creation */
  readonly startedAt?: number;
  /** Largest accepted request body in bytes (413 beyond). @default 4194304 */
  readonly maxBodyBytes?: number;
  /** Longest time a request body may take to arrive (408 beyond). @default no limit */
  readonly bodyTimeoutMs?: number;
  /** Tracer for the layer span. @default the global provider's "splitee-gateway" tracer */
  readonly tracer?: Tracer;
  /** Monotonic clock in milliseconds for `computeMs`. @default performance.now */
  readonly now?: () => number;
  /**
   * Dynamic batching, one batcher per model: group concurrent offloads for one model into batches of at most
   * `maxBatch`, waiting at most `waitMs` for a group to fill, with at most `maxInFlight` (default 1) batches running
   * per model. `maxBatch` <= 1 turns it off. @default off
   */
  readonly batch?: { readonly maxBatch: number; readonly waitMs: number; readonly maxInFlight?: number };
  /** Where unexpected failures are logged. @default console.error */
  readonly log?: (message: string, error: unknown) => void;
}

/**
 * Builds the gateway's Hono app.
 * @throws {RangeError} when `models` is empty, has a duplicate id, or a runner disagrees with its model's layer count
 */
export function createApp(deps: GatewayDeps): Hono {
  const { provider } = deps;
  const maxBodyBytes = deps.maxBodyBytes ?? 4 * 1024 * 1024;
  const tracer = deps.tracer ?? gatewayTracer();
  const now = deps.now ?? (() => performance.now());
  const table = createModelTable(
    deps.models,
    deps.batch !== undefined && deps.batch.maxBatch > 1 ? { ...deps.batch, now } : undefined,
  );
  const first = table.routes[0]!;

  const app = new Hono();
  app.onError(problemHandler(deps.log ? { log: deps.log } : {}));
  app.notFound(notFoundHandler);
  app.use(async function routeName(c, next) {
    await next();
    // Deno's server span (OTEL_DENO=true) is named by method only; give it the route.
    const span = trace.getActiveSpan();
    if (span && c.req.routePath !== "/*") {
      span.setAttribute("http.route", c.req.routePath);
      span.updateName(`${c.req.method} ${c.req.routePath}`);
    }
  });

  // `model` and `layers` name the first model (for single-model callers); `models` lists every served one.
  const models = table.routes.map((r) => ({ ...r.ref, layers: r.model.layers }));
  app.get("/healthz", (c) =>
    c.json({
      status: "ok",
      model: first.ref,
      layers: first.model.layers,
      models,
      provider,
      auth: deps.auth.mode,
    }));

  if (deps.auth.mode === "token") app.use("/v1/*", bearerAuth({ token: deps.auth.token }));
  if (deps.auth.mode === "hmac") {
    app.use(
      "/v1/*",
      hmacAuth({
        secret: deps.auth.token,
        maxBodyBytes,
        ...(deps.bodyTimeoutMs ? { bodyTimeoutMs: deps.bodyTimeoutMs } : {}),
        ...(deps.clock ? { now: deps.clock } : {}),
        ...(deps.startedAt !== undefined ? { startedAt: deps.startedAt } : {}),
      }),
    );
  }

  app.post("/v1/complete", async (c) => {
    const contentType = c.req.header("content-type");
    if (!isMsgpackContentType(contentType)) {
      throw new ProblemError({
        status: 415,
        slug: "unsupported-media-type",
        title: "Unsupported media type",
        detail: `Send the offload request as ${MSGPACK_CONTENT_TYPE}, not ${
          contentType ? `"${contentType.slice(0, 100)}"` : "no type"
        }`,
        headers: { "Accept-Post": `${MSGPACK_CONTENT_TYPE}, application/x-msgpack` },
      });
    }
    const body = verifiedBody(c.req.raw) ??
      await readBodyLimited(c.req.raw, maxBodyBytes, { timeoutMs: deps.bodyTimeoutMs });
    const started = now();
    let req: OffloadRequest;
    try {
      req = decodeOffloadRequest(body, table.limitsFor);
    } catch (err) {
      throw err instanceof WireError ? table.problem(err) : err;
    }
    const { runner, ref, batcher } = table.route(req.model);
    trace.getActiveSpan()?.setAttribute(ATTR.payloadBytes, body.byteLength);
    const decoded = batcher === undefined ? started : now();
    const done = await completeOffload(runner, req, tracer, body.byteLength, batcher);
    const computeMs = done.batch === undefined
      ? Math.max(0, now() - started)
      : Math.max(0, decoded - started) + done.batch.computeMs;
    const bytes = encodeOffloadResponse({
      v: 1,
      model: ref,
      exitLayer: done.exitLayer,
      logits: done.logits,
      computeMs,
    });
    return c.body(bytes, 200, {
      "content-type": MSGPACK_CONTENT_TYPE,
      "server-timing": `compute;dur=${computeMs.toFixed(3)}`,
      "cache-control": "no-store",
    });
  });

  app.all("/v1/complete", () => {
    throw new ProblemError({
      status: 405,
      slug: "method-not-allowed",
      title: "Method not allowed",
      detail: "Use POST /v1/complete",
      headers: { Allow: "POST" },
    });
  });

  return app;
}
