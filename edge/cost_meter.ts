/**
 * The costs the policy sees, lambda (per edge layer) and o (per offload), in reward units.
 *
 * - `constant` (the paper): lambda and o are the configured values; an offload that failed is charged
 *   `o + failurePenalty`.
 * - `measured`: lambda = (edge milliseconds per layer) / `msPerUnit` and o = (communication milliseconds: offload
 *   round trip minus the gateway's reported compute time) / `msPerUnit`, each an exponentially weighted moving
 *   average (weight `weight` for a new measurement). A failed offload is a communication sample of its elapsed time
 *   plus `failurePenalty * msPerUnit`, so a slow, failing or unreachable gateway raises o and the policy moves toward
 *   the edge. An estimate with no new sample decays toward its prior (the configured lambda or o) with half-life
 *   `halfLifeMs`: when the policy stops offloading, o relaxes, the policy tries offloading again, and fresh samples
 *   either confirm the network recovered (the split moves back) or push o up again.
 *
 * With the default `msPerUnit` of 10, one reward unit (a confidence difference of 1.0) is worth 10 ms.
 * @module
 */

import type { CostMode } from "./config.ts";

/** Options of {@linkcode CostMeter}. */
export interface CostMeterOptions {
  readonly mode: CostMode;
  /** Constant lambda, and the prior of the measured one. */
  readonly lambda: number;
  /** Constant o, and the prior of the measured one. */
  readonly o: number;
  /** Milliseconds per reward unit (measured mode). */
  readonly msPerUnit: number;
  /** EWMA weight of a new measurement, in (0, 1]. */
  readonly weight: number;
  /** Half-life of the decay of a stale estimate toward its prior. */
  readonly halfLifeMs: number;
  /** Extra cost of a failed offload, in reward units. */
  readonly failurePenalty: number;
  /**
   * Milliseconds clock.
   * @default {performance.now}
   */
  readonly now?: () => number;
}

/** lambda and o in reward units. */
export interface CostPair {
  readonly lambda: number;
  readonly o: number;
}

/** What `/v1/policy` shows about costs. */
export interface CostSnapshot extends CostPair {
  readonly mode: CostMode;
  readonly msPerUnit: number;
  /** Moving averages in milliseconds (`null` before the first sample). */
  readonly measured: {
    readonly edgeMsPerLayer: number | null;
    readonly commMs: number | null;
    readonly gatewayMs: number | null;
    readonly edgeSamples: number;
    readonly commSamples: number;
    readonly failures: number;
  };
}

/** An EWMA that decays toward `prior` while it receives no samples. */
class DecayingAverage {
  #value: number | undefined;
  #at = 0;
  samples = 0;
  constructor(private readonly prior: number, private readonly weight: number, private readonly halfLifeMs: number) {}

  value(now: number): number {
    if (this.#value === undefined) return this.prior;
    const decay = Math.pow(2, -Math.max(0, now - this.#at) / this.halfLifeMs);
    return this.prior + (this.#value - this.prior) * decay;
  }

  raw(): number | null {
    return this.#value ?? null;
  }

  add(x: number, now: number): void {
    const current = this.#value === undefined ? x : this.value(now);
    this.#value = current + this.weight * (x - current);
    this.#at = now;
    this.samples++;
  }
}

/** See the module docs. */
export class CostMeter {
  readonly #opts: CostMeterOptions;
  readonly #now: () => number;
  readonly #edge: DecayingAverage;
  readonly #comm: DecayingAverage;
  readonly #gateway: DecayingAverage;
  #failures = 0;

  constructor(options: CostMeterOptions) {
    this.#opts = options;
    this.#now = options.now ?? (() => performance.now());
    const { msPerUnit, weight, halfLifeMs } = options;
    this.#edge = new DecayingAverage(options.lambda * msPerUnit, weight, halfLifeMs);
    this.#comm = new DecayingAverage(options.o * msPerUnit, weight, halfLifeMs);
    this.#gateway = new DecayingAverage(0, weight, halfLifeMs);
  }

  /** Records the edge's time per layer for one request. */
  recordEdge(msPerLayer: number): void {
    if (Number.isFinite(msPerLayer) && msPerLayer >= 0) this.#edge.add(msPerLayer, this.#now());
  }

  /** Records a successful offload's communication and gateway compute time. */
  recordOffload(commMs: number, gatewayMs: number): void {
    const now = this.#now();
    if (Number.isFinite(commMs) && commMs >= 0) this.#comm.add(commMs, now);
    if (Number.isFinite(gatewayMs) && gatewayMs >= 0) this.#gateway.add(gatewayMs, now);
  }

  /** Records a failed offload that took `elapsedMs` (0 when the circuit breaker refused it). */
  recordFailure(elapsedMs: number): void {
    this.#failures++;
    const ms = Math.max(0, Number.isFinite(elapsedMs) ? elapsedMs : 0);
    this.#comm.add(ms + this.#opts.failurePenalty * this.#opts.msPerUnit, this.#now());
  }

  /** The costs to decide with now. */
  costs(): CostPair {
    if (this.#opts.mode === "constant") return { lambda: this.#opts.lambda, o: this.#opts.o };
    const now = this.#now();
    return {
      lambda: this.#edge.value(now) / this.#opts.msPerUnit,
      o: this.#comm.value(now) / this.#opts.msPerUnit,
    };
  }

  /** The costs to learn one observation with (call after recording its measurements). */
  observationCosts(offloadFailed: boolean): CostPair {
    const c = this.costs();
    if (this.#opts.mode === "constant" && offloadFailed) {
      return { lambda: c.lambda, o: c.o + this.#opts.failurePenalty };
    }
    return c;
  }

  /** Current costs and the moving averages behind them. */
  snapshot(): CostSnapshot {
    return {
      mode: this.#opts.mode,
      msPerUnit: this.#opts.msPerUnit,
      ...this.costs(),
      measured: {
        edgeMsPerLayer: this.#edge.raw(),
        commMs: this.#comm.raw(),
        gatewayMs: this.#gateway.raw(),
        edgeSamples: this.#edge.samples,
        commSamples: this.#comm.samples,
        failures: this.#failures,
      },
    };
  }
}
