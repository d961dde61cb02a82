/**
 * OpenTelemetry span and attribute names shared by the edge, the gateway and `deno task traces` (names only: the
 * tracer lives in each service). Attribute values: layers and bytes are integers, `*_ms` are float milliseconds.
 * @module
 */

/** Span names. */
export const SPAN = {
  /** Edge: one classify request, root of the edge's work (attributes: offloaded, split/exit layer, model). */
  classify: "splitee.classify",
  /** Edge: embedding and layers 1..i. */
  edgeLayers: "splitee.edge.layers",
  /** Edge: the policy choosing i. */
  policyDecide: "splitee.policy.decide",
  /** Edge: packing and msgpack-encoding the hidden state. */
  encode: "splitee.wire.encode",
  /** Edge: the offload call to the gateway (attributes: payload bytes, round trip, gateway compute, comm ms). */
  offload: "splitee.offload",
  /** Gateway: layers i+1..L. */
  gatewayLayers: "splitee.gateway.layers",
} as const;

/** Attribute names. */
export const ATTR = {
  modelId: "splitee.model.id",
  modelVersion: "splitee.model.version",
  /** Last layer run on the edge (i). */
  splitLayer: "splitee.split_layer",
  /** Layer whose exit answered. */
  exitLayer: "splitee.exit_layer",
  /** Layers run by this span's service. */
  layersRun: "splitee.layers_run",
  /** Whether the request was offloaded to the gateway. */
  offloaded: "splitee.offloaded",
  /** Who answered: "edge" or "gateway". */
  answeredBy: "splitee.answered_by",
  /** Whether the answer was degraded by a gateway fault. */
  degraded: "splitee.degraded",
  /** Real tokens T. */
  tokens: "splitee.tokens",
  /** Wire dtype of the hidden state. */
  dtype: "splitee.wire.dtype",
  /** Request body bytes sent by the edge / received by the gateway. */
  payloadBytes: "splitee.payload_bytes",
  /** Response body bytes. */
  responseBytes: "splitee.response_bytes",
  /** Edge-measured round trip of the offload call. */
  roundTripMs: "splitee.rtt_ms",
  /** Gateway compute time (reported in the response, or measured on the gateway). */
  computeMs: "splitee.compute_ms",
  /** Communication cost of an offload: round trip minus the gateway's compute time. */
  commMs: "splitee.comm_ms",
  /** Final confidence seen by the policy. */
  confidence: "splitee.confidence",
} as const;
