/**
 * The edge's client for the gateway's `POST /v1/complete`: packs and msgpack-encodes the hidden state (shared/wire),
 * sends it with the bearer token, or signs it (HMAC-SHA256 with a timestamp, shared/hmac.ts), through an injected `fetch` (Deno's instrumented fetch adds `traceparent` when
 * OpenTelemetry is on; tests pass `(req) => gatewayApp.fetch(req)` to wire the gateway in-process), enforces a
 * timeout that covers the response body, and measures the round trip, the gateway's compute time (its
 * `Server-Timing: compute;dur=` header, else `computeMs` in the body) and the communication time = round trip -
 * compute. Every failure is an {@linkcode OffloadError} with a `kind`; a {@linkcode CircuitBreaker} fails calls fast
 * while the gateway is known to be down and re-probes it after a cooldown. Only gateway faults count against the
 * breaker (no answer, timeout, 5xx or 429, a garbled 2xx); a 4xx rejection is a client/model mismatch and does not.
 * @module
 */

import { importHmacKey, signRequest } from "../shared/hmac.ts";
import { ATTR, SPAN } from "../shared/tracing.ts";
import {
  createOffloadRequest,
  decodeOffloadResponse,
  encodeOffloadRequest,
  isMsgpackContentType,
  type ModelRef,
  MSGPACK_CONTENT_TYPE,
  type WireDtype,
} from "../shared/wire/mod.ts";
import type { CircuitBreaker } from "./circuit_breaker.ts";
import { withSpan } from "./tracing.ts";

/** Why an offload failed. */
export type OffloadFailureKind =
  /** The circuit breaker is open: no request was sent. */
  | "breaker-open"
  /** The gateway refused the connection (nothing listening). */
  | "refused"
  /** Any other network failure (DNS, reset, TLS). */
  | "unreachable"
  /** No complete response within the timeout. */
  | "timeout"
  /** The gateway answered 5xx (or 429). */
  | "server-error"
  /** The gateway answered another 4xx (auth, model mismatch): a configuration problem. */
  | "rejected"
  /** A 2xx whose body is not a valid offload response. */
  | "garbage"
  /** The hidden state could not be encoded (never sent). */
  | "encode";

/** A failed offload; the message never contains the token. */
export class OffloadError extends Error {
  readonly kind: OffloadFailureKind;
  /** HTTP status when the gateway answered. */
  readonly status: number | undefined;
  /** Time spent on the attempt (0 when the breaker refused it). */
  readonly elapsedMs: number;
  constructor(kind: OffloadFailureKind, message: string, elapsedMs: number, status?: number, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause });
    this.name = "OffloadError";
    this.kind = kind;
    this.status = status;
    this.elapsedMs = elapsedMs;
  }
}

/** Options of {@linkcode OffloadClient}. */
export interface OffloadClientOptions {
  /** How requests are sent (`globalThis.fetch`, or a gateway app's `fetch` in tests). */
  readonly fetch: (request: Request) => Response | Promise<Response>;
  /** Gateway base URL, e.g. `http://127.0.0.1:8001`. */
  readonly baseUrl: string;
  /** Shared secret; omitted when the gateway runs in insecure local mode. */
  readonly token: string | undefined;
  /**
   * `bearer`: send `Authorization: Bearer <token>`; `hmac`: sign each request with the token as HMAC secret.
   * @default {"bearer"}
   */
  readonly auth?: "bearer" | "hmac";
  /**
   * Wall clock in unix milliseconds, for HMAC timestamps.
   * @default {Date.now}
   */
  readonly clock?: () => number;
  /** Time limit for the whole exchange, response body included. */
  readonly timeoutMs: number;
  readonly breaker: CircuitBreaker;
  /** The model the edge serves (the gateway answers 409 for another version). */
  readonly model: ModelRef;
  /** Number of layers L (the response's exit layer). */
  readonly layers: number;
  /** Number of classes. */
  readonly classes: number;
  /**
   * Hidden-state encoding.
   * @default {"float32"}
   */
  readonly dtype?: WireDtype;
  /**
   * Milliseconds clock.
   * @default {performance.now}
   */
  readonly now?: () => number;
}

/** The hidden state after `splitLayer` for the real tokens. */
export interface OffloadInput {
  readonly splitLayer: number;
  /** Row-major `[T, D]` float32 values. */
  readonly hidden: Float32Array;
  readonly dims: readonly [number, number];
}

/** A successful offload and its measurements. */
export interface OffloadResult {
  readonly logits: readonly number[];
  readonly exitLayer: number;
  /** Request body bytes. */
  readonly payloadBytes: number;
  readonly responseBytes: number;
  readonly encodeMs: number;
  /** Send to last response byte. */
  readonly rttMs: number;
  /** Gateway compute time as the gateway reports it. */
  readonly gatewayMs: number;
  /** `max(0, rttMs - gatewayMs)`. */
  readonly commMs: number;
}

const MAX_RESPONSE_BYTES = 1 << 20;

/** See the module docs. */
export class OffloadClient {
  readonly #opts: OffloadClientOptions;
  readonly #now: () => number;
  readonly #url: string;
  readonly #path: string;
  /** HMAC key, when signing. */
  readonly #key: Promise<CryptoKey> | undefined;

  constructor(options: OffloadClientOptions) {
    this.#opts = options;
    this.#now = options.now ?? (() => performance.now());
    this.#url = `${options.baseUrl.replace(/\/+$/, "")}/v1/complete`;
    this.#path = new URL(this.#url).pathname;
    this.#key = options.auth === "hmac" && options.token !== undefined ? importHmacKey(options.token) : undefined;
  }

  /** The circuit breaker's state (for `/v1/policy` and `/healthz`). */
  get breaker(): CircuitBreaker {
    return this.#opts.breaker;
  }

  /**
   * Sends one hidden state and returns the final logits.
   * @throws {OffloadError} for every failure (see {@linkcode OffloadFailureKind}).
   */
  async offload(input: OffloadInput): Promise<OffloadResult> {
    const { breaker } = this.#opts;
    if (!breaker.acquire()) throw new OffloadError("breaker-open", "Gateway circuit breaker is open", 0);
    const encodeStart = this.#now();
    let body: Uint8Array;
    try {
      body = await withSpan(SPAN.encode, { [ATTR.splitLayer]: input.splitLayer }, (span) => {
        const bytes = this.#encode(input);
        span.setAttribute(ATTR.payloadBytes, bytes.byteLength);
        return Promise.resolve(bytes);
      });
    } catch (error) {
      breaker.release(); // not the gateway's fault: no verdict on its health
      throw new OffloadError("encode", `Cannot encode the hidden state: ${message(error)}`, 0, undefined, error);
    }
    const encodeMs = this.#now() - encodeStart;
    try {
      const result = await withSpan(SPAN.offload, {
        [ATTR.splitLayer]: input.splitLayer,
        [ATTR.payloadBytes]: body.byteLength,
        [ATTR.dtype]: this.#opts.dtype ?? "float32",
        [ATTR.modelId]: this.#opts.model.id,
      }, async (span) => {
        const r = await this.#send(body, encodeMs);
        span.setAttributes({
          [ATTR.roundTripMs]: r.rttMs,
          [ATTR.computeMs]: r.gatewayMs,
          [ATTR.commMs]: r.commMs,
          [ATTR.responseBytes]: r.responseBytes,
        });
        return r;
      });
      breaker.success();
      return result;
    } catch (error) {
      // A 4xx rejection (unknown model or version, auth, a body the gateway refuses) is a client or model mismatch
      // that the gateway answered, not a gateway fault: it must not open the breaker that every model shares.
      if (error instanceof OffloadError && error.kind === "rejected") breaker.release();
      else breaker.failure();
      throw error;
    }
  }

  #encode(input: OffloadInput): Uint8Array {
    const req = createOffloadRequest({
      model: this.#opts.model,
      splitLayer: input.splitLayer,
      dims: input.dims,
      hidden: input.hidden,
      dtype: this.#opts.dtype ?? "float32",
    });
    return encodeOffloadRequest(req, { model: this.#opts.model, layers: this.#opts.layers });
  }

  async #send(body: Uint8Array, encodeMs: number): Promise<OffloadResult> {
    const headers: Record<string, string> = { "content-type": MSGPACK_CONTENT_TYPE, accept: MSGPACK_CONTENT_TYPE };
    if (this.#key) {
      const timestamp = Math.floor((this.#opts.clock ?? Date.now)() / 1000);
      Object.assign(headers, await signRequest(await this.#key, { method: "POST", path: this.#path, timestamp, body }));
    } else if (this.#opts.token !== undefined) {
      headers.authorization = `Bearer ${this.#opts.token}`;
    }
    const controller = new AbortController();
    const start = this.#now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        controller.abort();
        reject(
          new OffloadError("timeout", `Gateway did not answer within ${this.#opts.timeoutMs} ms`, this.#now() - start),
        );
      }, this.#opts.timeoutMs);
    });
    const exchange = (async () => {
      let res: Response;
      try {
        const request = new Request(this.#url, {
          method: "POST",
          headers,
          body: body as Uint8Array<ArrayBuffer>,
          signal: controller.signal,
        });
        res = await this.#opts.fetch(request);
      } catch (error) {
        if (controller.signal.aborted) throw error;
        const refused = /refused|ECONNREFUSED/i.test(message(error));
        throw new OffloadError(
          refused ? "refused" : "unreachable",
          `Gateway ${refused ? "refused the connection" : "is unreachable"}: ${message(error)}`,
          this.#now() - start,
          undefined,
          error,
        );
      }
      const bytes = new Uint8Array(
        await res.arrayBuffer().catch((error) => {
          throw new OffloadError("unreachable", `Gateway response was cut off: ${message(error)}`, this.#now() - start);
        }),
      );
      const rttMs = this.#now() - start;
      if (res.status >= 500 || res.status === 429) {
        throw new OffloadError("server-error", `Gateway answered ${res.status}`, rttMs, res.status);
      }
      if (res.status < 200 || res.status >= 300) {
        throw new OffloadError(
          "rejected",
          `Gateway rejected the offload with ${res.status}${problemTitle(res, bytes)}`,
          rttMs,
          res.status,
        );
      }
      if (!isMsgpackContentType(res.headers.get("content-type")) || bytes.byteLength > MAX_RESPONSE_BYTES) {
        throw new OffloadError("garbage", "Gateway answered 2xx without a msgpack body", rttMs, res.status);
      }
      let decoded;
      try {
        decoded = decodeOffloadResponse(bytes, {
          model: this.#opts.model,
          exitLayer: this.#opts.layers,
          classes: this.#opts.classes,
        });
      } catch (error) {
        throw new OffloadError("garbage", `Gateway response is invalid: ${message(error)}`, rttMs, res.status, error);
      }
      const gatewayMs = serverTimingMs(res.headers.get("server-timing"), "compute") ?? decoded.computeMs;
      return {
        logits: decoded.logits,
        exitLayer: decoded.exitLayer,
        payloadBytes: body.byteLength,
        responseBytes: bytes.byteLength,
        encodeMs,
        rttMs,
        gatewayMs,
        commMs: Math.max(0, rttMs - gatewayMs),
      };
    })();
    try {
      return await Promise.race([exchange, timeout]);
    } finally {
      clearTimeout(timer);
      exchange.catch(() => {}); // a late failure after a timeout is not unhandled
    }
  }
}

/** The `dur` of metric `name` in a `Server-Timing` header value, in milliseconds. */
export function serverTimingMs(header: string | null, name: string): number | undefined {
  if (!header) return undefined;
  for (const metric of header.split(",")) {
    const [metricName, ...params] = metric.split(";").map((s) => s.trim());
    if (metricName !== name) continue;
    for (const param of params) {
      const m = /^dur\s*=\s*"?([0-9]+(?:\.[0-9]+)?)"?$/.exec(param);
      if (m) return Number(m[1]);
    }
  }
  return undefined;
}

function problemTitle(res: Response, bytes: Uint8Array): string {
  if (!(res.headers.get("content-type") ?? "").includes("json") || bytes.byteLength > 4096) return "";
  try {
    const body = JSON.parse(new TextDecoder().decode(bytes)) as { title?: unknown };
    return typeof body.title === "string" ? ` (${body.title.slice(0, 120)})` : "";
  } catch {
    return "";
  }
}

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
