/**
 * Generic checks of decoded msgpack values for the schema module: each returns the value typed or throws a
 * {@linkcode WireError} naming the field and describing (never dumping) what was found.
 * @module
 */

import { WireError } from "./errors.ts";

/** `value` as a plain map (not an array, bin, extension value or class instance). */
export function expectRecord(value: unknown, field: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value) || ArrayBuffer.isView(value)) {
    throw wrongType(field, "a map", value);
  }
  const proto = Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) throw wrongType(field, "a map", value);
  return value as Record<string, unknown>;
}

/** Throws `unsupported_version` unless `msg.v === version`. */
export function checkVersion(msg: Record<string, unknown>, version: number): void {
  if (!("v" in msg)) {
    throw new WireError("unsupported_version", "v", `Missing wire version "v" (expected ${version})`);
  }
  if (msg.v !== version) {
    throw new WireError(
      "unsupported_version",
      "v",
      `Unsupported wire version ${describe(msg.v)}; this side speaks version ${version}`,
    );
  }
}

/** Throws `unknown_field` for any key outside `allowed`, then `missing_field` for an absent required key. */
export function checkFields(
  msg: Record<string, unknown>,
  allowed: readonly string[],
  required: readonly string[],
  prefix: string,
): void {
  const unknown = Object.keys(msg).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    const names = unknown.slice(0, 5).map((k) => `"${clip(k)}"`).join(", ") + (unknown.length > 5 ? ", ..." : "");
    throw new WireError(
      "unknown_field",
      `${prefix}${clip(unknown[0]!)}`,
      `Unknown field${unknown.length > 1 ? "s" : ""} ${names}${prefix ? ` in ${prefix.slice(0, -1)}` : ""}`,
    );
  }
  for (const k of required) {
    if (msg[k] === undefined) throw new WireError("missing_field", `${prefix}${k}`, `Missing field "${prefix}${k}"`);
  }
}

/** `value` as a safe integer. */
export function expectInt(value: unknown, field: string): number {
  if (typeof value !== "number") throw wrongType(field, "an integer", value);
  if (!Number.isSafeInteger(value)) {
    throw new WireError("invalid_value", field, `${field} must be an integer, got ${value}`);
  }
  return value;
}

/** `value` as msgpack bin (a Uint8Array). */
export function expectBin(value: unknown, field: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw wrongType(field, "bin (raw bytes)", value);
  return value;
}

/** A `wrong_type` error naming the field, the expected type and a short description of what came. */
export function wrongType(field: string, expected: string, value: unknown): WireError {
  return new WireError("wrong_type", field, `${field || "message"} must be ${expected}, got ${describe(value)}`);
}

/** A short description of a decoded value for messages (never its whole content). */
export function describe(value: unknown): string {
  if (value === null) return "nil";
  if (value === undefined) return "nothing";
  if (value instanceof Uint8Array) return `bin (${value.byteLength} bytes)`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === "string") return `string "${clip(value)}"`;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") {
    return `${typeof value} ${value}`;
  }
  if (typeof value !== "object") return typeof value;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null ? "a map" : "an extension value";
}

/** At most 40 characters of a string from the message. */
export function clip(s: string): string {
  return s.length > 40 ? `${s.slice(0, 40)}...` : s;
}
