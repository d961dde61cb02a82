/**
 * The edge's request pipeline: policy decides the split layer i -> tokenize -> embed -> layers 1..i on the edge
 * (per-layer time and exit confidence recorded; the exit rule may stop earlier) -> exit on the edge when confident
 * (or at i = L) -> else offload the hidden state to the gateway for layers i+1..L -> on a gateway failure, fall back
 * (`edge-exit`: the deepest computed exit; `edge-complete`: the remaining layers on the edge), mark the answer
 * `degraded` and charge the failure to the offload cost -> the policy learns from what was observed (`C_L` only when
 * it was seen: from the gateway or from running to L on the edge; a degraded `edge-exit` answer stands its own
 * confidence in for `C_L`, so the failed offload is still charged to the arm). A request that pins its split (or turns
 * early exits off) runs the same pipeline without the policy: nothing is learned from it. A text with no token after the
 * tokenizer's normalisation is refused (422) before any of this.
 * @module
 */

import type { Manifest } from "../shared/manifest.ts";
import { argmax, confidence, roundMs, roundSignificant, softmax } from "../shared/math.ts";
import { padBatch } from "../shared/model_io.ts";
import { type Decision, nextAction, type Observation, type Policy } from "../shared/policy/mod.ts";
import type { Prng } from "../shared/prng.ts";
import type { SegmentRunner } from "../shared/tensor.ts";
import type { Encoding, WordPieceTokenizer } from "../shared/tokenizer/mod.ts";
import { ATTR, SPAN } from "../shared/tracing.ts";
import { invalidRequest } from "./classify_request.ts";
import type { FallbackMode } from "./config.ts";
import type { CostMeter, CostPair } from "./cost_meter.ts";
import { OffloadError, type OffloadFailureKind, type OffloadResult } from "./offload_client.ts";
import type { PolicyStore } from "./policy_store.ts";
import type { RecentWindow } from "./recent_window.ts";
import { activeTraceId, withSpan } from "./tracing.ts";

/** What the pipeline needs; built once by main.ts (or a test). */
export interface ClassifierDeps {
  readonly manifest: Manifest;
  readonly tokenizer: WordPieceTokenizer;
  readonly runner: SegmentRunner;
  readonly policy: Policy;
  readonly store: PolicyStore;
  readonly prng: Prng;
  /** Sends a hidden state to the gateway (an `OffloadClient`'s `offload`). */
  readonly offload: (input: { splitLayer: number; hidden: Float32Array; dims: readonly [number, number] }) => Promise<
    OffloadResult
  >;
  readonly costs: CostMeter;
  readonly fallback: FallbackMode;
  readonly recent: RecentWindow;
  /** Receives one record per request (decision, scores, observation, reward inputs). @default none */
  readonly log?: (entry: DecisionLogEntry) => void;
  /** Milliseconds clock. @default performance.now */
  readonly now?: () => number;
}

/** One input to classify (already validated by the HTTP layer). */
export interface ClassifyInput {
  readonly text: string;
  readonly textPair?: string | undefined;
  /** The served model's id; the service routes on it (the pipeline itself ignores it). @default the default model */
  readonly model?: string | undefined;
  /**
   * Pins the split layer instead of asking the policy (already checked against the edge's maximum split). A pinned
   * request leaves the policy, its cost estimates and the recent window untouched (docs/policy.md).
   * @default the policy's choice
   */
  readonly split?: number | undefined;
  /** `false`: skip every early exit up to the split, so a split below L always offloads (a pinned request). @default true */
  readonly earlyExit?: boolean | undefined;
}

/** The pipeline's answer; app.ts serialises it as the `POST /v1/classify` response. */
export interface Classification {
  readonly label: string;
  readonly labelIndex: number;
  readonly probabilities: number[];
  /** `probabilities` with their labels, in label order. */
  readonly scores: { readonly label: string; readonly score: number }[];
  /** The split layer i: the policy's, or the request's own when `pinned`. */
  readonly splitLayer: number;
  /** The request pinned its split or turned off early exits; the policy did not decide it and did not learn from it. */
  readonly pinned: boolean;
  /** The exit that produced the answer. */
  readonly exitLayer: number;
  readonly answeredBy: "edge" | "gateway";
  /** True when a gateway failure forced a fallback answer. */
  readonly degraded: boolean;
  /** Why the answer is degraded (`OffloadFailureKind`), else null. */
  readonly degradedReason: OffloadFailureKind | null;
  /** Confidences of the exits computed on the edge, `exitConfidences[j - 1]` = C_j. */
  readonly exitConfidences: number[];
  readonly tokens: number;
  readonly costs: {
    /** `lambda * layersOnEdge + o * offloaded` with the costs the policy learned this request with. */
    readonly lambdaUnits: number;
    readonly lambda: number;
    readonly o: number;
    readonly measured: {
      /** Embedding plus layers on the edge, fallback layers included. */
      readonly edgeMs: number;
      readonly commMs: number | null;
      readonly gatewayMs: number | null;
      readonly payloadBytes: number | null;
    };
  };
  readonly traceId: string | null;
  readonly modelId: string;
}

/** What the pipeline logs per request. */
export interface DecisionLogEntry {
  readonly arm: number;
  readonly reason: string;
  readonly scores: readonly number[];
  readonly observation: Observation;
  readonly exitLayer: number;
  readonly offloaded: boolean;
  readonly degraded: boolean;
}

/** Runs one classification end to end (see the module docs). */
export async function classify(deps: ClassifierDeps, input: ClassifyInput): Promise<Classification> {
  const { manifest } = deps;
  const encoding = encodeInput(deps, input); // a 422 for text without a token, before any span or policy step
  return await withSpan(
    SPAN.classify,
    { [ATTR.modelId]: manifest.id, [ATTR.modelVersion]: manifest.version },
    async (span) => {
      const result = await run(deps, input, encoding);
      span.setAttributes({
        [ATTR.splitLayer]: result.splitLayer,
        [ATTR.exitLayer]: result.exitLayer,
        [ATTR.offloaded]: result.answeredBy === "gateway" || result.degradedReason !== null,
        [ATTR.answeredBy]: result.answeredBy,
        [ATTR.degraded]: result.degraded,
        [ATTR.tokens]: result.tokens,
        ...(result.costs.measured.commMs !== null ? { [ATTR.commMs]: result.costs.measured.commMs } : {}),
        ...(result.costs.measured.payloadBytes !== null
          ? { [ATTR.payloadBytes]: result.costs.measured.payloadBytes }
          : {}),
      });
      return { ...result, traceId: activeTraceId() };
    },
  );
}

/**
 * The model inputs of a request.
 * @throws {ProblemError} 422 when `text` (or `textPair`) has no token left after the tokenizer's normalisation (only
 * spaces, control or zero-width characters): the model would classify an empty input.
 */
function encodeInput(deps: ClassifierDeps, input: ClassifyInput): Encoding {
  const encoding = deps.tokenizer.encode(input.text, input.textPair, {
    maxLength: deps.manifest.maxLength,
    headTokens: deps.manifest.tokenizer.headTokens,
  });
  const second = encoding.tokenTypeIds.reduce((n, t) => n + t, 0); // textPair's tokens + its [SEP]
  const first = encoding.tokenTypeIds.length - second; // [CLS] + text's tokens + [SEP]
  const empty = [...(first <= 2 ? ["text"] : []), ...(input.textPair !== undefined && second <= 1 ? ["textPair"] : [])];
  if (empty.length > 0) {
    throw invalidRequest(empty.map((field) => ({
      field,
      message:
        "Has no token the model can read: only spaces, control or zero-width characters (the tokenizer removes them)",
    })));
  }
  return encoding;
}

/** The split a pinned request asks for (see `ClassifyInput.split`), or the policy's decision. */
function decideSplit(deps: ClassifierDeps, input: ClassifyInput): Promise<Decision> {
  const { policy, store, costs } = deps;
  const exitRule = input.earlyExit === false ? "never" : undefined;
  if (input.split !== undefined) {
    return Promise.resolve({
      arm: input.split,
      exitRule: exitRule ?? policy.config.exitRule,
      scores: [],
      reason: "fixed",
    });
  }
  return withSpan(SPAN.policyDecide, {}, (span) => {
    const d = policy.decide(store.state(), deps.prng, costs.costs());
    span.setAttributes({ [ATTR.splitLayer]: d.arm, "splitee.policy.reason": d.reason });
    return Promise.resolve(exitRule === undefined ? d : { ...d, exitRule });
  });
}

async function run(deps: ClassifierDeps, input: ClassifyInput, encoding: Encoding): Promise<Classification> {
  const { manifest, runner, policy, store, costs } = deps;
  const now = deps.now ?? (() => performance.now());
  const L = manifest.layers;
  // A pinned request is answered but teaches nothing: the client chose its split (docs/policy.md, "Pinned requests").
  const pinned = input.split !== undefined || input.earlyExit === false;
  const learn = !pinned;
  const decision = await decideSplit(deps, input);

  const batch = padBatch([encoding]);
  const tokens = encoding.inputIds.length;
  const edge = await withSpan(
    SPAN.edgeLayers,
    { [ATTR.splitLayer]: decision.arm, [ATTR.tokens]: tokens },
    async (span) => {
      const t0 = now();
      let hidden = await runner.embed(batch.inputIds, batch.tokenTypeIds);
      let edgeMs = now() - t0;
      let layerMs = 0;
      let logits: Float32Array = new Float32Array(0);
      let action: "exit" | "offload" = "exit";
      let last = 0;
      const confidences: number[] = [];
      for (let k = 1; k <= decision.arm; k++) {
        const t = now();
        const out = await runner.layer(k, hidden, batch.attentionMask);
        const ms = now() - t;
        edgeMs += ms;
        layerMs += ms;
        hidden = out.hidden;
        logits = out.logits.data;
        confidences.push(confidence(softmax(logits)));
        last = k;
        const next = nextAction(decision, k, confidences[k - 1]!, policy.config);
        if (next !== "continue") {
          action = next;
          break;
        }
      }
      span.setAttribute(ATTR.layersRun, last);
      return { hidden, logits, action, last, confidences, edgeMs, layerMs };
    },
  );
  const { confidences, last, action } = edge;
  let edgeMs = edge.edgeMs;
  let exitLogits: Float32Array = edge.logits;
  if (learn) costs.recordEdge(edge.layerMs / Math.max(1, last));

  let answeredBy: "edge" | "gateway" = "edge";
  let exitLayer = last;
  let finalConfidence: number | undefined = last === L ? confidences[L - 1] : undefined;
  let failure: OffloadError | undefined;
  let offload: OffloadResult | undefined;
  let observed = confidences;

  if (action === "offload") {
    const h = edge.hidden;
    try {
      offload = await deps.offload({ splitLayer: last, hidden: h.data, dims: [tokens, manifest.hiddenSize] });
      exitLogits = Float32Array.from(offload.logits);
      exitLayer = offload.exitLayer;
      answeredBy = "gateway";
      finalConfidence = confidence(softmax(exitLogits));
      if (learn) costs.recordOffload(offload.commMs, offload.gatewayMs);
    } catch (error) {
      failure = error instanceof OffloadError
        ? error
        : new OffloadError("unreachable", error instanceof Error ? error.message : String(error), 0);
      let extraMs = 0;
      if (deps.fallback === "edge-complete") {
        const t = now();
        let state = h;
        const full = [...confidences];
        for (let k = last + 1; k <= L; k++) {
          const out = await runner.layer(k, state, batch.attentionMask);
          state = out.hidden;
          exitLogits = out.logits.data;
          full.push(confidence(softmax(exitLogits)));
        }
        extraMs = now() - t;
        edgeMs += extraMs;
        exitLayer = L;
        finalConfidence = full[L - 1];
        observed = full;
      } else {
        finalConfidence = confidences[last - 1];
      }
      if (learn) costs.recordFailure(failure.elapsedMs + extraMs);
    }
  }

  const cost: CostPair = costs.observationCosts(failure !== undefined);
  let observation: Observation = { arm: decision.arm, confidences: observed, lambda: cost.lambda, o: cost.o };
  if (finalConfidence !== undefined) observation = { ...observation, finalConfidence };
  if (learn) {
    try {
      // Answers only once the update is within the store's loss bound (backpressure when KV commits are slow).
      await store.applyBounded((s) => policy.update(s, observation));
    } catch (error) {
      // The answer stands; a step the policy rejects (a bug, never bad input) must not fail the request.
      console.error("edge: policy update failed:", error instanceof Error ? error.message : error);
    }
  }

  const offloaded = action === "offload";
  if (learn) deps.recent.push({ splitLayer: decision.arm, offloaded, degraded: failure !== undefined });
  deps.log?.({
    arm: decision.arm,
    reason: pinned ? "pinned" : decision.reason,
    scores: decision.scores,
    observation,
    exitLayer,
    offloaded,
    degraded: failure !== undefined,
  });

  const probs = softmax(exitLogits);
  const labelIndex = argmax(probs);
  const labelOf = (i: number) => manifest.labels[i] ?? String(i);
  return {
    label: labelOf(labelIndex),
    labelIndex,
    probabilities: Array.from(probs),
    scores: Array.from(probs, (score, i) => ({ label: labelOf(i), score })),
    splitLayer: decision.arm,
    pinned,
    exitLayer,
    answeredBy,
    degraded: failure !== undefined,
    degradedReason: failure?.kind ?? null,
    exitConfidences: confidences,
    tokens,
    costs: {
      lambdaUnits: roundSignificant(cost.lambda * last + (offloaded ? cost.o : 0)),
      lambda: roundSignificant(cost.lambda),
      o: roundSignificant(cost.o),
      measured: {
        edgeMs: roundMs(edgeMs),
        commMs: offload ? roundMs(offload.commMs) : null,
        gatewayMs: offload ? roundMs(offload.gatewayMs) : null,
        payloadBytes: offload?.payloadBytes ?? null,
      },
    },
    traceId: null,
    modelId: manifest.id,
  };
}
