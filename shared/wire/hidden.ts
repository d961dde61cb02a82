/**
 * Hidden states to and from their wire form: {@linkcode packHidden} turns float32 values into the `hidden` (and, for
 * int8, `scales`) bytes of a request; {@linkcode unpackHidden} turns a validated request's bytes back into float32.
 * @module
 */

import { bytesToFloat32LE, bytesToUint16LE, float32ToBytesLE, uint16ToBytesLE } from "./bytes.ts";
import { WireError } from "./errors.ts";
import { dequantizeInt8PerToken, fromFloat16, quantizeInt8PerToken, toFloat16 } from "./quant.ts";
import type { ModelRef, OffloadRequest, WireDtype } from "./schema.ts";
import { WIRE_VERSION } from "./schema.ts";

/** A hidden state in wire form. */
export interface PackedHidden {
  readonly hidden: Uint8Array;
  /** Present for int8 only. */
  readonly scales?: Uint8Array;
}

/**
 * Encodes a row-major `[T, D]` float32 hidden state as `dtype` bytes (float16 and int8 are lossy).
 * @throws {WireError} `size_mismatch` when the value count is not `T * D`, `non_finite` for a NaN or infinity.
 */
export function packHidden(values: Float32Array, dims: readonly [number, number], dtype: WireDtype): PackedHidden {
  const [tokens, width] = dims;
  if (values.length !== tokens * width) {
    throw new WireError(
      "size_mismatch",
      "hidden",
      `Cannot encode hidden state: dims [${tokens}, ${width}] need ${tokens * width} values but got ${values.length}`,
    );
  }
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i]!)) {
      throw new WireError("non_finite", "hidden", `Cannot encode hidden state: value ${i} is ${values[i]}`);
    }
  }
  switch (dtype) {
    case "float32":
      return { hidden: float32ToBytesLE(values) };
    case "float16":
      return { hidden: uint16ToBytesLE(toFloat16(values)) };
    case "int8": {
      const q = quantizeInt8PerToken(values, tokens, width);
      return {
        hidden: new Uint8Array(q.data.buffer, q.data.byteOffset, q.data.byteLength),
        scales: float32ToBytesLE(q.scales),
      };
    }
  }
}

/**
 * The float32 hidden state of a validated request (`T * D` values, row-major). Float32 payloads are viewed in place
 * when 4-aligned and copied when not; float16 and int8 are widened into a new array.
 */
export function unpackHidden(req: OffloadRequest): Float32Array {
  switch (req.dtype) {
    case "float32":
      return bytesToFloat32LE(req.hidden);
    case "float16":
      return fromFloat16(bytesToUint16LE(req.hidden));
    case "int8": {
      if (!req.scales) throw new WireError("missing_field", "scales", "dtype int8 needs scales");
      const data = new Int8Array(req.hidden.buffer, req.hidden.byteOffset, req.hidden.byteLength);
      return dequantizeInt8PerToken(data, bytesToFloat32LE(req.scales), req.dims[1]);
    }
  }
}

/** What {@linkcode createOffloadRequest} needs. */
export interface OffloadRequestInit {
  readonly model: ModelRef;
  readonly splitLayer: number;
  /** `[T, D]` of `hidden`. */
  readonly dims: readonly [number, number];
  /** Row-major float32 hidden state of the real tokens after layer `splitLayer`. */
  readonly hidden: Float32Array;
  /** @default "float32" */
  readonly dtype?: WireDtype;
  /** `T` entries of 0/1. @default all ones (every token real) */
  readonly attentionMask?: Uint8Array;
  /** `T` segment ids. @default omitted */
  readonly tokenTypeIds?: Uint8Array;
}

/**
 * Builds an offload request from a float32 hidden state (packing it as `dtype`). Validation happens on encode.
 * @throws {WireError} as {@linkcode packHidden}.
 */
export function createOffloadRequest(init: OffloadRequestInit): OffloadRequest {
  const dtype = init.dtype ?? "float32";
  const packed = packHidden(init.hidden, init.dims, dtype);
  return {
    v: WIRE_VERSION,
    model: { id: init.model.id, version: init.model.version },
    splitLayer: init.splitLayer,
    dtype,
    dims: [init.dims[0], init.dims[1]],
    hidden: packed.hidden,
    ...(packed.scales ? { scales: packed.scales } : {}),
    attentionMask: init.attentionMask ?? new Uint8Array(init.dims[0]).fill(1),
    ...(init.tokenTypeIds ? { tokenTypeIds: init.tokenTypeIds } : {}),
  };
}
