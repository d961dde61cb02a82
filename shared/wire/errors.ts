/**
 * The one error type of the wire codec: every decode or encode failure is a {@linkcode WireError} whose `code` says
 * what kind of problem it is and whose message names the field and the values involved.
 * @module
 */

/** What went wrong with a wire message. Services map codes to HTTP statuses (malformed: 400, the rest: 4xx). */
export type WireErrorCode =
  /** The bytes are not one complete msgpack value (not msgpack, truncated, trailing bytes, over a size limit). */
  | "malformed_msgpack"
  /** The `v` field is missing or names a version this codec does not speak. */
  | "unsupported_version"
  /** A required field is absent. */
  | "missing_field"
  /** A field this version does not define is present. */
  | "unknown_field"
  /** A field has the wrong msgpack type (e.g. a string where a bin is expected). */
  | "wrong_type"
  /** `dtype` is not one of the wire dtypes. */
  | "unknown_dtype"
  /** `dims` is not `[T, D]` with positive integers within limits. */
  | "invalid_dims"
  /** A byte length does not match what `dims` and `dtype` require. */
  | "size_mismatch"
  /** The attention mask (or token type ids) length is not T. */
  | "mask_length_mismatch"
  /** A NaN or infinity in the hidden state, scales, logits or timing. */
  | "non_finite"
  /** `splitLayer` (or `exitLayer`) is outside the served model's range. */
  | "layer_out_of_range"
  /** The message is for another model id or version than the one served. */
  | "model_mismatch"
  /** Any other out-of-range or ill-formed value (empty id, mask values other than 0/1, ...). */
  | "invalid_value";

/** A wire message failed validation or could not be (de)serialised. */
export class WireError extends Error {
  /** Machine-readable kind of failure. */
  readonly code: WireErrorCode;
  /** Dotted path of the offending field (`"model.version"`, `"hidden"`), or `""` for the whole message. */
  readonly field: string;

  constructor(code: WireErrorCode, field: string, message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "WireError";
    this.code = code;
    this.field = field;
  }
}
