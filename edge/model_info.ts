/**
 * What the edge says about each served model: the `GET /v1/models` entries, the facts the request parser checks a
 * pinned `"split"` against, and the OpenAPI document's model list. {@linkcode modelInfo} is the one place that
 * decides a model's maximum split on this edge.
 * @module
 */

import type { Manifest } from "../shared/manifest.ts";
import type { EdgeConfig } from "./config.ts";

/** One served model as the API describes it. */
export interface ModelInfo {
  readonly id: string;
  /** Export version (content hash of the exported files). */
  readonly version: string;
  /** `"single"`: one text; `"pair"`: `text` and `textPair`. */
  readonly task: "single" | "pair";
  /** Class labels, in the order of `probabilities`. */
  readonly labels: readonly string[];
  /** Transformer layers L (one exit after each). */
  readonly layers: number;
  /** Deepest split layer this edge runs (1..L); a request's `"split"` must be at most this. */
  readonly maxSplit: number;
  /** Longest encoding in tokens, special tokens included; longer inputs are truncated. */
  readonly maxTokens: number;
  /** True for a model whose exits or weights are random (an imported timing model): its answers mean nothing. */
  readonly timingOnly: boolean;
}

/**
 * The deepest split layer this edge runs for a model of `layers` layers: the one place to apply `EDGE_MAX_SPLIT`
 * (`min(K, L)`; every layer when it is unset).
 */
export function edgeMaxSplit(config: Pick<EdgeConfig, "maxSplit">, layers: number): number {
  return Math.min(config.maxSplit ?? layers, layers);
}

/** The API's description of a served model on an edge with this config. */
export function modelInfo(
  manifest: Pick<Manifest, "id" | "version" | "task" | "labels" | "layers" | "maxLength"> & { timingOnly?: boolean },
  config: EdgeConfig,
): ModelInfo {
  return {
    id: manifest.id,
    version: manifest.version,
    task: manifest.task,
    labels: [...manifest.labels],
    layers: manifest.layers,
    maxSplit: edgeMaxSplit(config, manifest.layers),
    maxTokens: manifest.maxLength,
    timingOnly: manifest.timingOnly ?? false,
  };
}
