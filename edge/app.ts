/**
 * The edge's HTTP app: `createApp(deps)` returns a Hono app with
 * - `POST /v1/classify` (JSON in, classification out; see edge/classify_request.ts for every 4xx),
 * - `GET /v1/policy[?model=<id>]` (one model's arm statistics, chosen arm, costs), `GET /healthz`,
 *   `GET /openapi.json`, `GET /docs`,
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
import type { Manifest } from "../shared/manifest.ts";
import { CLIENT_ABORTED, clientAbortLine, readBodyLimited } from "../shared/http_body.ts";
import { internalProblem, PROBLEM_CONTENT_TYPE, ProblemError, problemJson } from "../shared/problem.ts";
import type { Classification, ClassifyInput } from "./classifier.ts";
import { parseClassifyRequest } from "./classify_request.ts";
import type { EdgeConfig } from "./config.ts";
import { docsPage } from "./docs_page.ts";
import { apiKeyAuth } from "./middleware/api_key.ts";
import { rateLimitKey } from "./middleware/client_key.ts";
import { rateLimit } from "./middleware/rate_limit.ts";
import { openApiDocument } from "./openapi.ts";
import { type UiOptions, uiRoutes } from "./ui/mod.ts";

/** What the app needs. */
export interface AppDeps {
  /** Served models, at least one; the first is the default. */
  readonly models: readonly Pick<Manifest, "id" | "version" | "task" | "labels">[];
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
      const input = parseClassifyRequest(c.req.header("content-type"), body, {
        maxTextChars: http.maxTextChars,
        models,
      });
      return c.json(await deps.classify(input));
    },
  );
  app.all("/v1/classify", () => methodNotAllowed("POST"));
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
  app.get("/docs", (c) => c.html(docsPage(doc)));
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
