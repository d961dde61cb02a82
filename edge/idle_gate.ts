/**
 * Background work that never overlaps a request, on a runtime with one JS thread.
 *
 * onnxruntime-web creates a session on the isolate's only thread, in several synchronous slices between `await`s. If
 * a request starts while a background session creation is half done, the rest of the creation runs inside the
 * request's awaits: an offload's reply waits behind it, so the edge measures tens of milliseconds of "communication"
 * that the network never spent, and the measured-cost policy learns a wrong `o` (docs/benchmarks.md, "Link emulator").
 * The gate gives both sides one rule:
 * - a request calls {@linkcode IdleGate.enter} (which waits for the background step running at that moment, if any)
 *   and {@linkcode IdleGate.leave} when it is done;
 * - a background step runs through {@linkcode IdleGate.runWhenIdle}, which starts it only while no request is in
 *   flight, so no request ever runs alongside one.
 * @module
 */

/** See the module documentation. */
export interface IdleGate {
  /** A request starts: resolves once no background step is running (at once when none is). */
  enter(): Promise<void>;
  /** A request has finished (call exactly once per {@linkcode IdleGate.enter}, also on failure). */
  leave(): void;
  /** Runs `step` as soon as no request is in flight; requests that arrive meanwhile wait for it to finish. */
  runWhenIdle<T>(step: () => Promise<T>): Promise<T>;
  /** Requests in flight (entered, not yet left). */
  readonly inFlight: number;
}

/** Creates an {@linkcode IdleGate}. */
export function createIdleGate(): IdleGate {
  let inFlight = 0;
  let waitingForIdle: (() => void)[] = [];
  let running: Promise<unknown> | undefined;
  const idle = () => new Promise<void>((resolve) => waitingForIdle.push(resolve));
  return {
    get inFlight() {
      return inFlight;
    },
    async enter() {
      inFlight++;
      while (running !== undefined) await running.catch(() => undefined);
    },
    leave() {
      if (inFlight === 0) throw new Error("IdleGate.leave() without a matching enter()");
      if (--inFlight > 0) return;
      const waiting = waitingForIdle;
      waitingForIdle = [];
      for (const wake of waiting) wake();
    },
    async runWhenIdle(step) {
      // Re-checked after every wake-up: a request may have entered between the wake-up and this continuation.
      while (inFlight > 0 || running !== undefined) {
        if (running !== undefined) await running.catch(() => undefined);
        else await idle();
      }
      const current = step();
      running = current;
      try {
        return await current;
      } finally {
        if (running === current) running = undefined;
      }
    },
  };
}
