/**
 * The models one gateway serves, routed by the offload's `model.id`: each has its own runner, decode limits (layers,
 * hidden size, most tokens) and, with batching on, its own batcher. An id the gateway does not serve, or a served id
 * with another version, is a 409 `model-mismatch` problem that lists the served models.
 * @module
 */

import type { Manifest } from "../shared/manifest.ts";
import type { ProblemError } from "../shared/problem.ts";
import type { SegmentRunner } from "../shared/tensor.ts";
import { type ModelRef, type RequestLimits, WireError } from "../shared/wire/mod.ts";
import { type Batcher, type BatcherOptions, createBatcher } from "./batcher.ts";
import { wireProblem } from "./errors.ts";

/** The manifest fields the gateway needs (a full {@linkcode Manifest} will do). */
export type ServedModel = Pick<Manifest, "id" | "version" | "layers" | "hiddenSize" | "maxLength">;

/** One served model: its manifest fields and the runner of its layers (the gateway never disposes it). */
export interface ModelEntry {
  readonly runner: SegmentRunner;
  readonly model: ServedModel;
}

/** Where an offload for one model goes. */
export interface ModelRoute {
  readonly runner: SegmentRunner;
  readonly model: ServedModel;
  /** `{id, version}` as the wire writes it. */
  readonly ref: ModelRef;
  /** What the request decoder checks for this model. */
  readonly limits: RequestLimits;
  /** This model's batcher; absent when batching is off. */
  readonly batcher?: Batcher;
}

/** The served models by id. */
export interface ModelTable {
  /** Every served model, in the order given (the first is the one `/healthz` names in its single-model fields). */
  readonly routes: readonly ModelRoute[];
  /**
   * The decode limits of the model `ref` names (for `decodeOffloadRequest`).
   * @throws {WireError} `model_mismatch` when its id is not served.
   */
  limitsFor(ref: ModelRef): RequestLimits;
  /**
   * The route of a decoded request's model.
   * @throws {WireError} `model_mismatch` when its id is not served.
   */
  route(ref: ModelRef): ModelRoute;
  /** A wire error as a problem; a `model_mismatch` also lists the served models (`served: [{id, version}]`). */
  problem(err: WireError): ProblemError;
}

/**
 * Indexes `models` by id, with one batcher per model when `batch` is given.
 * @throws {RangeError} when `models` is empty, two models share an id, or a runner and its model disagree on the
 * layer count
 */
export function createModelTable(models: readonly ModelEntry[], batch?: BatcherOptions): ModelTable {
  if (models.length === 0) throw new RangeError("The gateway needs at least one model");
  const byId = new Map<string, ModelRoute>();
  for (const { runner, model } of models) {
    if (runner.layers !== model.layers) {
      throw new RangeError(`Runner has ${runner.layers} layers but the model ${model.id} says ${model.layers}`);
    }
    const seen = byId.get(model.id);
    if (seen) {
      throw new RangeError(
        `Two models have the id ${model.id} (versions ${seen.model.version} and ${model.version}); ids must be unique`,
      );
    }
    const ref = { id: model.id, version: model.version };
    const limits = { model: ref, layers: model.layers, hiddenSize: model.hiddenSize, maxTokens: model.maxLength };
    const batcher = batch === undefined ? undefined : createBatcher(runner, model.hiddenSize, batch);
    byId.set(model.id, { runner, model, ref, limits, ...(batcher ? { batcher } : {}) });
  }
  const routes = [...byId.values()];
  const served = routes.map((r) => r.ref);
  const names = served.map((m) => `${m.id}@${m.version}`).join(", ");
  const route = (ref: ModelRef): ModelRoute => {
    const found = byId.get(ref.id);
    if (found) return found;
    throw new WireError(
      "model_mismatch",
      "model.id",
      `Message is for model ${
        JSON.stringify(ref.id.slice(0, 128))
      }, which this gateway does not serve; it serves ${names}`,
    );
  };
  return {
    routes,
    route,
    limitsFor: (ref) => route(ref).limits,
    problem: (err) => wireProblem(err, err.code === "model_mismatch" ? { served } : {}),
  };
}
