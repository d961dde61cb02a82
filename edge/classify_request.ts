/**
 * Strict parsing of the `POST /v1/classify` body into a {@linkcode ClassifyInput}. Every problem is a
 * {@linkcode ProblemError} (4xx, `application/problem+json`):
 *
 * | Case | Status | Problem type slug |
 * |---|---|---|
 * | Content-Type not `application/json` (charset other than utf-8 too) | 415 | `unsupported-media-type` |
 * | body is not valid UTF-8 | 400 | `invalid-utf8` |
 * | body is not JSON | 400 | `malformed-json` |
 * | not an object, unknown fields, missing/empty/whitespace-only `text`, wrong types, `textPair` on a single-text model (or missing on a pair model), unknown `model` (the problem lists the served ids) | 422 | `invalid-request` (all problems listed in `errors`) |
 * | `text` or `textPair` longer than the configured limit (`EDGE_MAX_TEXT_CHARS`, UTF-16 code units) | 413 | `text-too-long` |
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
  /** Served models (a request names one in `model`); the first is the default. */
  readonly models: readonly { readonly id: string; readonly task: "single" | "pair" }[];
}

/** One field problem of a 422. */
export interface FieldProblem {
  readonly field: string;
  readonly message: string;
}

const FIELDS = ["text", "textPair", "model"];

/**
 * Parses a request body.
 * @throws {ProblemError} as in the module docs.
 */
export function parseClassifyRequest(
  contentType: string | null | undefined,
  body: Uint8Array,
  limits: ClassifyRequestLimits,
): ClassifyInput {
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
  return validate(value, limits);
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

function validate(value: unknown, limits: ClassifyRequestLimits): ClassifyInput {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw invalid([{ field: "", message: `The body must be a JSON object, not ${kind(value)}` }]);
  }
  const body = value as Record<string, unknown>;
  const problems: FieldProblem[] = [];
  const unknown = Object.keys(body).filter((k) => !FIELDS.includes(k));
  for (const k of unknown.slice(0, 10)) {
    problems.push({ field: k.slice(0, 64), message: `Unknown field; allowed: ${FIELDS.join(", ")}` });
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
  const model = str("model", false);
  const served = model === undefined ? limits.models[0] : limits.models.find((m) => m.id === model);
  if (model !== undefined && served === undefined) {
    problems.push({
      field: "model",
      message: `Unknown model ${JSON.stringify(model.slice(0, 64))}; this edge serves ${
        limits.models.map((m) => m.id).join(", ")
      }`,
    });
  }
  const text = str("text", true);
  const textPair = str("textPair", served?.task === "pair");
  if (textPair !== undefined && served?.task === "single") {
    problems.push({ field: "textPair", message: `Model ${served.id} classifies single texts; omit textPair` });
  }
  if (problems.length > 0) throw invalid(problems);
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
  };
}

function invalid(errors: FieldProblem[]): ProblemError {
  return new ProblemError({
    status: 422,
    slug: "invalid-request",
    title: "Invalid request",
    detail: errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join("; "),
    extensions: { errors },
  });
}

function kind(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  return `a ${typeof v}`;
}
