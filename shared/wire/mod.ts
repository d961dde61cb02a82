/**
 * The offload wire format between edge and gateway: a versioned msgpack schema ({@linkcode OffloadRequest},
 * {@linkcode OffloadResponse}), a strict codec whose failures are {@linkcode WireError}s with a `code`, and
 * float16 / int8 hidden-state encodings.
 *
 * ```ts
 * const bytes = encodeOffloadRequest(createOffloadRequest({ model, splitLayer: 4, dims: [T, D], hidden }));
 * const req = decodeOffloadRequest(bytes, { model, layers: 12, hiddenSize: D });
 * const values = unpackHidden(req); // Float32Array of T * D
 * ```
 * @module
 */

export * from "./errors.ts";
export * from "./schema.ts";
export * from "./codec.ts";
export * from "./hidden.ts";
export * from "./quant.ts";
export { bytesToFloat32LE, float32ToBytesLE } from "./bytes.ts";
