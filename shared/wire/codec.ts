/**
 * msgpack encoding and strict decoding of offload messages. Decoding bounds every msgpack length before allocating,
 * rejects trailing bytes, and validates the result with the schema module, so a decoded message is safe to use.
 * @module
 */

import { decode, encode } from "@msgpack/msgpack";
import { WireError } from "./errors.ts";
import type { OffloadRequest, OffloadResponse, RequestLimitsFor, ResponseLimits } from "./schema.ts";
import { validateOffloadRequest, validateOffloadResponse } from "./schema.ts";

/** The media type of offload messages (`application/x-msgpack` is accepted as an alias). */
export const MSGPACK_CONTENT_TYPE = "application/msgpack";

/** Whether a Content-Type header value names msgpack (`application/msgpack` or `application/x-msgpack`). */
export function isMsgpackContentType(value: string | null | undefined): boolean {
  if (!value) return false;
  const essence = value.split(";", 1)[0]!.trim().toLowerCase();
  return essence === "application/msgpack" || essence === "application/x-msgpack";
}

/** Encodes a request after validating it (so an invalid message never leaves this side). @throws {WireError} */
export function encodeOffloadRequest(req: OffloadRequest, limits?: RequestLimitsFor): Uint8Array<ArrayBuffer> {
  return encodeMsgpack(validateOffloadRequest(req, limits));
}

/**
 * Decodes and validates a request; `limits` may be chosen from the message's model reference (see
 * {@linkcode RequestLimitsFor}). `bin` fields are views into `bytes`. @throws {WireError}
 */
export function decodeOffloadRequest(bytes: Uint8Array, limits?: RequestLimitsFor): OffloadRequest {
  return validateOffloadRequest(decodeMsgpack(bytes, bytes.byteLength, 16), limits);
}

/** Encodes a response after validating it. @throws {WireError} */
export function encodeOffloadResponse(res: OffloadResponse, limits?: ResponseLimits): Uint8Array<ArrayBuffer> {
  return encodeMsgpack(validateOffloadResponse(res, limits));
}

/** Decodes and validates a response. @throws {WireError} */
export function decodeOffloadResponse(bytes: Uint8Array, limits?: ResponseLimits): OffloadResponse {
  return validateOffloadResponse(decodeMsgpack(bytes, 1024, 65536), limits);
}

function encodeMsgpack(value: unknown): Uint8Array<ArrayBuffer> {
  // The encoder writes into its own ArrayBuffer (never a SharedArrayBuffer).
  return encode(value, { ignoreUndefined: true }) as Uint8Array<ArrayBuffer>;
}

function decodeMsgpack(bytes: Uint8Array, maxBin: number, maxArray: number): unknown {
  if (bytes.byteLength === 0) throw new WireError("malformed_msgpack", "", "Empty body; expected a msgpack map");
  try {
    return decode(bytes, {
      maxStrLength: 1024,
      maxBinLength: maxBin,
      maxArrayLength: maxArray,
      maxMapLength: 32,
      maxExtLength: 1024,
    });
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new WireError("malformed_msgpack", "", `Body is not one complete msgpack value: ${why}`, { cause: err });
  }
}
