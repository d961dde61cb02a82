/**
 * One lock for everything that touches onnxruntime-web's WASM instance, and the latch that retires it after a trap.
 *
 * Every session of every model in a process shares one WASM instance (one heap). onnxruntime-web serialises nothing
 * across sessions: `InferenceSession.create`, `run` and `release` are async and yield between their WASM calls, so two
 * of them in flight interleave inside one heap. Under concurrent requests that corrupts it: `RuntimeError: operation
 * does not support unaligned accesses`, `failed to call OrtRun()`, null dereferences in the glue (reproduced with 200
 * concurrent runs over three lazily opened models: 97 of 200 failed). So every such call of the process goes through
 * one FIFO queue ({@linkcode WasmLock.exclusive}); a request waits for the run ahead of it, which costs nothing in
 * throughput on a single-threaded WASM instance that could only do one thing at a time anyway.
 *
 * A WebAssembly trap (`WebAssembly.RuntimeError`) leaves the heap in an unknown state. The lock then latches: the
 * failing call and every later one reject with {@linkcode WasmTrapError} (an HTTP 503 problem), and the trap listeners
 * run once, so that the process can stop serving and be restarted (edge/main.ts exits). The instance never answers
 * again. onnxruntime-web cannot re-create its WASM instance inside one process, so a restart is the only recovery.
 * @module
 */

import { ProblemError } from "../../shared/problem.ts";

/** The WASM runtime trapped earlier: this process no longer runs models (HTTP 503, retry on a fresh instance). */
export class WasmTrapError extends ProblemError {
  constructor(cause: unknown) {
    super({
      status: 503,
      slug: "edge-runtime-failed",
      title: "Edge runtime failed",
      detail: "The edge's model runtime failed and this instance is restarting; retry the request.",
      headers: { "retry-after": "1" },
      cause,
    });
    this.name = "WasmTrapError";
  }
}

/** Whether `error` is a WebAssembly trap (the heap may be corrupt), as opposed to an ordinary onnxruntime error. */
export function isWasmTrap(error: unknown): boolean {
  return typeof WebAssembly !== "undefined" && error instanceof WebAssembly.RuntimeError;
}

/** A FIFO lock over one WASM instance that latches after a trap (see the module docs). */
export class WasmLock {
  #tail: Promise<unknown> = Promise.resolve();
  #trap: unknown = undefined;
  #trapped = false;
  readonly #listeners = new Set<(error: unknown) => void>();
  #active = 0;
  #maxActive = 0;

  /** Runs `fn` after every call queued before it has settled; rejects with {@linkcode WasmTrapError} once trapped. */
  exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(async () => {
      if (this.#trapped) throw new WasmTrapError(this.#trap);
      this.#active++;
      this.#maxActive = Math.max(this.#maxActive, this.#active);
      try {
        return await fn();
      } catch (error) {
        if (isWasmTrap(error)) {
          this.trip(error);
          throw new WasmTrapError(error);
        }
        throw error;
      } finally {
        this.#active--;
      }
    });
    this.#tail = next.catch(() => undefined);
    return next;
  }

  /** Latches the lock as trapped (idempotent) and tells the listeners once. */
  trip(error: unknown): void {
    if (this.#trapped) return;
    this.#trapped = true;
    this.#trap = error;
    for (const listener of this.#listeners) {
      try {
        listener(error);
      } catch (e) {
        console.error("edge: a WASM trap listener failed:", e);
      }
    }
  }

  /** True once a trap was seen: nothing runs on this instance again. */
  get trapped(): boolean {
    return this.#trapped;
  }

  /** The most calls that were ever inside {@linkcode exclusive} at once (1 when the lock holds). */
  get maxConcurrent(): number {
    return this.#maxActive;
  }

  /** Calls `listener` once when the lock trips (at once if it already has); returns a function that unsubscribes. */
  onTrap(listener: (error: unknown) => void): () => void {
    if (this.#trapped) {
      listener(this.#trap);
      return () => {};
    }
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
