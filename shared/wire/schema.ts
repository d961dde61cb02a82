/**
 * The offload wire schema, version 1: the one place that says what an offload request and response contain and
 * checks that a value conforms. Hidden states travel as raw little-endian bytes for the real tokens only, with their
 * `dtype` and `dims` (`[T, D]`); never as `number[]`, which msgpack would write as 9-byte float64s.
 * @module
 */

import { checkFields, checkVersion, clip, expectBin, expectInt, expectRecord, wrongType } from "./check.ts";
import { WireError } from "./errors.ts";

/** The wire version this module speaks. */
export const WIRE_VERSION = 1;

/** Hidden-state encodings: raw float32, binary16, or int8 with one float32 absmax scale per token. */
export const WIRE_DTYPES = ["float32", "float16", "int8"] as const;

/** One of {@linkcode WIRE_DTYPES}. */
export type WireDtype = typeof WIRE_DTYPES[number];

/** Bytes per hidden-state element for each dtype (int8 scales are extra: 4 bytes per token). */
export const DTYPE_BYTES: Readonly<Record<WireDtype, number>> = { float32: 4, float16: 2, int8: 1 };

/** Which model (and exact export) a message is for: the manifest's `id` and `version` (content hash). */
export interface ModelRef {
  readonly id: string;
  readonly version: string;
}

/** Edge to gateway: the hidden state after layer `splitLayer`; the gateway runs layers `splitLayer + 1 .. L`. */
export interface OffloadRequest {
  readonly v: typeof WIRE_VERSION;
  readonly model: ModelRef;
  /** Last layer the edge ran, 1..L-1. */
  readonly splitLayer: number;
  readonly dtype: WireDtype;
  /** `[T, D]`: real tokens and hidden size. */
  readonly dims: readonly [number, number];
  /** `T * D` elements of `dtype`, little-endian, row-major. */
  readonly hidden: Uint8Array;
  /** int8 only: `T` float32 scales, little-endian. */
  readonly scales?: Uint8Array;
  /** `T` bytes, 1 for a real token and 0 for padding. */
  readonly attentionMask: Uint8Array;
  /** Optional `T` segment ids (one byte each), for diagnostics; the layers do not use them. */
  readonly tokenTypeIds?: Uint8Array;
}

/** Gateway to edge: the final exit's logits and the gateway's own compute time. */
export interface OffloadResponse {
  readonly v: typeof WIRE_VERSION;
  readonly model: ModelRef;
  /** The layer whose exit produced `logits` (L). */
  readonly exitLayer: number;
  readonly logits: readonly number[];
  /** Gateway-side time from the request bytes in hand to the logits ready, in milliseconds. */
  readonly computeMs: number;
}

/** Limits and expectations a decoder checks beyond the schema. */
export interface RequestLimits {
  /** When given, the message must be for this model (else `model_mismatch`). @default undefined (any model) */
  readonly model?: ModelRef;
  /** Layers L of the served model; `splitLayer` must be in 1..L-1. @default undefined (only `splitLayer >= 1`) */
  readonly layers?: number;
  /** Hidden size D of the served model. @default undefined (any D up to `maxHidden`) */
  readonly hiddenSize?: number;
  /** Most tokens T accepted. @default 8192 */
  readonly maxTokens?: number;
  /** Largest D accepted when `hiddenSize` is not given. @default 65536 */
  readonly maxHidden?: number;
}

/**
 * Request limits, or a function choosing them from the message's (already checked) model reference: a service that
 * serves several models picks the model's limits before the dims are checked; the function may throw (e.g. a
 * `model_mismatch` {@linkcode WireError} for an id it does not serve).
 */
export type RequestLimitsFor = RequestLimits | ((model: ModelRef) => RequestLimits);

/** Expectations a response decoder checks beyond the schema. */
export interface ResponseLimits {
  /** When given, the response must be for this model. @default undefined */
  readonly model?: ModelRef;
  /** When given, `exitLayer` must equal it. @default undefined */
  readonly exitLayer?: number;
  /** When given, `logits` must have this many classes. @default undefined */
  readonly classes?: number;
}

const REQUEST_FIELDS = [
  "v",
  "model",
  "splitLayer",
  "dtype",
  "dims",
  "hidden",
  "scales",
  "attentionMask",
  "tokenTypeIds",
] as const;
const REQUEST_REQUIRED = ["model", "splitLayer", "dtype", "dims", "hidden", "attentionMask"] as const;
const RESPONSE_FIELDS = ["v", "model", "exitLayer", "logits", "computeMs"] as const;
const MODEL_FIELDS = ["id", "version"] as const;
const MAX_ID_LENGTH = 128;
const MAX_CLASSES = 65536;

/**
 * Checks that `value` is a well-formed version-1 offload request (and meets `limits`); returns it typed.
 * Checks run cheapest first: version, fields, types, sizes, model, layer range, then every value finite. When
 * `limits` is a function it is called with the checked `model` before the dims are checked.
 * @throws {WireError} naming the first problem found.
 */
export function validateOffloadRequest(value: unknown, limitsFor: RequestLimitsFor = {}): OffloadRequest {
  const msg = expectRecord(value, "");
  checkVersion(msg, WIRE_VERSION);
  checkFields(msg, REQUEST_FIELDS, REQUEST_REQUIRED, "");
  const model = checkModel(msg.model);
  const limits = typeof limitsFor === "function" ? limitsFor(model) : limitsFor;
  const splitLayer = expectInt(msg.splitLayer, "splitLayer");
  const dtype = msg.dtype;
  if (typeof dtype !== "string") throw wrongType("dtype", "a string", dtype);
  if (!(WIRE_DTYPES as readonly string[]).includes(dtype)) {
    throw new WireError(
      "unknown_dtype",
      "dtype",
      `Unknown dtype "${clip(dtype)}"; expected one of ${WIRE_DTYPES.join(", ")}`,
    );
  }
  const wireDtype = dtype as WireDtype;
  const [tokens, width] = checkDims(msg.dims, limits);
  const hidden = expectBin(msg.hidden, "hidden");
  const expectedBytes = tokens * width * DTYPE_BYTES[wireDtype];
  if (hidden.byteLength !== expectedBytes) {
    throw new WireError(
      "size_mismatch",
      "hidden",
      `Cannot decode hidden state: dims [${tokens}, ${width}] of ${wireDtype} need ${expectedBytes} bytes ` +
        `(${tokens * width} values) but hidden has ${hidden.byteLength} bytes`,
    );
  }
  let scales: Uint8Array | undefined;
  if (wireDtype === "int8") {
    if (msg.scales === undefined) throw new WireError("missing_field", "scales", "dtype int8 needs scales");
    scales = expectBin(msg.scales, "scales");
    if (scales.byteLength !== tokens * 4) {
      throw new WireError(
        "size_mismatch",
        "scales",
        `scales need ${tokens * 4} bytes (one float32 per token) but have ${scales.byteLength}`,
      );
    }
  } else if (msg.scales !== undefined) {
    throw new WireError("unknown_field", "scales", `scales are only allowed with dtype int8, not ${wireDtype}`);
  }
  const attentionMask = expectBin(msg.attentionMask, "attentionMask");
  checkMask(attentionMask, tokens);
  let tokenTypeIds: Uint8Array | undefined;
  if (msg.tokenTypeIds !== undefined) {
    tokenTypeIds = expectBin(msg.tokenTypeIds, "tokenTypeIds");
    if (tokenTypeIds.byteLength !== tokens) {
      throw new WireError(
        "mask_length_mismatch",
        "tokenTypeIds",
        `tokenTypeIds have ${tokenTypeIds.byteLength} entries but dims say ${tokens} tokens`,
      );
    }
  }
  if (limits.model) checkSameModel(model, limits.model);
  const maxSplit = limits.layers !== undefined ? limits.layers - 1 : Number.MAX_SAFE_INTEGER;
  if (splitLayer < 1 || splitLayer > maxSplit) {
    const range = limits.layers !== undefined ? `1..${maxSplit} (the model has ${limits.layers} layers)` : ">= 1";
    throw new WireError("layer_out_of_range", "splitLayer", `splitLayer ${splitLayer} is out of range ${range}`);
  }
  checkHiddenFinite(hidden, wireDtype, width);
  if (scales) checkScales(scales);
  return {
    v: WIRE_VERSION,
    model,
    splitLayer,
    dtype: wireDtype,
    dims: [tokens, width],
    hidden,
    ...(scales ? { scales } : {}),
    attentionMask,
    ...(tokenTypeIds ? { tokenTypeIds } : {}),
  };
}

/**
 * Checks that `value` is a well-formed version-1 offload response (and meets `limits`); returns it typed.
 * @throws {WireError} naming the first problem found.
 */
export function validateOffloadResponse(value: unknown, limits: ResponseLimits = {}): OffloadResponse {
  const msg = expectRecord(value, "");
  checkVersion(msg, WIRE_VERSION);
  checkFields(msg, RESPONSE_FIELDS, ["model", "exitLayer", "logits", "computeMs"], "");
  const model = checkModel(msg.model);
  const exitLayer = expectInt(msg.exitLayer, "exitLayer");
  if (exitLayer < 1) throw new WireError("layer_out_of_range", "exitLayer", `exitLayer ${exitLayer} must be >= 1`);
  if (!Array.isArray(msg.logits)) throw wrongType("logits", "an array of numbers", msg.logits);
  const logits = msg.logits as unknown[];
  if (logits.length < 1 || logits.length > MAX_CLASSES) {
    throw new WireError("invalid_value", "logits", `logits must have 1..${MAX_CLASSES} entries, got ${logits.length}`);
  }
  logits.forEach((x, i) => {
    if (typeof x !== "number") throw wrongType(`logits[${i}]`, "a number", x);
    if (!Number.isFinite(x)) throw new WireError("non_finite", `logits[${i}]`, `logits[${i}] is ${x}`);
  });
  const computeMs = msg.computeMs;
  if (typeof computeMs !== "number") throw wrongType("computeMs", "a number", computeMs);
  if (!Number.isFinite(computeMs) || computeMs < 0) {
    throw new WireError("non_finite", "computeMs", `computeMs must be a finite number >= 0, got ${computeMs}`);
  }
  if (limits.model) checkSameModel(model, limits.model);
  if (limits.exitLayer !== undefined && exitLayer !== limits.exitLayer) {
    throw new WireError("layer_out_of_range", "exitLayer", `exitLayer is ${exitLayer}, expected ${limits.exitLayer}`);
  }
  if (limits.classes !== undefined && logits.length !== limits.classes) {
    throw new WireError("invalid_value", "logits", `logits have ${logits.length} classes, expected ${limits.classes}`);
  }
  return { v: WIRE_VERSION, model, exitLayer, logits: logits as number[], computeMs };
}

function checkModel(value: unknown): ModelRef {
  const model = expectRecord(value, "model");
  checkFields(model, MODEL_FIELDS, MODEL_FIELDS, "model.");
  for (const k of MODEL_FIELDS) {
    const s = model[k];
    if (typeof s !== "string") throw wrongType(`model.${k}`, "a string", s);
    if (s.length === 0 || s.length > MAX_ID_LENGTH) {
      throw new WireError("invalid_value", `model.${k}`, `model.${k} must have 1..${MAX_ID_LENGTH} characters`);
    }
  }
  return { id: model.id as string, version: model.version as string };
}

function checkSameModel(got: ModelRef, want: ModelRef): void {
  if (got.id !== want.id || got.version !== want.version) {
    throw new WireError(
      "model_mismatch",
      "model",
      `Message is for model ${clip(got.id)}@${clip(got.version)} but this side serves ${want.id}@${want.version}`,
    );
  }
}

function checkDims(value: unknown, limits: RequestLimits): [number, number] {
  if (!Array.isArray(value)) throw wrongType("dims", "an array [T, D]", value);
  if (value.length !== 2) {
    throw new WireError("invalid_dims", "dims", `dims must be [T, D], got ${value.length} entries`);
  }
  const tokens = expectInt(value[0], "dims[0]");
  const width = expectInt(value[1], "dims[1]");
  const maxTokens = limits.maxTokens ?? 8192;
  if (tokens < 1 || tokens > maxTokens) {
    throw new WireError("invalid_dims", "dims[0]", `Token count ${tokens} is out of range 1..${maxTokens}`);
  }
  if (limits.hiddenSize !== undefined) {
    if (width !== limits.hiddenSize) {
      throw new WireError(
        "invalid_dims",
        "dims[1]",
        `Hidden size ${width} does not match the model's ${limits.hiddenSize}`,
      );
    }
  } else if (width < 1 || width > (limits.maxHidden ?? 65536)) {
    throw new WireError(
      "invalid_dims",
      "dims[1]",
      `Hidden size ${width} is out of range 1..${limits.maxHidden ?? 65536}`,
    );
  }
  return [tokens, width];
}

function checkMask(mask: Uint8Array, tokens: number): void {
  if (mask.byteLength !== tokens) {
    throw new WireError(
      "mask_length_mismatch",
      "attentionMask",
      `attentionMask has ${mask.byteLength} entries but dims say ${tokens} tokens`,
    );
  }
  let real = 0;
  for (let i = 0; i < mask.length; i++) {
    const m = mask[i]!;
    if (m > 1) {
      throw new WireError("invalid_value", "attentionMask", `attentionMask[${i}] is ${m}; entries must be 0 or 1`);
    }
    real += m;
  }
  if (real === 0) throw new WireError("invalid_value", "attentionMask", "attentionMask has no real token (all zeros)");
}

function checkHiddenFinite(hidden: Uint8Array, dtype: WireDtype, width: number): void {
  if (dtype === "int8") return;
  const view = new DataView(hidden.buffer, hidden.byteOffset, hidden.byteLength);
  if (dtype === "float32") {
    for (let i = 0; i < hidden.byteLength; i += 4) {
      // Exponent bits all ones <=> NaN or ±Infinity.
      if ((view.getUint32(i, true) & 0x7f800000) === 0x7f800000) {
        throw nonFinite(i / 4, view.getFloat32(i, true), width);
      }
    }
    return;
  }
  for (let i = 0; i < hidden.byteLength; i += 2) {
    const bits = view.getUint16(i, true);
    if ((bits & 0x7c00) === 0x7c00) {
      throw nonFinite(i / 2, bits & 0x3ff ? NaN : bits & 0x8000 ? -Infinity : Infinity, width);
    }
  }
}

function nonFinite(index: number, value: number, width: number): WireError {
  const token = Math.floor(index / width);
  return new WireError(
    "non_finite",
    "hidden",
    `Hidden state value ${index} (token ${token}, dim ${index - token * width}) is ${value}; all values must be finite`,
  );
}

function checkScales(scales: Uint8Array): void {
  const view = new DataView(scales.buffer, scales.byteOffset, scales.byteLength);
  for (let i = 0; i < scales.byteLength; i += 4) {
    const s = view.getFloat32(i, true);
    if (!Number.isFinite(s) || s < 0) {
      throw new WireError("non_finite", "scales", `scales[${i / 4}] is ${s}; scales must be finite and >= 0`);
    }
  }
}
