/**
 * The edge's HTTP app: `createApp(deps)` returns a Hono app with
 * - `POST /v1/classify` (JSON in, classification out; one input or a batch `{"inputs": [...]}` answered
 *   `{"results": [...]}`; see edge/classify_request.ts for every 4xx),
 * - `GET /v1/models` (the served models), `GET /v1/policy[?model=<id>]` (one model's arm statistics, chosen arm,
 *   costs), `GET /healthz`, `GET /openapi.json`, `GET /docs` (the API page rendered from the OpenAPI document),
 * - 405 with `Allow` for any other method on those paths,
 * - optional API keys on `/v1/*` (401), a per-client rate limit on `/v1/classify` (429 + Retry-After), a body size
 *   limit (413), configurable CORS,
 * - one error handler: a `ProblemError` becomes its problem+json response; anything else is logged and becomes a
 *   generic 500 problem that reveals nothing. `/` serves the page of edge/ui when `deps.ui` is given.
 * @module
 */

import { trace } from "@opentelemetry/api";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { cors } from "hono/cors";
import { HTTPException } from "hono/http-exception";
import { CLIENT_ABORTED, clientAbortLine, readBodyLimited } from "../shared/http_body.ts";
import { internalProblem, PROBLEM_CONTENT_TYPE, ProblemError, problemJson } from "../shared/problem.ts";
import type { Classification, ClassifyInput } from "./classifier.ts";
import { parseClassifyRequest } from "./classify_request.ts";
import type { EdgeConfig } from "./config.ts";
import { docsPage } from "./docs_page.tsx";
import { apiKeyAuth } from "./middleware/api_key.ts";
import { rateLimitKey } from "./middleware/client_key.ts";
import { chargeExtra, rateLimit } from "./middleware/rate_limit.ts";
import type { ModelInfo } from "./model_info.ts";
import { openApiDocument } from "./openapi.ts";
import { type UiOptions, uiRoutes } from "./ui/mod.ts";

/** What the app needs. */
export interface AppDeps {
  /** Served models, at least one; the first is the default (edge/model_info.ts). */
  readonly models: readonly ModelInfo[];
  readonly http: EdgeConfig["http"];
  /** Runs the pipeline of `input.model` (a served id, checked here; absent = the default model). */
  readonly classify: (input: ClassifyInput) => Promise<Classification>;
  /** The `GET /v1/policy` body of a served model (`undefined` = the default model). */
  readonly policy: (modelId: string | undefined) => unknown;
  /** Extra `GET /healthz` fields (e.g. the gateway breaker state). @default none */
  readonly health?: () => Record<string, unknown>;
  /** Logs an unexpected error (never sent to the client). @default console.error */
  readonly logError?: (error: unknown) => void;
  /** The page at `/` (edge/ui); omitted = no page. @default none */
  readonly ui?: UiOptions;
  /** Milliseconds clock for the rate limiter. @default performance.now */
  readonly now?: () => number;
}

/** Builds the edge app (see the module docs). */
export function createApp(deps: AppDeps): Hono {
  const { http, models } = deps;
  const first = models[0];
  if (first === undefined) throw new RangeError("createApp needs at least one model");
  const logError = deps.logError ?? ((e: unknown) => console.error("edge: unexpected error:", e));
  const app = new Hono();
  const doc = openApiDocument({
    models,
    maxTextChars: http.maxTextChars,
    maxBatch: http.maxBatch,
    bodyLimitBytes: http.bodyLimitBytes,
    apiKeys: http.apiKeys.length > 0,
    rateLimit: http.rateLimit,
  });

  app.use(async function routeName(c, next) {
    await next();
    // Deno's server span (OTEL_DENO=true) is named by method only; give it the route.
    const span = trace.getActiveSpan();
    if (span && c.req.routePath !== "/*") {
      span.setAttribute("http.route", c.req.routePath);
      span.updateName(`${c.req.method} ${c.req.routePath}`);
    }
  });
  if (http.corsOrigins.length > 0) {
    const origins = [...http.corsOrigins];
    app.use(
      "*",
      cors({
        origin: origins.includes("*") ? "*" : origins,
        allowMethods: ["GET", "POST", "OPTIONS"],
        allowHeaders: ["content-type", "authorization", "x-api-key", "traceparent"],
        exposeHeaders: ["retry-after"],
        maxAge: 600,
      }),
    );
  }
  if (http.apiKeys.length > 0) app.use("/v1/*", apiKeyAuth(http.apiKeys));
  if (http.rateLimit) {
    app.use(
      "/v1/classify",
      rateLimit({
        ...http.rateLimit,
        clientKey: rateLimitKey({ apiKeys: http.apiKeys.length > 0, trustedProxies: http.trustedProxies }),
        ...(deps.now ? { now: deps.now } : {}),
      }),
    );
  }

  app.post(
    "/v1/classify",
    bodyLimit({
      maxSize: http.bodyLimitBytes,
      onError: () => {
        throw new ProblemError({
          status: 413,
          slug: "body-too-large",
          title: "Request body too large",
          detail: `The body must be at most ${http.bodyLimitBytes} bytes.`,
          extensions: { limit: http.bodyLimitBytes },
        });
      },
    }),
    async (c) => {
      const body = await readBodyLimited(c.req.raw, http.bodyLimitBytes, { timeoutMs: http.bodyTimeoutMs });
      const request = parseClassifyRequest(c.req.header("content-type"), body, {
        maxTextChars: http.maxTextChars,
        maxBatch: http.maxBatch,
        models,
      });
      if (request.kind === "single") return c.json(await deps.classify(request.input));
      // A batch of N inputs costs N requests of the client's rate limit (the middleware took the first).
      chargeExtra(c, request.items.length - 1);
      // One input after the other, in order: one model pipeline at a time, and the policy learns in request order.
      const results: unknown[] = [];
      for (const item of request.items) {
        try {
          if (item instanceof ProblemError) throw item;
          results.push(await deps.classify(item));
        } catch (error) {
          if (!(error instanceof ProblemError)) logError(error);
          const problem = error instanceof ProblemError ? error : internalProblem(error);
          const index = results.length;
          results.push({ ...problemJson(problem), index });
        }
      }
      return c.json({ results });
    },
  );
  app.all("/v1/classify", () => methodNotAllowed("POST"));
  app.get("/v1/models", (c) => c.json({ models: models.map((m, i) => ({ ...m, default: i === 0 })) }));
  app.get("/v1/policy", (c) => {
    const model = c.req.query("model");
    if (model !== undefined && !models.some((m) => m.id === model)) {
      throw new ProblemError({
        status: 404,
        slug: "unknown-model",
        title: "Unknown model",
        detail: `No served model ${JSON.stringify(model.slice(0, 64))}; this edge serves ${
          models.map((m) => m.id).join(", ")
        }.`,
      });
    }
    return c.json(deps.policy(model) as Record<string, unknown>);
  });
  app.get("/healthz", (c) =>
    c.json({
      status: "ok",
      modelId: first.id,
      modelVersion: first.version,
      models: models.map((m) => ({ id: m.id, version: m.version, task: m.task, labels: m.labels })),
      ...deps.health?.(),
    }));
  app.get("/openapi.json", (c) => c.json(doc));
  app.get("/docs", (c) => c.html(docsPage(doc, new URL(c.req.url).origin)));
  for (const path of ["/v1/models", "/v1/policy", "/healthz", "/openapi.json", "/docs"]) {
    app.all(path, () => methodNotAllowed("GET, HEAD"));
  }
  if (deps.ui) app.route("/", uiRoutes(deps.ui));

  app.notFound((c) =>
    problemResponse(
      new ProblemError({
        status: 404,
        slug: "not-found",
        title: "Not found",
        detail: `No route for ${c.req.method} ${new URL(c.req.url).pathname.slice(0, 100)}; see /docs.`,
      }),
    )
  );
  app.onError((err, c) => {
    if (err instanceof ProblemError && err.slug === CLIENT_ABORTED) {
      console.warn(clientAbortLine("edge", c.req.raw, err));
    }
    if (err instanceof ProblemError) return problemResponse(err);
    if (err instanceof HTTPException && err.status < 500) {
      return problemResponse(
        new ProblemError({
          status: err.status,
          slug: "bad-request",
          title: "Bad request",
          detail: "The request was rejected.",
        }),
      );
    }
    logError(err);
    return problemResponse(internalProblem(err));
  });
  return app;
}

function methodNotAllowed(allow: string): never {
  throw new ProblemError({
    status: 405,
    slug: "method-not-allowed",
    title: "Method not allowed",
    detail: `Use ${allow}.`,
    headers: { allow },
  });
}

function problemResponse(err: ProblemError): Response {
  return new Response(JSON.stringify(problemJson(err)), {
    status: err.status,
    headers: { ...err.headers, "content-type": PROBLEM_CONTENT_TYPE },
  });
}
