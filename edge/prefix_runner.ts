/**
 * The edge's view of a model when it holds only its first K layers (`EDGE_MAX_SPLIT`): the same runner, but a layer
 * past K is refused before any session for it is opened, so its file is never read into the edge's memory.
 * @module
 */

import type { SegmentRunner } from "../shared/tensor.ts";

/** A layer past the edge's maximum split was asked for (a programming error: the policy never plays such an arm). */
export class BeyondMaxSplitError extends RangeError {
  override readonly name = "BeyondMaxSplitError";
}

/**
 * Wraps `runner` so that only the embedding and layers 1..`maxSplit` run. `layers` stays L (the model's depth).
 * @throws {RangeError} when `maxSplit` is not in 1..L
 */
export function prefixRunner(runner: SegmentRunner, maxSplit: number): SegmentRunner {
  if (!Number.isInteger(maxSplit) || maxSplit < 1 || maxSplit > runner.layers) {
    throw new RangeError(`maxSplit must be in 1..${runner.layers}, got ${maxSplit}`);
  }
  return {
    layers: runner.layers,
    embed: (inputIds, tokenTypeIds) => runner.embed(inputIds, tokenTypeIds),
    layer(k, hidden, attentionMask) {
      if (k > maxSplit) {
        return Promise.reject(
          new BeyondMaxSplitError(`layer ${k} is past this edge's maximum split ${maxSplit}; the gateway runs it`),
        );
      }
      return runner.layer(k, hidden, attentionMask);
    },
    dispose: () => runner.dispose(),
  };
}
