/**
 * Reads a request body with a hard size limit: a declared `Content-Length` over the limit is refused before reading,
 * and a streamed body is cut off as soon as it passes the limit, so an oversized body never sits in memory.
 * @module
 */

import { ProblemError } from "../shared/problem.ts";

/**
 * The body bytes of `req`, at most `maxBytes`.
 * @throws {ProblemError} 413 when the body is larger than `maxBytes`, 400 when `Content-Length` is malformed.
 */
export async function readBodyLimited(req: Request, maxBytes: number): Promise<Uint8Array> {
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
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel().catch(() => {});
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
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
