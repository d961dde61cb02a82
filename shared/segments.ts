/**
 * The runtime-independent half of a {@linkcode SegmentRunner}: one lazily opened session per segment file, an
 * optional per-session run queue, feed names from the manifest, and shape checks on every input and output.
 * A runtime (edge/runtime/onnx.ts, gateway/runtime/onnx.ts) only supplies `open(file)`, adapting its sessions to
 * {@linkcode HostSession}. Runtime-free.
 * @module
 */

import type { Manifest } from "./manifest.ts";
import type { Float32Tensor, Int64Tensor, LayerOutput, SegmentRunner } from "./tensor.ts";

/** A host tensor of the closed dtype set. */
export type HostTensor = Float32Tensor | Int64Tensor;

/** The narrow view of one inference session a runtime adapter provides. */
export interface HostSession {
  readonly inputNames: readonly string[];
  readonly outputNames: readonly string[];
  run(feeds: Readonly<Record<string, HostTensor>>): Promise<Record<string, HostTensor>>;
  release(): Promise<void>;
}

/** Options of {@linkcode createSegmentRunner}. */
export interface SegmentRunnerOptions {
  /**
   * Runs one call at a time per session (needed for onnxruntime-web, where a concurrent `run` on one session throws
   * "Session already started"). @default true
   */
  serializeRuns?: boolean;
}

/** A {@linkcode SegmentRunner} that can also open its sessions ahead of the first request. */
export interface LoadedSegmentRunner extends SegmentRunner {
  readonly manifest: Manifest;
  /** Opens the sessions of the embedding and of `layers` (default: all) now rather than on first use. */
  preload(layers?: readonly number[]): Promise<void>;
}

/** An input or output that does not fit the model (wrong rank, size or dtype). */
export class SegmentShapeError extends RangeError {
  override readonly name = "SegmentShapeError";
}

class RunQueue {
  #tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.#tail.then(fn);
    this.#tail = next.catch(() => undefined);
    return next;
  }
  idle(): Promise<unknown> {
    return this.#tail;
  }
}

interface Entry {
  readonly session: Promise<HostSession>;
  readonly queue: RunQueue;
}

const shape = (dims: readonly number[]) => `[${dims.join(",")}]`;

function checkBT(
  what: string,
  t: HostTensor,
  dtype: HostTensor["dtype"],
  match?: { name: string; b: number; t: number },
): [number, number] {
  const [db, dt] = t.dims;
  if (t.dtype !== dtype || t.dims.length !== 2 || db === undefined || dt === undefined || db < 1 || dt < 1) {
    throw new SegmentShapeError(`${what} must be a non-empty ${dtype} [B,T] tensor, got ${t.dtype} ${shape(t.dims)}`);
  }
  if (match !== undefined && (db !== match.b || dt !== match.t)) {
    throw new SegmentShapeError(`${what} is ${shape(t.dims)} but ${match.name} needs [${match.b},${match.t}]`);
  }
  return [db, dt];
}

function output(out: Record<string, HostTensor>, name: string, file: string, dims: readonly number[]): Float32Tensor {
  const t = out[name];
  if (
    t === undefined || t.dtype !== "float32" || t.dims.length !== dims.length || t.dims.some((d, i) => d !== dims[i])
  ) {
    const got = t === undefined ? "nothing" : `${t.dtype} ${shape(t.dims)}`;
    throw new SegmentShapeError(`${file} output ${name} should be float32 ${shape(dims)}, got ${got}`);
  }
  return t;
}

/**
 * Builds a runner over `open`, which turns a segment file name into a session. Sessions open on first use (or on
 * `preload`); a session that fails to open is retried on the next call.
 */
export function createSegmentRunner(
  manifest: Manifest,
  open: (file: string) => Promise<HostSession>,
  options: SegmentRunnerOptions = {},
): LoadedSegmentRunner {
  const { serializeRuns = true } = options;
  const entries = new Map<string, Entry>();
  let disposed = false;
  const d = manifest.hiddenSize;
  const c = manifest.labels.length;

  function entry(file: string, inputs: readonly string[], outputs: readonly string[]): Entry {
    if (disposed) throw new Error(`Model ${manifest.id}: runner is disposed`);
    let e = entries.get(file);
    if (e === undefined) {
      const session = open(file).then((s) => {
        const missing = [
          ...inputs.filter((n) => !s.inputNames.includes(n)),
          ...outputs.filter((n) => !s.outputNames.includes(n)),
        ];
        if (missing.length > 0) {
          void s.release();
          throw new SegmentShapeError(
            `${file} lacks ${missing.join(", ")} (it has inputs ${s.inputNames.join(", ")}; outputs ${
              s.outputNames.join(", ")
            })`,
          );
        }
        return s;
      });
      session.catch(() => entries.delete(file));
      e = { session, queue: new RunQueue() };
      entries.set(file, e);
    }
    return e;
  }

  async function run(e: Entry, feeds: Record<string, HostTensor>): Promise<Record<string, HostTensor>> {
    const s = await e.session;
    return serializeRuns ? e.queue.run(() => s.run(feeds)) : s.run(feeds);
  }

  function segment(k: number) {
    const s = Number.isInteger(k) ? manifest.segments[k - 1] : undefined;
    if (s === undefined) throw new RangeError(`Model ${manifest.id} has layers 1..${manifest.layers}, not ${k}`);
    return s;
  }

  return {
    manifest,
    layers: manifest.layers,
    async embed(inputIds: Int64Tensor, tokenTypeIds: Int64Tensor): Promise<Float32Tensor> {
      const [b, t] = checkBT("input_ids", inputIds, "int64");
      checkBT("token_type_ids", tokenTypeIds, "int64", { name: "input_ids", b, t });
      const { file, inputs, outputs } = manifest.embed;
      const out = await run(entry(file, inputs, outputs), { [inputs[0]]: inputIds, [inputs[1]]: tokenTypeIds });
      return output(out, outputs[0], file, [b, t, d]);
    },
    async layer(k: number, hidden: Float32Tensor, attentionMask: Float32Tensor): Promise<LayerOutput> {
      const { file, inputs, outputs } = segment(k);
      const [b, t, hd] = hidden.dims;
      if (hidden.dtype !== "float32" || hidden.dims.length !== 3 || hd !== d || !b || !t) {
        throw new SegmentShapeError(
          `hidden must be a float32 [B,T,${d}] tensor, got ${hidden.dtype} ${shape(hidden.dims)}`,
        );
      }
      checkBT("attention_mask", attentionMask, "float32", { name: "the hidden state", b, t });
      const out = await run(entry(file, inputs, outputs), { [inputs[0]]: hidden, [inputs[1]]: attentionMask });
      return { hidden: output(out, outputs[0], file, [b, t, d]), logits: output(out, outputs[1], file, [b, c]) };
    },
    async preload(layers?: readonly number[]): Promise<void> {
      const ks = layers ?? manifest.segments.map((s) => s.layer);
      const { file, inputs, outputs } = manifest.embed;
      await Promise.all([
        entry(file, inputs, outputs).session,
        ...ks.map((k) => segment(k)).map((s) => entry(s.file, s.inputs, s.outputs).session),
      ]);
    },
    async dispose(): Promise<void> {
      disposed = true;
      const all = [...entries.values()];
      entries.clear();
      await Promise.all(all.map(async (e) => {
        await e.queue.idle();
        const s = await e.session.catch(() => undefined);
        await s?.release();
      }));
    },
  };
}
