/**
 * HMAC-SHA256 request signing between the edge and the gateway, with a replay window. Runtime-free: WebCrypto
 * (`crypto.subtle`) only.
 *
 * The signer sends two headers:
 * - `X-SplitEE-Timestamp: <unix seconds>`
 * - `X-SplitEE-Signature: v1=<hex HMAC-SHA256(secret, canonical string)>`
 *
 * The canonical string ({@linkcode canonicalString}) is, joined by `\n`: `v1`, the upper-case method, the path as the
 * gateway sees it (pathname plus query; a proxy that rewrites the path breaks signatures), the timestamp, and the hex
 * SHA-256 of the body bytes.
 *
 * {@linkcode verifySignature} checks the signature first (constant-time), then that the timestamp lies within
 * `windowSeconds` of the verifier's clock (either way), then that the signature was not already accepted within the
 * window ({@linkcode ReplayCache}). The replay cache is in memory and per process: gateway replicas behind a load
 * balancer do not share it, so a request replayed to another replica inside the window is accepted there.
 * @module
 */

/** Header carrying the signing time in unix seconds. */
export const TIMESTAMP_HEADER = "x-splitee-timestamp";
/** Header carrying `v1=<hex>`. */
export const SIGNATURE_HEADER = "x-splitee-signature";
/** Version tag of the canonical string and the signature. */
export const SIGNATURE_VERSION = "v1";
/** Default accepted clock difference, in seconds, either way. */
export const DEFAULT_WINDOW_SECONDS = 30;

const encoder = new TextEncoder();

/** What is signed. */
export interface SignedParts {
  readonly method: string;
  /** Pathname plus query, e.g. `/v1/complete`. */
  readonly path: string;
  /** Unix seconds. */
  readonly timestamp: number;
  readonly body: Uint8Array;
}

/** Imports a shared secret as an HMAC-SHA256 key (sign and verify). */
export function importHmacKey(secret: string): Promise<CryptoKey> {
  return crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
    "verify",
  ]);
}

/** The string that is signed (see the module docs). */
export async function canonicalString(parts: SignedParts): Promise<string> {
  const bodyHash = hex(new Uint8Array(await crypto.subtle.digest("SHA-256", parts.body as Uint8Array<ArrayBuffer>)));
  return [SIGNATURE_VERSION, parts.method.toUpperCase(), parts.path, String(parts.timestamp), bodyHash].join("\n");
}

/** The raw HMAC-SHA256 of the canonical string. */
async function mac(key: CryptoKey, parts: SignedParts): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.sign("HMAC", key, encoder.encode(await canonicalString(parts))));
}

/** The two signature headers for a request (header names in lower case). */
export async function signRequest(key: CryptoKey, parts: SignedParts): Promise<Record<string, string>> {
  return {
    [TIMESTAMP_HEADER]: String(parts.timestamp),
    [SIGNATURE_HEADER]: `${SIGNATURE_VERSION}=${hex(await mac(key, parts))}`,
  };
}

/** Why a signed request was refused. */
export type VerifyFailure =
  /** A signature header is absent. */
  | "missing"
  /** A header is present but not of the documented form. */
  | "malformed"
  /** The signature does not match (wrong secret, or method, path, timestamp or body changed). */
  | "bad-signature"
  /** The timestamp is more than the window in the past. */
  | "stale"
  /** The timestamp is more than the window in the future. */
  | "future"
  /** This signature was already accepted within the window. */
  | "replayed";

/** Outcome of {@linkcode verifySignature}. */
export type VerifyResult = { readonly ok: true } | { readonly ok: false; readonly reason: VerifyFailure };

/** What {@linkcode verifySignature} checks. */
export interface VerifyInput {
  readonly method: string;
  readonly path: string;
  readonly body: Uint8Array;
  /** Value of {@linkcode TIMESTAMP_HEADER}, or `null`/`undefined` when absent. */
  readonly timestamp: string | null | undefined;
  /** Value of {@linkcode SIGNATURE_HEADER}, or `null`/`undefined` when absent. */
  readonly signature: string | null | undefined;
}

/** Options of {@linkcode verifySignature}. */
export interface VerifyOptions {
  /** Accepted clock difference in seconds, either way. @default {DEFAULT_WINDOW_SECONDS} */
  readonly windowSeconds?: number;
  /** Wall clock in unix milliseconds. @default {Date.now} */
  readonly now?: () => number;
  /** Signatures already accepted; `undefined` disables replay detection. @default undefined */
  readonly cache?: ReplayCache;
}

const TIMESTAMP_RE = /^\d{1,12}$/;
const SIGNATURE_RE = /^v1=([0-9a-fA-F]{64})$/;

/** Checks a signed request (see the module docs for the order of checks). Never throws for bad input. */
export async function verifySignature(
  key: CryptoKey,
  input: VerifyInput,
  options: VerifyOptions = {},
): Promise<VerifyResult> {
  if (input.timestamp == null || input.signature == null) return { ok: false, reason: "missing" };
  const ts = input.timestamp.trim();
  const sig = SIGNATURE_RE.exec(input.signature.trim());
  if (!TIMESTAMP_RE.test(ts) || !sig) return { ok: false, reason: "malformed" };
  const timestamp = Number(ts);
  const expected = await mac(key, { method: input.method, path: input.path, timestamp, body: input.body });
  if (!timingSafeEqual(expected, fromHex(sig[1]!))) return { ok: false, reason: "bad-signature" };
  const window = options.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
  const nowSeconds = (options.now ?? Date.now)() / 1000;
  if (timestamp < nowSeconds - window) return { ok: false, reason: "stale" };
  if (timestamp > nowSeconds + window) return { ok: false, reason: "future" };
  if (options.cache && !options.cache.add(sig[1]!.toLowerCase(), (timestamp + window) * 1000, nowSeconds * 1000)) {
    return { ok: false, reason: "replayed" };
  }
  return { ok: true };
}

/** Options of {@linkcode ReplayCache}. */
export interface ReplayCacheOptions {
  /** Most signatures remembered; beyond it the oldest is forgotten. @default 100000 */
  readonly maxEntries?: number;
}

/**
 * The signatures accepted within the replay window, in memory, for one process. Entries expire when their timestamp
 * leaves the window. Bounded: at `maxEntries` live entries the oldest is evicted (so replay protection for it is lost);
 * the default covers about 3,300 requests per second with a 30 s window. Only signatures that verified are added, so
 * without the secret nobody can fill it.
 */
export class ReplayCache {
  readonly #max: number;
  /** signature -> expiry (unix ms), in insertion order. */
  readonly #entries = new Map<string, number>();

  constructor(options: ReplayCacheOptions = {}) {
    this.#max = options.maxEntries ?? 100_000;
    if (!Number.isInteger(this.#max) || this.#max < 1) throw new RangeError("maxEntries must be a positive integer");
  }

  /** Remembered signatures (expired ones may linger until the next `add`). */
  get size(): number {
    return this.#entries.size;
  }

  /** Records `signature` until `expiresAt`; `false` when it is already there and unexpired. */
  add(signature: string, expiresAt: number, now: number): boolean {
    const seen = this.#entries.get(signature);
    if (seen !== undefined && seen >= now) return false;
    this.#entries.delete(signature);
    this.#prune(now);
    while (this.#entries.size >= this.#max) {
      const oldest = this.#entries.keys().next().value as string;
      this.#entries.delete(oldest);
    }
    this.#entries.set(signature, expiresAt);
    return true;
  }

  #prune(now: number): void {
    // Insertion order is close to expiry order (timestamps are within the window); stop at the first live entry.
    for (const [signature, expiresAt] of this.#entries) {
      if (expiresAt >= now) break;
      this.#entries.delete(signature);
    }
  }
}

/** Constant-time comparison of two byte strings (the length is not secret: both are 32-byte MACs). */
export function timingSafeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

function hex(bytes: Uint8Array): string {
  let out = "";
  for (const b of bytes) out += b.toString(16).padStart(2, "0");
  return out;
}

function fromHex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}
