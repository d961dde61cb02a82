/**
 * RFC 9457 problem details. Services throw a {@linkcode ProblemError}; their one error handler turns it into an
 * `application/problem+json` response with {@linkcode problemJson}. Anything else thrown becomes a generic 500 whose
 * body says nothing about the cause (no message, no stack, no secret); the handler logs the cause instead.
 * @module
 */

/** Media type of problem responses. */
export const PROBLEM_CONTENT_TYPE = "application/problem+json";

/** Prefix of every problem `type` URI; a problem's type is this plus its slug. */
export const PROBLEM_TYPE_BASE = "https://splitee.dev/problems/";

/** Members a problem body always has, plus extension members. */
export interface ProblemDetails {
  readonly type: string;
  readonly title: string;
  readonly status: number;
  readonly detail?: string;
  readonly instance?: string;
  readonly [extension: string]: unknown;
}

/** What {@linkcode ProblemError} is built from. */
export interface ProblemInit {
  /** HTTP status, 400..599. */
  readonly status: number;
  /** Stable kebab-case slug; the `type` URI is {@linkcode PROBLEM_TYPE_BASE} + slug. */
  readonly slug: string;
  /** Short summary that is the same for every occurrence of this type. */
  readonly title: string;
  /** What went wrong in this occurrence, for a human. @default undefined */
  readonly detail?: string;
  /** Extension members (JSON-serialisable; never secrets). Standard member names are ignored. @default {} */
  readonly extensions?: Readonly<Record<string, unknown>>;
  /** Response headers to send along (e.g. `WWW-Authenticate`, `Retry-After`). @default {} */
  readonly headers?: Readonly<Record<string, string>>;
  /** Underlying error, for logs only; never serialised. @default undefined */
  readonly cause?: unknown;
}

const STANDARD_MEMBERS = new Set(["type", "title", "status", "detail", "instance"]);

/** An error that is an RFC 9457 problem: a status, a stable type, a title and a detail. */
export class ProblemError extends Error {
  readonly status: number;
  readonly slug: string;
  readonly type: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly extensions: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;

  constructor(init: ProblemInit) {
    super(init.detail ?? init.title, init.cause === undefined ? undefined : { cause: init.cause });
    if (!Number.isInteger(init.status) || init.status < 400 || init.status > 599) {
      throw new RangeError(`A problem status must be an integer in 400..599, got ${init.status}`);
    }
    if (!/^[a-z0-9]+(-[a-z0-9]+)*$/.test(init.slug)) {
      throw new RangeError(`Problem slug must be kebab-case: ${init.slug}`);
    }
    this.name = "ProblemError";
    this.status = init.status;
    this.slug = init.slug;
    this.type = PROBLEM_TYPE_BASE + init.slug;
    this.title = init.title;
    this.detail = init.detail;
    this.extensions = init.extensions ?? {};
    this.headers = init.headers ?? {};
  }
}

/** The problem+json body of an error (extension members first, standard members win any clash). */
export function problemJson(err: ProblemError, instance?: string): ProblemDetails {
  const body: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(err.extensions)) if (!STANDARD_MEMBERS.has(k)) body[k] = v;
  body.type = err.type;
  body.title = err.title;
  body.status = err.status;
  if (err.detail !== undefined) body.detail = err.detail;
  if (instance !== undefined) body.instance = instance;
  return body as unknown as ProblemDetails;
}

/** The generic problem for an unexpected failure: it carries the cause for logging but reveals nothing. */
export function internalProblem(cause?: unknown): ProblemError {
  return new ProblemError({
    status: 500,
    slug: "internal",
    title: "Internal error",
    detail: "The server failed to handle this request; the failure has been logged.",
    cause,
  });
}

/** `err` itself when it is a {@linkcode ProblemError}, else {@linkcode internalProblem} wrapping it. */
export function toProblem(err: unknown): ProblemError {
  return err instanceof ProblemError ? err : internalProblem(err);
}
