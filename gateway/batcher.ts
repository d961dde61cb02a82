/**
 * Dynamic batching of offloads: requests that arrive within `waitMs` of each other, with the same split layer and the
 * same length bucket (T rounded up to a power of two), are padded to the longest of the group (mask 0) and run as one
 * `[B, T, D]` batch through layers `split + 1 .. L`. Each request gets its own row's final logits; padding never
 * changes a real token's result (masked attention and masked mean pooling), so batched logits equal unbatched ones up
 * to float rounding.
 *
 * A group is ready when it reaches `maxBatch` requests or `waitMs` after its first request, whichever comes first
 * (`waitMs` 0: at once).
 * At most `maxInFlight` batches run at once (onnxruntime already spreads one batch over every core); a ready group
 * waits for a free slot and keeps taking requests (up to `maxBatch`) while it waits, so batches grow under load
 * instead of queueing as many small ones. A failing batch rejects exactly its own requests.
 *
 * `computeMs` of a request is its share of the batch: the batch's run time divided by the batch size (queueing time in
 * the window is not compute and is not included).
 * @module
 */

import { float32Tensor, runLayers } from "../shared/model_io.ts";
import type { SegmentRunner } from "../shared/tensor.ts";

/** Options of {@linkcode createBatcher}. */
export interface BatcherOptions {
  /** Most requests in one batch (>= 1; 1 runs every request alone, still through the batcher). @default 16 */
  readonly maxBatch?: number;
  /**
   * How long the first request of a group waits for others, in milliseconds. 0: no window, a group is ready at once
   * and only grows while it waits for a free slot (continuous batching: an idle gateway adds no latency). @default 2
   */
  readonly waitMs?: number;
  /** Most batches running at once. @default 1 */
  readonly maxInFlight?: number;
  /** Timer used for the window (tests inject a fake). @default setTimeout */
  readonly setTimer?: (fn: () => void, ms: number) => unknown;
  /** Monotonic clock in milliseconds for `computeMs`. @default performance.now */
  readonly now?: () => number;
}

/** One offload waiting for its batch: the hidden state after `splitLayer` and its mask. */
export interface BatchInput {
  readonly splitLayer: number;
  /** Real tokens T of this request. */
  readonly tokens: number;
  /** `[T, D]` hidden state, row-major. */
  readonly hidden: Float32Array;
  /** `[T]` mask (1 real, 0 padding). */
  readonly attentionMask: ArrayLike<number>;
}

/** What a request gets back from its batch. */
export interface BatchOutput {
  /** `[C]` logits of exit L for this request's row. */
  readonly logits: Float32Array;
  /** This request's share of the batch's run time (batch ms / batch size). */
  readonly computeMs: number;
  /** Requests in the batch this one ran in. */
  readonly batchSize: number;
  /** The padded length T of the batch. */
  readonly paddedTokens: number;
}

/** Groups concurrent offloads into batches. */
export interface Batcher {
  /** Queues one request; resolves with its row of the batch, rejects with the batch's error. */
  submit(input: BatchInput): Promise<BatchOutput>;
  /** Requests queued and not yet started. */
  readonly pending: number;
}

interface Group {
  readonly key: string;
  readonly items: Pending[];
  ready: boolean;
}

interface Pending {
  readonly input: BatchInput;
  readonly resolve: (out: BatchOutput) => void;
  readonly reject: (err: unknown) => void;
}

/** The length bucket of T: the smallest power of two >= T. */
export function lengthBucket(tokens: number): number {
  let b = 1;
  while (b < tokens) b *= 2;
  return b;
}

/**
 * A batcher over `runner` for a model of hidden size `hiddenSize`.
 * @throws {RangeError} when `maxBatch` < 1, `waitMs` < 0 or `maxInFlight` < 1
 */
export function createBatcher(runner: SegmentRunner, hiddenSize: number, options: BatcherOptions = {}): Batcher {
  const { maxBatch = 16, waitMs = 2, maxInFlight = 1 } = options;
  const setTimer = options.setTimer ?? ((fn: () => void, ms: number) => setTimeout(fn, ms));
  const now = options.now ?? (() => performance.now());
  if (!Number.isInteger(maxBatch) || maxBatch < 1) throw new RangeError(`maxBatch must be >= 1, got ${maxBatch}`);
  if (!Number.isFinite(waitMs) || waitMs < 0) throw new RangeError(`waitMs must be >= 0, got ${waitMs}`);
  if (!Number.isInteger(maxInFlight) || maxInFlight < 1) {
    throw new RangeError(`maxInFlight must be >= 1, got ${maxInFlight}`);
  }
  /** Groups still taking requests, by `split:bucket`. */
  const open = new Map<string, Group>();
  /** Ready groups in the order they became ready (still open until they start). */
  const ready: Group[] = [];
  let pending = 0;
  let inFlight = 0;

  const markReady = (group: Group) => {
    if (group.ready) return;
    group.ready = true;
    ready.push(group);
    dispatch();
  };

  const dispatch = () => {
    while (inFlight < maxInFlight && ready.length > 0) {
      const group = ready.shift()!;
      if (open.get(group.key) === group) open.delete(group.key);
      pending -= group.items.length;
      inFlight++;
      void runBatch(group.items).finally(() => {
        inFlight--;
        dispatch();
      });
    }
  };

  const runBatch = async (group: readonly Pending[]) => {
    try {
      const b = group.length;
      const t = Math.max(...group.map((p) => p.input.tokens));
      const d = hiddenSize;
      const hidden = new Float32Array(b * t * d);
      const mask = new Float32Array(b * t);
      group.forEach(({ input }, r) => {
        if (input.hidden.length !== input.tokens * d || input.attentionMask.length !== input.tokens) {
          throw new RangeError(
            `request ${r} of the batch has a hidden state or mask that is not [${input.tokens}, ${d}]`,
          );
        }
        hidden.set(input.hidden, r * t * d);
        for (let j = 0; j < input.tokens; j++) mask[r * t + j] = input.attentionMask[j]!;
      });
      const split = group[0]!.input.splitLayer;
      const started = now();
      const result = await runLayers(
        runner,
        float32Tensor(hidden, [b, t, d]),
        float32Tensor(mask, [b, t]),
        split + 1,
        runner.layers,
      );
      const share = Math.max(0, now() - started) / b;
      const final = result.logits.at(-1)!;
      const c = final.dims[1]!;
      group.forEach((p, r) =>
        p.resolve({ logits: final.data.slice(r * c, (r + 1) * c), computeMs: share, batchSize: b, paddedTokens: t })
      );
    } catch (err) {
      for (const p of group) p.reject(err);
    }
  };

  return {
    get pending() {
      return pending;
    },
    submit(input) {
      return new Promise<BatchOutput>((resolve, reject) => {
        const key = `${input.splitLayer}:${lengthBucket(input.tokens)}`;
        let group = open.get(key);
        if (group === undefined) {
          const fresh: Group = { key, items: [], ready: false };
          group = fresh;
          open.set(key, fresh);
          if (maxBatch > 1 && waitMs > 0) setTimer(() => markReady(fresh), waitMs);
        }
        group.items.push({ input, resolve, reject });
        pending++;
        if (waitMs === 0 || maxBatch === 1) markReady(group);
        if (group.items.length >= maxBatch) {
          open.delete(key); // full: later requests start a new group
          if (group.ready) dispatch();
          else markReady(group);
        }
      });
    },
  };
}
