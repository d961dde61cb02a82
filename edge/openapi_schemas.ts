/**
 * The JSON Schemas of the edge's OpenAPI document (`components.schemas`): request and response bodies of every
 * route, problem details, and the bodies of `GET /v1/models`, `GET /v1/policy` and `GET /healthz`.
 * @module
 */

import type { OpenApiInfo } from "./openapi.ts";

const num = (description: string) => ({ type: "number", description });
const int = (description: string, minimum?: number) => ({
  type: "integer",
  ...(minimum === undefined ? {} : { minimum }),
  description,
});
const nullable = (type: "number" | "integer" | "string", description: string) => ({
  type: [type, "null"],
  description,
});
const obj = (properties: Record<string, unknown>, description?: string, required = Object.keys(properties)) => ({
  type: "object",
  ...(description === undefined ? {} : { description }),
  required,
  properties,
});

/** The `components.schemas` member of the OpenAPI document. */
export function schemas(info: OpenApiInfo): Record<string, unknown> {
  const ids = info.models.map((m) => m.id);
  const defaultId = ids[0] ?? "";
  const labels = [...new Set(info.models.flatMap((m) => m.labels))];
  const maxSplit = Math.max(1, ...info.models.map((m) => m.maxSplit));
  const served = info.models.map((m) =>
    `${m.id} (${m.task === "pair" ? "text pair" : "single text"}: ${m.labels.join(", ")}; split 1..${m.maxSplit})`
  ).join("; ");
  const text = (description: string) => ({ type: "string", minLength: 1, maxLength: info.maxTextChars, description });
  const inputProperties = {
    text: text("The text to classify: not empty, not only whitespace, with at least one token the model can read"),
    textPair: text("The second text; required by pair models, refused by single-text models"),
    split: {
      type: "integer",
      minimum: 1,
      maximum: maxSplit,
      description:
        "Pins the split layer (at most the model's maxSplit, GET /v1/models) instead of asking the policy. " +
        "The answer is marked pinned and the policy does not learn from it.",
    },
    earlyExit: {
      type: "boolean",
      default: true,
      description: "false: skip every early exit up to the split, so a split below the last layer is always " +
        "answered by the gateway. A request with earlyExit false is pinned too.",
    },
  };
  const model = { type: "string", enum: ids, description: `A served model id (default ${defaultId})` };
  const problemProperties = {
    type: { type: "string", format: "uri", description: "Stable problem type, https://splitee.dev/problems/<slug>" },
    title: { type: "string" },
    status: { type: "integer", minimum: 400, maximum: 599 },
    detail: { type: "string", description: "What went wrong in this occurrence" },
    errors: {
      type: "array",
      description: "422 only: every field problem",
      items: obj({ field: { type: "string" }, message: { type: "string" } }),
    },
    limit: { type: "integer", description: "413 only: the limit that was passed" },
  };
  return {
    ClassifyInput: {
      ...obj(inputProperties, `One input. Served models: ${served}.`, ["text"]),
      additionalProperties: false,
    },
    ClassifyRequest: {
      ...obj({ ...inputProperties, model }, "One input, and the model to classify it with", ["text"]),
      additionalProperties: false,
    },
    BatchRequest: {
      ...obj(
        {
          inputs: {
            type: "array",
            minItems: 1,
            maxItems: info.maxBatch,
            items: { $ref: "#/components/schemas/ClassifyInput" },
            description: `1..${info.maxBatch} inputs (EDGE_MAX_BATCH), classified in order with one model`,
          },
          model,
        },
        "A batch: several inputs for one model",
        ["inputs"],
      ),
      additionalProperties: false,
    },
    Score: obj({ label: { type: "string", enum: labels }, score: num("Probability of the label") }),
    ClassifyResponse: obj({
      label: { type: "string", enum: labels, description: "The most probable label" },
      labelIndex: int("Index of label in the model's labels", 0),
      probabilities: { type: "array", items: { type: "number" }, description: "Softmax of the answering exit" },
      scores: {
        type: "array",
        items: { $ref: "#/components/schemas/Score" },
        description: "The probabilities with their labels, in label order",
      },
      splitLayer: int("Split layer i: chosen by the policy, or the request's own split when pinned", 1),
      pinned: { type: "boolean", description: "The request set split or earlyExit; the policy learned nothing" },
      exitLayer: int("The exit that answered", 1),
      answeredBy: { type: "string", enum: ["edge", "gateway"] },
      degraded: { type: "boolean", description: "A gateway failure forced a fallback answer" },
      degradedReason: nullable("string", "Why the answer is degraded (timeout, unreachable, breaker-open, ...)"),
      exitConfidences: { type: "array", items: { type: "number" }, description: "C_1..C_m computed on the edge" },
      tokens: int("Tokens of the encoding, special tokens included", 2),
      costs: obj({
        lambdaUnits: num("lambda * layers run on the edge + o if offloaded (rounded to 12 significant digits)"),
        lambda: num("Cost per edge layer the policy used"),
        o: num("Offload cost the policy used"),
        measured: obj({
          edgeMs: num("Embedding plus layers on the edge, milliseconds (3 decimals)"),
          commMs: nullable("number", "Offload round trip minus gateway compute; null when not offloaded"),
          gatewayMs: nullable("number", "Gateway compute; null when not offloaded"),
          payloadBytes: nullable("integer", "Bytes of the offload request; null when not offloaded"),
        }),
      }),
      traceId: nullable("string", "OpenTelemetry trace id; null when tracing is off"),
      modelId: { type: "string", enum: ids },
    }),
    BatchResponse: obj({
      results: {
        type: "array",
        description: "One element per input, in order: its classification, or its problem (with index)",
        items: {
          oneOf: [{ $ref: "#/components/schemas/ClassifyResponse" }, { $ref: "#/components/schemas/ItemProblem" }],
        },
      },
    }),
    Problem: obj(problemProperties, "RFC 9457 problem details", ["type", "title", "status"]),
    ItemProblem: obj(
      { ...problemProperties, index: int("Position of the input in inputs", 0) },
      "The problem of one input of a batch (the others are answered)",
      ["type", "title", "status", "index"],
    ),
    Model: obj({
      id: { type: "string" },
      version: { type: "string", description: "Export version (content hash)" },
      task: { type: "string", enum: ["single", "pair"], description: "pair: text and textPair" },
      labels: { type: "array", items: { type: "string" }, description: "In the order of probabilities" },
      layers: int("Transformer layers L, one exit after each", 1),
      maxSplit: int("Deepest split layer this edge runs; a request's split must be at most this", 1),
      maxTokens: int("Longest encoding; longer inputs are truncated", 2),
      timingOnly: {
        type: "boolean",
        description: "Random weights or exits (an imported timing model): its answers are not classifications",
      },
      default: { type: "boolean", description: "Used when a request names no model" },
    }),
    ModelList: obj({ models: { type: "array", items: { $ref: "#/components/schemas/Model" } } }),
    PolicyView: {
      ...obj({
        modelId: { type: "string" },
        modelVersion: { type: "string" },
        policy: { type: "string", description: "Policy name, e.g. splitee-s" },
        variant: obj({
          mode: { type: "string" },
          sideInfo: { type: "boolean" },
          exitRule: { type: "string", enum: ["split", "first-confident", "never"] },
          adaptiveCosts: { type: "boolean" },
        }),
        alpha: num("Confidence threshold"),
        beta: num("UCB exploration weight"),
        t: int("Updates learned (rounds), all instances together", 0),
        chosenArm: int("The split layer the next request would get", 1),
        chosenReason: { type: "string", enum: ["init", "ucb", "fixed"] },
        bestArm: nullable("integer", "Split layer with the highest mean reward; null before any observation"),
        arms: {
          type: "array",
          items: obj({
            arm: int("Split layer", 1),
            pulls: int("Observations of this arm: rounds that played it plus side information from deeper arms", 0),
            chosenRecently: int("Requests in the recent window for which the policy chose this split layer", 0),
            meanReward: nullable("number", "Mean reward at the current costs; null when never observed"),
            ucbIndex: nullable("number", "UCB index; null when infinite (never observed) or for fixed policies"),
            offloadRate: nullable("number", "Adaptive-cost policies: fraction of observations that offloaded"),
          }),
        },
        costs: {
          type: "object",
          description: "Cost parameters and measurements (lambda, o, mode, msPerUnit, measured moving averages)",
        },
        recent: {
          type: "object",
          description:
            "The recent window of requests: size, offloadRate, degradedRate, meanSplitLayer, modalSplitLayer",
        },
        breaker: obj({
          state: { type: "string", enum: ["closed", "open", "half-open"] },
          consecutiveFailures: int("", 0),
          opened: int("Times it opened", 0),
          rejected: int("Offloads refused while open", 0),
        }, "The gateway circuit breaker"),
        store: { type: "object", description: "Policy store counters (updates, pending, flushes, errors, ...)" },
      }),
    },
    Health: {
      ...obj(
        {
          status: { type: "string", enum: ["ok"] },
          modelId: { type: "string", description: "The default model" },
          modelVersion: { type: "string" },
          models: {
            type: "array",
            items: obj({
              id: { type: "string" },
              version: { type: "string" },
              task: { type: "string", enum: ["single", "pair"] },
              labels: { type: "array", items: { type: "string" } },
            }),
          },
          gatewayBreaker: { type: "string", enum: ["closed", "open", "half-open"] },
          policy: { type: "string" },
          costMode: { type: "string", enum: ["constant", "measured"] },
        },
        "Liveness and readiness",
        ["status", "modelId", "modelVersion", "models"],
      ),
    },
  };
}
