/**
 * The edge's OpenAPI 3.1 document, hand-written (served at `GET /openapi.json`).
 * @module
 */

/** What the document states about this deployment. */
export interface OpenApiInfo {
  /** Served models; the first is the default. */
  readonly models: readonly {
    readonly id: string;
    readonly labels: readonly string[];
    readonly task: "single" | "pair";
  }[];
  readonly maxTextChars: number;
  readonly bodyLimitBytes: number;
  /** Whether API keys are required on `/v1/*`. */
  readonly apiKeys: boolean;
  readonly rateLimit: { readonly rps: number; readonly burst: number } | undefined;
}

const problem = (description: string) => ({
  description,
  content: { "application/problem+json": { schema: { $ref: "#/components/schemas/Problem" } } },
});

/** Builds the OpenAPI document. */
export function openApiDocument(info: OpenApiInfo): Record<string, unknown> {
  const defaultId = info.models[0]?.id ?? "";
  const served = info.models.map((m) =>
    `${m.id} (${m.task === "pair" ? "text pair" : "single text"}: ${m.labels.join(", ")})`
  )
    .join("; ");
  const anyPair = info.models.some((m) => m.task === "pair");
  const security = info.apiKeys ? [{ bearerKey: [] }, { headerKey: [] }] : [];
  const protectedErrors = info.apiKeys ? { "401": problem("Missing or invalid API key") } : {};
  const limited = info.rateLimit
    ? {
      "429": {
        ...problem(`Rate limited (${info.rateLimit.rps} requests/s per client, bursts of ${info.rateLimit.burst})`),
        headers: { "Retry-After": { schema: { type: "integer" }, description: "Seconds to wait" } },
      },
    }
    : {};
  return {
    openapi: "3.1.0",
    info: {
      title: "SplitEE edge",
      version: "1",
      description:
        "Early-exit split inference: the edge runs layers 1..i of a multi-exit model, exits when confident, " +
        "else offloads the hidden state to the gateway. The split layer i is chosen per request by the SplitEE-S " +
        "bandit, which learns online. Errors are RFC 9457 problem details.",
    },
    paths: {
      "/v1/classify": {
        post: {
          summary: `Classify a text (or a text pair) with one of the served models (default ${defaultId})`,
          operationId: "classify",
          security,
          requestBody: {
            required: true,
            description: `JSON, at most ${info.bodyLimitBytes} bytes; text fields at most ${info.maxTextChars} ` +
              "characters (longer texts: 413). Texts over the model's token limit are truncated head+tail.",
            content: { "application/json": { schema: { $ref: "#/components/schemas/ClassifyRequest" } } },
          },
          responses: {
            "200": {
              description: "The classification",
              content: { "application/json": { schema: { $ref: "#/components/schemas/ClassifyResponse" } } },
            },
            "400": problem("Body is not UTF-8 or not JSON"),
            ...protectedErrors,
            "413": problem("Body or text too large"),
            "415": problem("Content-Type is not application/json"),
            "422": problem("Invalid fields (listed in `errors`)"),
            ...limited,
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
            "200": { description: "Policy state", content: { "application/json": { schema: { type: "object" } } } },
            ...protectedErrors,
            "404": problem("Unknown model"),
          },
        },
      },
      "/healthz": {
        get: {
          summary: "Liveness and readiness",
          operationId: "health",
          responses: {
            "200": { description: "Up", content: { "application/json": { schema: { type: "object" } } } },
          },
        },
      },
      "/openapi.json": { get: { summary: "This document", responses: { "200": { description: "OpenAPI 3.1" } } } },
      "/docs": { get: { summary: "Human-readable API page", responses: { "200": { description: "HTML" } } } },
    },
    components: {
      securitySchemes: {
        bearerKey: { type: "http", scheme: "bearer", description: "API key as a bearer token" },
        headerKey: { type: "apiKey", in: "header", name: "X-API-Key" },
      },
      schemas: {
        ClassifyRequest: {
          type: "object",
          additionalProperties: false,
          required: ["text"],
          description: `Served models: ${served}. textPair is required for pair models and refused otherwise.`,
          properties: {
            text: { type: "string", minLength: 1, maxLength: info.maxTextChars, description: "Not only whitespace" },
            ...(anyPair
              ? {
                textPair: {
                  type: "string",
                  minLength: 1,
                  maxLength: info.maxTextChars,
                  description: "The second text; pair models only",
                },
              }
              : {}),
            model: {
              type: "string",
              enum: info.models.map((m) => m.id),
              description: `Optional; the served model id (default ${defaultId})`,
            },
          },
        },
        ClassifyResponse: {
          type: "object",
          required: [
            "label",
            "labelIndex",
            "probabilities",
            "splitLayer",
            "exitLayer",
            "answeredBy",
            "degraded",
            "exitConfidences",
            "costs",
            "traceId",
            "modelId",
          ],
          properties: {
            label: { type: "string", enum: [...new Set(info.models.flatMap((m) => m.labels))] },
            labelIndex: { type: "integer", minimum: 0 },
            probabilities: { type: "array", items: { type: "number" }, description: "Softmax of the answering exit" },
            splitLayer: { type: "integer", minimum: 1, description: "Split layer i chosen by the policy" },
            exitLayer: { type: "integer", minimum: 1, description: "Exit that answered" },
            answeredBy: { type: "string", enum: ["edge", "gateway"] },
            degraded: { type: "boolean", description: "A gateway fault forced a fallback answer" },
            degradedReason: { type: ["string", "null"] },
            exitConfidences: { type: "array", items: { type: "number" }, description: "C_1..C_m computed on the edge" },
            tokens: { type: "integer" },
            costs: {
              type: "object",
              properties: {
                lambdaUnits: { type: "number", description: "lambda * layers on the edge + o if offloaded" },
                lambda: { type: "number" },
                o: { type: "number" },
                measured: {
                  type: "object",
                  properties: {
                    edgeMs: { type: "number" },
                    commMs: { type: ["number", "null"], description: "Offload round trip minus gateway compute" },
                    gatewayMs: { type: ["number", "null"] },
                    payloadBytes: { type: ["integer", "null"] },
                  },
                },
              },
            },
            traceId: { type: ["string", "null"], description: "OpenTelemetry trace id; null when tracing is off" },
            modelId: { type: "string" },
          },
        },
        Problem: {
          type: "object",
          required: ["type", "title", "status"],
          properties: {
            type: { type: "string", format: "uri" },
            title: { type: "string" },
            status: { type: "integer" },
            detail: { type: "string" },
            errors: {
              type: "array",
              items: { type: "object", properties: { field: { type: "string" }, message: { type: "string" } } },
            },
          },
        },
      },
    },
  };
}
