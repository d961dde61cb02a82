/**
 * Validation of observations before they are learned from.
 * @module
 */

import type { PolicyConfig } from "./config.ts";
import type { Observation } from "./types.ts";

/** Thrown by `update` for an observation that cannot come from the decision it claims to answer. */
export class ObservationError extends Error {
  constructor(message: string) {
    super(`Invalid observation: ${message}`);
    this.name = "ObservationError";
  }
}

const isProb = (v: unknown): v is number => typeof v === "number" && v >= 0 && v <= 1;
const isCost = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v) && v >= 0;

/**
 * Checks an observation against the config.
 * @throws {ObservationError} naming what is wrong.
 */
export function checkObservation(obs: Observation, config: PolicyConfig): void {
  const L = config.layers;
  const { arm, confidences } = obs;
  const K = config.maxArm;
  if (!Number.isInteger(arm) || arm < 1 || arm > K) throw new ObservationError(`arm ${arm} is outside 1..${K}`);
  const m = confidences?.length;
  if (!Number.isInteger(m) || m < 1 || m > L) {
    throw new ObservationError(`confidences must hold 1..${L} values (got ${m})`);
  }
  for (let j = 0; j < m; j++) {
    if (!isProb(confidences[j])) {
      throw new ObservationError(`confidence C_${j + 1} must be in [0, 1] (got ${confidences[j]})`);
    }
  }
  if (obs.finalConfidence !== undefined && !isProb(obs.finalConfidence)) {
    throw new ObservationError(`finalConfidence must be in [0, 1] (got ${obs.finalConfidence})`);
  }
  if (obs.lambda !== undefined && !isCost(obs.lambda)) {
    throw new ObservationError(`lambda must be a finite number >= 0 (got ${obs.lambda})`);
  }
  if (obs.o !== undefined && !isCost(obs.o)) {
    throw new ObservationError(`o must be a finite number >= 0 (got ${obs.o})`);
  }
  if (config.mode === "paper") {
    if (m !== L) throw new ObservationError(`paper mode needs the full row C_1..C_${L} (got ${m} values)`);
    return;
  }
  if (config.exitRule === "first-confident") {
    if (m < arm && confidences[m - 1]! < config.alpha) {
      throw new ObservationError(
        `the device stopped at layer ${m} < arm ${arm} although C_${m} = ${confidences[m - 1]} < alpha`,
      );
    }
  } else if (m < arm) {
    throw new ObservationError(`arm ${arm} computes C_1..C_${arm} but only ${m} confidences were given`);
  }
}
