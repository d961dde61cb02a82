/**
 * The gateway's work for one offload: run layers `splitLayer + 1 .. L` on a batch of one (the real tokens, mask
 * from the request), or through a {@linkcode Batcher} together with concurrent offloads (gateway/batcher.ts), and
 * return the final exit's logits. Pure apart from the runner; no HTTP here.
 * @module
 */

import type { Tracer } from "@opentelemetry/api";
import { runLayers } from "../shared/model_io.ts";
import { ProblemError } from "../shared/problem.ts";
import type { Float32Tensor, SegmentRunner } from "../shared/tensor.ts";
import { ATTR, SPAN } from "../shared/tracing.ts";
import { type OffloadRequest, unpackHidden } from "../shared/wire/mod.ts";
import type { Batcher } from "./batcher.ts";
import { inSpan } from "./tracing.ts";

/** The final exit of an offloaded request. */
export interface Completion {
  /** Final layer L. */
  readonly exitLayer: number;
  /** `[C]` logits of exit L. */
  readonly logits: number[];
  /** Layers this call ran (`L - splitLayer`). */
  readonly layersRun: number;
  /** With a batcher: this request's share of its batch's run time (ms) and the batch size; absent otherwise. */
  readonly batch?: { readonly computeMs: number; readonly size: number };
}

/**
 * Runs the remaining layers of a validated request.
 * @throws {ProblemError} 422 when the hidden state drives the model to non-finite logits (bad input, not a fault).
 */
export async function completeOffload(
  runner: SegmentRunner,
  req: OffloadRequest,
  tracer: Tracer,
  payloadBytes: number,
  batcher?: Batcher,
): Promise<Completion> {
  const [tokens, width] = req.dims;
  const layers = runner.layers;
  const attributes = {
    [ATTR.modelId]: req.model.id,
    [ATTR.modelVersion]: req.model.version,
    [ATTR.splitLayer]: req.splitLayer,
    [ATTR.exitLayer]: layers,
    [ATTR.layersRun]: layers - req.splitLayer,
    [ATTR.tokens]: tokens,
    [ATTR.dtype]: req.dtype,
    [ATTR.payloadBytes]: payloadBytes,
  };
  return await inSpan(tracer, SPAN.gatewayLayers, attributes, async () => {
    let final: Float32Array;
    let batch: Completion["batch"];
    if (batcher !== undefined) {
      const out = await batcher.submit({
        splitLayer: req.splitLayer,
        tokens,
        hidden: unpackHidden(req),
        attentionMask: req.attentionMask,
      });
      final = out.logits;
      batch = { computeMs: out.computeMs, size: out.batchSize };
    } else {
      const hidden: Float32Tensor = { dtype: "float32", dims: [1, tokens, width], data: unpackHidden(req) };
      const mask: Float32Tensor = { dtype: "float32", dims: [1, tokens], data: Float32Array.from(req.attentionMask) };
      final = (await runLayers(runner, hidden, mask, req.splitLayer + 1, layers)).logits.at(-1)!.data;
    }
    const logits = Array.from(final);
    const bad = logits.findIndex((x) => !Number.isFinite(x));
    if (bad >= 0) {
      throw new ProblemError({
        status: 422,
        slug: "non-finite-output",
        title: "Hidden state gives non-finite logits",
        detail: `Running layers ${req.splitLayer + 1}..${layers} on this hidden state gives logit ${bad} = ` +
          `${logits[bad]}; the hidden state is out of the model's range`,
      });
    }
    const done = { exitLayer: layers, logits, layersRun: layers - req.splitLayer };
    return batch === undefined ? done : { ...done, batch };
  });
}
