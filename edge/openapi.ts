/**
 * The edge's OpenAPI 3.1 document, hand-written (served at `GET /openapi.json`, rendered at `GET /docs`): every
 * route, every status it answers and every body, with request examples the docs page turns into curl commands.
 * The schemas are in ./openapi_schemas.ts.
 * @module
 */

import type { ModelInfo } from "./model_info.ts";
import { schemas } from "./openapi_schemas.ts";

/** What the document states about this deployment. */
export interface OpenApiInfo {
  /** Served models; the first is the default. */
  readonly models: readonly ModelInfo[];
  readonly maxTextChars: number;
  /** Most inputs of a batch (`EDGE_MAX_BATCH`). */
  readonly maxBatch: number;
  readonly bodyLimitBytes: number;
  /** Whether API keys are required on `/v1/*`. */
  readonly apiKeys: boolean;
  readonly rateLimit: { readonly rps: number; readonly burst: number } | undefined;
}

const problem = (description: string, headers?: Record<string, unknown>) => ({
  description,
  ...(headers ? { headers } : {}),
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});
const json = (description: string, schema: string) => ({
  description,
  content: { "application/json": { schema: { $ref: `#/components/schemas/${schema}` } } },
});
const methodNotAllowed = (allow: string) =>
  problem(`Any other method; the Allow header lists ${allow}`, {
    Allow: { schema: { type: "string" }, description: allow },
  });
const internal = problem("Unexpected failure; the body reveals nothing, the edge logs the cause");

/** Builds the OpenAPI document. */
export function openApiDocument(info: OpenApiInfo): Record<string, unknown> {
  const first = info.models[0];
  const defaultId = first?.id ?? "";
  const pair = info.models.find((m) => m.task === "pair");
  const security = info.apiKeys ? [{ bearerKey: [] }, { headerKey: [] }] : [];
  const protectedErrors = info.apiKeys ? { "401": problem("Missing or invalid API key") } : {};
  const limited = info.rateLimit
    ? {
      "429": problem(
        `Rate limited (${info.rateLimit.rps} requests/s per client, bursts of ${info.rateLimit.burst})`,
        { "Retry-After": { schema: { type: "integer" }, description: "Seconds to wait" } },
      ),
    }
    : {};
  const pinSplit = Math.min(3, first?.maxSplit ?? 1);
  const examples: Record<string, { summary: string; value: unknown }> = {
    single: { summary: "One text", value: { text: "a charming and often affecting journey" } },
    ...(pair
      ? {
        pair: {
          summary: "A text pair",
          value: {
            model: pair.id,
            text: "How do I learn guitar fast?",
            textPair: "What is the quickest way to learn guitar?",
          },
        },
      }
      : {}),
    batch: {
      summary: "A batch",
      value: { inputs: [{ text: "a gorgeous, witty, seductive movie." }, { text: "the plot is thin." }] },
    },
    pinned: {
      summary: `Pinned: split ${pinSplit}, no early exit (answered by the gateway, not learned)`,
      value: { text: "a charming and often affecting journey", split: pinSplit, earlyExit: false },
    },
  };
  return {
    openapi: "3.1.0",
    info: {
      title: "SplitEE edge",
      version: "1",
      description:
        "Early-exit split inference: the edge runs layers 1..i of a multi-exit model, exits when confident, " +
        "else offloads the hidden state to the gateway. The split layer i is chosen per request by the SplitEE-S " +
        "bandit, which learns online. Errors are RFC 9457 problem details (application/problem+json).",
    },
    paths: {
      "/v1/classify": {
        post: {
          summary: `Classify a text, a text pair, or a batch of them (default model ${defaultId})`,
          description: `One input gets one ClassifyResponse; a batch ({"inputs": [...]}, at most ${info.maxBatch}) ` +
            "gets {results: [...]}, one element per input in order: the input's ClassifyResponse, or its problem " +
            "(ItemProblem, with index) when that input is invalid, too long or has no token; the other inputs are " +
            "still answered. A problem with the batch itself (not an array, empty, too many inputs, unknown model) " +
            "refuses the whole request. A request with split or earlyExit is pinned: answered, marked pinned, and " +
            "not learned by the policy.",
          operationId: "classify",
          security,
          requestBody: {
            required: true,
            description: `JSON, at most ${info.bodyLimitBytes} bytes; text fields at most ${info.maxTextChars} ` +
              "characters (longer texts: 413). Texts over the model's token limit are truncated head+tail.",
            content: {
              "application/json": {
                schema: {
                  oneOf: [
                    { $ref: "#/components/schemas/ClassifyRequest" },
                    { $ref: "#/components/schemas/BatchRequest" },
                  ],
                },
                examples,
              },
            },
          },
          responses: {
            "200": {
              description: "The classification (one input), or one result per input (a batch)",
              content: {
                "application/json": {
                  schema: {
                    oneOf: [
                      { $ref: "#/components/schemas/ClassifyResponse" },
                      { $ref: "#/components/schemas/BatchResponse" },
                    ],
                  },
                },
              },
            },
            "400": problem("Body is not UTF-8 or not JSON"),
            ...protectedErrors,
            "405": methodNotAllowed("POST"),
            "408": problem("The body did not arrive in time (EDGE_BODY_TIMEOUT_MS)"),
            "413": problem(
              `Body over ${info.bodyLimitBytes} bytes (body-too-large), a text over ${info.maxTextChars} characters ` +
                `(text-too-long), or a batch over ${info.maxBatch} inputs (batch-too-large)`,
            ),
            "415": problem("Content-Type is not application/json"),
            "422": problem(
              "Invalid fields (listed in errors), including a text with no token the model can read (only spaces, " +
                "control or zero-width characters)",
            ),
            ...limited,
            "500": internal,
          },
        },
      },
      "/v1/models": {
        get: {
          summary: "The served models: id, version, task, labels, layers, the deepest split this edge runs",
          operationId: "models",
          security,
          responses: {
            "200": json("The served models; the default one has default: true", "ModelList"),
            ...protectedErrors,
            "405": methodNotAllowed("GET, HEAD"),
            "500": internal,
          },
        },
      },
      "/v1/policy": {
        get: {
          summary: "Policy state of one model: arm statistics, chosen arm, cost parameters and measurements",
          operationId: "policy",
          security,
          parameters: [{
            name: "model",
            in: "query",
            required: false,
            schema: { type: "string", enum: info.models.map((m) => m.id) },
            description: `Served model id (default ${defaultId}); each model has its own policy state`,
          }],
          responses: {
            "200": json("Policy state", "PolicyView"),
            ...protectedErrors,
            "404": problem("Unknown model"),
            "405": methodNotAllowed("GET, HEAD"),
            "500": internal,
          },
        },
      },
      "/healthz": {
        get: {
          summary: "Liveness and readiness",
          operationId: "health",
          responses: {
            "200": json("Up", "Health"),
            "405": methodNotAllowed("GET, HEAD"),
            "500": internal,
          },
        },
      },
      "/openapi.json": {
        get: {
          summary: "This document",
          operationId: "openapi",
          responses: {
            "200": { description: "OpenAPI 3.1", content: { "application/json": { schema: { type: "object" } } } },
            "405": methodNotAllowed("GET, HEAD"),
          },
        },
      },
      "/docs": {
        get: {
          summary: "This API as a page: every route, status and body, with curl examples",
          operationId: "docs",
          responses: {
            "200": { description: "HTML", content: { "text/html": { schema: { type: "string" } } } },
            "405": methodNotAllowed("GET, HEAD"),
          },
        },
      },
    },
    components: {
      securitySchemes: {
        bearerKey: { type: "http", scheme: "bearer", description: "API key as a bearer token" },
        headerKey: { type: "apiKey", in: "header", name: "X-API-Key" },
      },
      schemas: schemas(info),
    },
  };
}
