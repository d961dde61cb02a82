/**
 * A circuit breaker for the offload path: `closed` (calls go through; `failureThreshold` consecutive failures open
 * it), `open` (calls fail fast for `cooldownMs`), `half-open` (exactly one probe call goes through: success closes
 * the breaker, failure opens it again for another cooldown). The clock is injected.
 * @module
 */

/** The breaker's state. */
export type BreakerState = "closed" | "open" | "half-open";

/** Options of {@linkcode CircuitBreaker}. */
export interface CircuitBreakerOptions {
  /**
   * Consecutive failures that open the breaker.
   * @default {3}
   */
  readonly failureThreshold?: number;
  /**
   * Time the breaker stays open before it lets one probe through.
   * @default {2000}
   */
  readonly cooldownMs?: number;
  /**
   * Milliseconds clock.
   * @default {performance.now}
   */
  readonly now?: () => number;
}

/** Counters for diagnostics. */
export interface BreakerSnapshot {
  readonly state: BreakerState;
  readonly consecutiveFailures: number;
  /** Times the breaker went from closed or half-open to open. */
  readonly opened: number;
  /** Calls refused while open. */
  readonly rejected: number;
}

/** See the module docs. Call {@linkcode CircuitBreaker.acquire} before a call and report its result. */
export class CircuitBreaker {
  #state: BreakerState = "closed";
  #failures = 0;
  #openedAt = 0;
  #probing = false;
  #opened = 0;
  #rejected = 0;
  readonly #threshold: number;
  readonly #cooldownMs: number;
  readonly #now: () => number;

  constructor(options: CircuitBreakerOptions = {}) {
    this.#threshold = options.failureThreshold ?? 3;
    this.#cooldownMs = options.cooldownMs ?? 2000;
    this.#now = options.now ?? (() => performance.now());
  }

  /** The current state (an open breaker whose cooldown elapsed reads as `half-open`). */
  get state(): BreakerState {
    if (this.#state === "open" && this.#now() - this.#openedAt >= this.#cooldownMs) return "half-open";
    return this.#state;
  }

  /**
   * Asks to make a call. Returns `true` when it may go ahead (closed, or the single half-open probe), `false` when it
   * must fail fast. A caller that got `true` must call {@linkcode success}, {@linkcode failure} or {@linkcode release} exactly once.
   */
  acquire(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "half-open" && !this.#probing) {
      this.#state = "half-open";
      this.#probing = true;
      return true;
    }
    this.#rejected++;
    return false;
  }

  /** Reports a successful call: closes the breaker. */
  success(): void {
    this.#failures = 0;
    this.#probing = false;
    this.#state = "closed";
  }

  /** Reports a failed call: opens the breaker after the threshold, or at once when it was the half-open probe. */
  failure(): void {
    this.#failures++;
    if (this.#probing || this.#failures >= this.#threshold) {
      if (this.#state !== "open") this.#opened++;
      this.#state = "open";
      this.#openedAt = this.#now();
    }
    this.#probing = false;
  }

  /** Gives back a slot from {@linkcode acquire} without a verdict (the call was never made). */
  release(): void {
    this.#probing = false;
  }

  /** Counters for `/v1/policy` and tests. */
  snapshot(): BreakerSnapshot {
    return {
      state: this.state,
      consecutiveFailures: this.#failures,
      opened: this.#opened,
      rejected: this.#rejected,
    };
  }
}
