/**
 * Strict parsing of the `POST /v1/classify` body: one input (`{"text": ...}`) or a batch
 * (`{"inputs": [{"text": ...}, ...], "model"?: ...}`). Every problem is a {@linkcode ProblemError} (4xx,
 * `application/problem+json`):
 *
 * | Case | Status | Problem type slug |
 * |---|---|---|
 * | Content-Type not `application/json` (charset other than utf-8 too) | 415 | `unsupported-media-type` |
 * | body is not valid UTF-8 | 400 | `invalid-utf8` |
 * | body is not JSON | 400 | `malformed-json` |
 * | not an object, unknown fields, missing/empty/whitespace-only `text`, wrong types, `textPair` on a single-text model (or missing on a pair model), unknown `model` (the problem lists the served ids), `split` not an integer in 1..the model's maximum split, `earlyExit` not a boolean | 422 | `invalid-request` (all problems listed in `errors`) |
 * | `text` or `textPair` longer than the configured limit (`EDGE_MAX_TEXT_CHARS`, UTF-16 code units) | 413 | `text-too-long` |
 * | batch: `inputs` not an array or empty, a single-input field beside it, an unknown `model` | 422 | `invalid-request` |
 * | batch: more than `EDGE_MAX_BATCH` inputs | 413 | `batch-too-large` |
 *
 * In a batch, a problem of one input (the 422 and 413 rows above the batch rows) does not fail the others: that
 * input's place in the answer holds its problem object (with an `index` member), and the batch is answered with 200.
 * Only the batch rows refuse the whole request.
 *
 * Texts within the limit but longer than the model's `maxLength` tokens are truncated by the tokenizer (head+tail),
 * as in training; the response's `tokens` field says how many were used.
 * @module
 */

import { ProblemError } from "../shared/problem.ts";
import type { ClassifyInput } from "./classifier.ts";

/** What the parser checks against. */
export interface ClassifyRequestLimits {
  readonly maxTextChars: number;
  /** Most inputs of a batch. @default 32 */
  readonly maxBatch?: number;
  /** Served models (a request names one in `model`); the first is the default. */
  readonly models: readonly {
    readonly id: string;
    readonly task: "single" | "pair";
    /** Deepest split layer a request may pin. @default {Infinity} */
    readonly maxSplit?: number;
  }[];
}

/** One field problem of a 422. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

/** A parsed body: one input, or a batch whose elements are each a valid input or that input's problem. */
export type ClassifyRequest =
  | { readonly kind: "single"; readonly input: ClassifyInput }
  | { readonly kind: "batch"; readonly items: readonly (ClassifyInput | ProblemError)[] };

const FIELDS = ["text", "textPair", "model", "split", "earlyExit"];
const ITEM_FIELDS = ["text", "textPair", "split", "earlyExit"];
const BATCH_FIELDS = ["inputs", "model"];
type Served = ClassifyRequestLimits["models"][number];

/**
 * Parses a request body.
 * @throws {ProblemError} as in the module docs.
 */
export function parseClassifyRequest(
  contentType: string | null | undefined,
  body: Uint8Array,
  limits: ClassifyRequestLimits,
): ClassifyRequest {
  checkContentType(contentType);
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(body);
  } catch {
    throw new ProblemError({
      status: 400,
      slug: "invalid-utf8",
      title: "Body is not valid UTF-8",
      detail: "The request body must be UTF-8 encoded JSON.",
    });
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new ProblemError({
      status: 400,
      slug: "malformed-json",
      title: "Malformed JSON",
      detail: `The request body is not valid JSON: ${(error as Error).message.slice(0, 200)}`,
    });
  }
  if (isObject(value) && "inputs" in value) return { kind: "batch", items: validateBatch(value, limits) };
  return { kind: "single", input: validateInput(value, limits, undefined) };
}

/** The 422 `invalid-request` problem listing `errors` (also raised for an input the tokenizer finds empty). */
export function invalidRequest(errors: readonly FieldProblem[]): ProblemError {
  return new ProblemError({
    status: 422,
    slug: "invalid-request",
    title: "Invalid request",
    detail: errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join("; "),
    extensions: { errors },
  });
}

function checkContentType(contentType: string | null | undefined): void {
  const [essence, ...params] = (contentType ?? "").split(";").map((s) => s.trim().toLowerCase());
  const charset = params.find((p) => p.startsWith("charset="))?.slice(8).replace(/"/g, "");
  if (essence !== "application/json" || (charset !== undefined && charset !== "utf-8" && charset !== "utf8")) {
    throw new ProblemError({
      status: 415,
      slug: "unsupported-media-type",
      title: "Unsupported media type",
      detail: `Send the body as application/json (UTF-8), not ${
        JSON.stringify((contentType ?? "nothing").slice(0, 80))
      }.`,
      headers: { accept: "application/json" },
    });
  }
}

function validateBatch(body: Record<string, unknown>, limits: ClassifyRequestLimits): (ClassifyInput | ProblemError)[] {
  const problems: FieldProblem[] = [];
  for (const k of Object.keys(body).filter((k) => !BATCH_FIELDS.includes(k)).slice(0, 10)) {
    problems.push({
      field: k.slice(0, 64),
      message: ITEM_FIELDS.includes(k)
        ? "Belongs in each element of inputs (beside inputs only model is allowed)"
        : `Unknown field; a batch allows ${BATCH_FIELDS.join(", ")}`,
    });
  }
  const model = body.model;
  let served: Served | undefined = limits.models[0];
  if (model !== undefined) {
    served = typeof model === "string" ? limits.models.find((m) => m.id === model) : undefined;
    if (served === undefined) problems.push(modelProblem(model, limits));
  }
  const inputs = body.inputs;
  if (!Array.isArray(inputs)) problems.push({ field: "inputs", message: `Must be an array, not ${kind(inputs)}` });
  else if (inputs.length === 0) problems.push({ field: "inputs", message: "Must not be empty" });
  if (problems.length > 0 || served === undefined) throw invalidRequest(problems);
  const list = inputs as unknown[];
  const max = limits.maxBatch ?? 32;
  if (list.length > max) {
    throw new ProblemError({
      status: 413,
      slug: "batch-too-large",
      title: "Batch too large",
      detail: `inputs has ${list.length} elements; a batch may have at most ${max}.`,
      extensions: { limit: max, size: list.length },
    });
  }
  return list.map((item, index) => {
    try {
      const input = validateInput(item, limits, served);
      return model === undefined ? input : { ...input, model: served.id };
    } catch (e) {
      if (!(e instanceof ProblemError)) throw e;
      return new ProblemError({
        status: e.status,
        slug: e.slug,
        title: e.title,
        ...(e.detail === undefined ? {} : { detail: `inputs[${index}]: ${e.detail}` }),
        extensions: { ...e.extensions, index },
      });
    }
  });
}

/** One input: the whole body of a single request (`batchModel` undefined) or an element of a batch for that model. */
function validateInput(value: unknown, limits: ClassifyRequestLimits, batchModel: Served | undefined): ClassifyInput {
  if (!isObject(value)) {
    const what = batchModel === undefined ? "The body" : "Each element of inputs";
    throw invalidRequest([{ field: "", message: `${what} must be a JSON object, not ${kind(value)}` }]);
  }
  const body = value;
  const fields = batchModel === undefined ? FIELDS : ITEM_FIELDS;
  const problems: FieldProblem[] = [];
  for (const k of Object.keys(body).filter((k) => !fields.includes(k)).slice(0, 10)) {
    problems.push({
      field: k.slice(0, 64),
      message: k === "model" ? "Name the model once, beside inputs" : `Unknown field; allowed: ${fields.join(", ")}`,
    });
  }
  const tooLong: string[] = [];
  const str = (field: string, required: boolean): string | undefined => {
    const v = body[field];
    if (v === undefined) {
      if (required) problems.push({ field, message: "Required" });
      return undefined;
    }
    if (typeof v !== "string") {
      problems.push({ field, message: `Must be a string, not ${kind(v)}` });
      return undefined;
    }
    if (v.trim() === "") {
      problems.push({ field, message: v === "" ? "Must not be empty" : "Must not be only whitespace" });
      return undefined;
    }
    if (v.length > limits.maxTextChars && field !== "model") tooLong.push(field);
    return v;
  };
  let served = batchModel;
  let model: string | undefined;
  if (batchModel === undefined) {
    model = str("model", false);
    served = model === undefined ? limits.models[0] : limits.models.find((m) => m.id === model);
    if (model !== undefined && served === undefined) problems.push(modelProblem(model, limits));
  }
  const text = str("text", true);
  const textPair = str("textPair", served?.task === "pair");
  if (textPair !== undefined && served?.task === "single") {
    problems.push({ field: "textPair", message: `Model ${served.id} classifies single texts; omit textPair` });
  }
  const split = body.split;
  const maxSplit = served?.maxSplit ?? Infinity;
  if (split !== undefined && !(Number.isInteger(split) && (split as number) >= 1 && (split as number) <= maxSplit)) {
    const range = Number.isFinite(maxSplit) ? `1..${maxSplit}` : "1 or more";
    problems.push({
      field: "split",
      message: `Must be an integer split layer in ${range}${served ? ` (model ${served.id})` : ""}, not ${
        typeof split === "number" ? split : kind(split)
      }`,
    });
  }
  const earlyExit = body.earlyExit;
  if (earlyExit !== undefined && typeof earlyExit !== "boolean") {
    problems.push({ field: "earlyExit", message: `Must be true or false, not ${kind(earlyExit)}` });
  }
  if (problems.length > 0) throw invalidRequest(problems);
  if (tooLong.length > 0) {
    throw new ProblemError({
      status: 413,
      slug: "text-too-long",
      title: "Text too long",
      detail: `${tooLong.join(" and ")} must have at most ${limits.maxTextChars} characters.`,
      extensions: { limit: limits.maxTextChars, fields: tooLong },
    });
  }
  return {
    text: text!,
    ...(textPair === undefined ? {} : { textPair }),
    ...(model === undefined ? {} : { model }),
    ...(split === undefined ? {} : { split: split as number }),
    ...(earlyExit === undefined ? {} : { earlyExit: earlyExit as boolean }),
  };
}

function modelProblem(model: unknown, limits: ClassifyRequestLimits): FieldProblem {
  if (typeof model !== "string") return { field: "model", message: `Must be a string, not ${kind(model)}` };
  return {
    field: "model",
    message: `Unknown model ${JSON.stringify(model.slice(0, 64))}; this edge serves ${
      limits.models.map((m) => m.id).join(", ")
    }`,
  };
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return `a ${typeof v}`;
}
