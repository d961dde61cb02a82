/**
 * Reads a request body with a size limit and a time limit, for both services (web-standard `Request` streams only):
 * - a declared `Content-Length` over the limit is refused before reading, and a streamed body is cut off as soon as
 *   it passes the limit, so an oversized body never sits in memory (413 `body-too-large`);
 * - a body that has not fully arrived `timeoutMs` after reading began is abandoned (408 `body-timeout`), so a client
 *   that sends its body slowly, or stops half-way and keeps the connection open, holds a request for a bounded time;
 * - a client that disconnects mid-body (Deno: `BadResource`, "Cannot read request body") is a 400 problem whose slug
 *   is {@linkcode CLIENT_ABORTED}: the error handlers log it as one line, not as an internal error.
 * @module
 */

import { ProblemError } from "./problem.ts";

/** Problem slug of a body the client stopped sending (it disconnected). */
export const CLIENT_ABORTED = "client-aborted";

/** Options of {@linkcode readBodyLimited}. */
export interface ReadBodyOptions {
  /** Longest time for the whole body, from the first read; `undefined` = no limit. */
  readonly timeoutMs?: number | undefined;
}

/**
 * The body bytes of `req`, at most `maxBytes`.
 * @throws {ProblemError} 413 when the body is larger than `maxBytes`, 400 when `Content-Length` is malformed, 408
 * when it did not arrive within `timeoutMs`, 400 {@linkcode CLIENT_ABORTED} when the client went away mid-body.
 */
export async function readBodyLimited(
  req: Request,
  maxBytes: number,
  options: ReadBodyOptions = {},
): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null) {
    if (!/^\d+$/.test(declared.trim())) {
      throw new ProblemError({
        status: 400,
        slug: "bad-request",
        title: "Bad request",
        detail: "Malformed Content-Length",
      });
    }
    if (Number(declared) > maxBytes) throw tooLarge(maxBytes, Number(declared));
  }
  if (req.body === null) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = options.timeoutMs === undefined ? undefined : new Promise<"timeout">((resolve) => {
    timer = setTimeout(() => resolve("timeout"), options.timeoutMs);
  });
  try {
    for (;;) {
      const read = reader.read();
      const next = timedOut === undefined ? await read : await Promise.race([read, timedOut]);
      if (next === "timeout") {
        read.catch(() => {}); // settles when the stream is cancelled
        await reader.cancel().catch(() => {});
        throw new ProblemError({
          status: 408,
          slug: "body-timeout",
          title: "Request body timeout",
          detail: `The request body did not arrive within ${options.timeoutMs} ms`,
          headers: { connection: "close" },
        });
      }
      const { done, value } = next;
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel().catch(() => {});
        throw tooLarge(maxBytes);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof ProblemError) throw error;
    throw new ProblemError({
      status: 400,
      slug: CLIENT_ABORTED,
      title: "Request body incomplete",
      detail: "The connection closed before the whole request body arrived",
      cause: error,
    });
  } finally {
    clearTimeout(timer);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(size);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** One log line for a client that went away mid-body: method, path and the runtime's reason (no stack). */
export function clientAbortLine(service: string, req: Request, problem: ProblemError): string {
  const cause = problem.cause instanceof Error ? `${problem.cause.name}: ${problem.cause.message}` : "";
  return `${service}: client aborted ${req.method} ${new URL(req.url).pathname.slice(0, 100)} mid-body${
    cause ? ` (${cause})` : ""
  }`;
}

function tooLarge(maxBytes: number, declared?: number): ProblemError {
  return new ProblemError({
    status: 413,
    slug: "body-too-large",
    title: "Request body too large",
    detail: declared === undefined
      ? `The request body exceeds the limit of ${maxBytes} bytes`
      : `The request body is ${declared} bytes; the limit is ${maxBytes} bytes`,
    extensions: { maxBytes },
  });
}
