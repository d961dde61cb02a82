/**
 * The gateway's ONNX runtime: onnxruntime-node (native). The only module that imports onnxruntime-node.
 *
 * Works under Deno without the package's postinstall script: the CPU binaries ship inside the npm package
 * (`bin/napi-v6/<os>/<arch>/`), Deno loads the N-API addon. The CUDA execution provider is NOT in the package: its
 * postinstall downloads it from NuGet on linux/x64, and Deno does not run lifecycle scripts unless allowed, so a
 * request for "cuda" without it fails with {@linkcode CudaUnavailableError} (its message says how to install it).
 * Native sessions are thread-safe, so runs are not queued.
 * @module
 */

import * as ort from "onnxruntime-node";
import { type Manifest, parseManifest, verifyModelFile } from "../../shared/manifest.ts";
import type { ModelSource } from "../../shared/model_io.ts";
import {
  createSegmentRunner,
  type HostSession,
  type HostTensor,
  type LoadedSegmentRunner,
} from "../../shared/segments.ts";

/** How to get the CUDA provider for onnxruntime-node on a GPU host (linux/x64, CUDA 12 + cuDNN 9). */
export const CUDA_INSTALL_HINT =
  "install the CUDA 12 provider libraries into node_modules/onnxruntime-node/bin/napi-v6/linux/x64/ with " +
  "`ONNXRUNTIME_NODE_INSTALL=cuda12 deno install --allow-scripts=npm:onnxruntime-node` " +
  "(or `node node_modules/onnxruntime-node/script/install.js --onnxruntime-node-install=cuda12`), " +
  "and make sure CUDA 12 and cuDNN 9 runtime libraries are on the library path";

/** The CUDA execution provider was requested but could not be loaded. */
export class CudaUnavailableError extends Error {
  override readonly name = "CudaUnavailableError";
}

/** Options of {@linkcode loadNodeRunner}. */
export interface NodeRunnerOptions {
  /** Where sessions run. @default "cpu" */
  executionProvider?: "cpu" | "cuda";
  /** CUDA device ordinal (with `executionProvider: "cuda"`). @default 0 */
  deviceId?: number;
  /** Threads per session for one operator. @default onnxruntime's choice (one per physical core) */
  intraOpThreads?: number;
  /**
   * onnxruntime's CPU memory arena (`enableCpuMemArena`): a per-session pool that keeps freed blocks for reuse and
   * grows by doubling chunks; it never returns memory to the system, so resident memory climbs to the high-water
   * mark of the shapes seen (docs/reliability.md, "Soak RSS"). `false` allocates each tensor with malloc.
   * @default true (onnxruntime's default)
   */
  cpuMemArena?: boolean;
  /**
   * onnxruntime's memory pattern (`enableMemPattern`): plans one block per distinct set of input shapes and caches
   * the plan (per session, per shape set).
   * @default true (onnxruntime's default)
   */
  memPattern?: boolean;
  /** onnxruntime graph optimisation level. @default "all" */
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  /** Check each file against the manifest's sha256 before opening it. @default true */
  verify?: boolean;
  /** Open these sessions now (`"all"`, or layer numbers; the embedding is always included). @default none (lazy) */
  preload?: "all" | readonly number[];
}

/**
 * Reads `<dir>/manifest.json` and validates it; the files come from the same directory.
 * @throws {ManifestError} on an invalid manifest, or the file system's error when it cannot be read
 */
export async function readModelDir(dir: string): Promise<ModelSource> {
  const base = dir.endsWith("/") ? dir : `${dir}/`;
  const manifest = parseManifest(JSON.parse(await Deno.readTextFile(`${base}manifest.json`)));
  return { manifest, files: (name) => Deno.readFile(`${base}${name}`) };
}

function toOrt(t: HostTensor): ort.Tensor {
  return t.dtype === "float32"
    ? new ort.Tensor("float32", t.data, t.dims as number[])
    : new ort.Tensor("int64", t.data, t.dims as number[]);
}

function fromOrt(name: string, t: ort.Tensor): HostTensor {
  if (t.type === "float32") return { dtype: "float32", dims: [...t.dims], data: t.data as Float32Array };
  if (t.type === "int64") return { dtype: "int64", dims: [...t.dims], data: t.data as BigInt64Array };
  throw new TypeError(`output ${name} has dtype ${t.type}, which the host tensors do not support`);
}

async function createSession(
  bytes: Uint8Array,
  file: string,
  options: NodeRunnerOptions,
): Promise<ort.InferenceSession> {
  const {
    executionProvider = "cpu",
    deviceId = 0,
    intraOpThreads,
    graphOptimizationLevel = "all",
    cpuMemArena = true,
    memPattern = true,
  } = options;
  const sessionOptions: ort.InferenceSession.SessionOptions = {
    graphOptimizationLevel,
    enableCpuMemArena: cpuMemArena,
    enableMemPattern: memPattern,
    executionProviders: executionProvider === "cuda" ? [{ name: "cuda", deviceId }] : ["cpu"],
    ...(intraOpThreads === undefined ? {} : { intraOpNumThreads: intraOpThreads }),
  };
  try {
    return await ort.InferenceSession.create(bytes, sessionOptions);
  } catch (e) {
    if (executionProvider !== "cuda") throw e;
    const why = e instanceof Error ? e.message : String(e);
    throw new CudaUnavailableError(
      `Cannot open ${file} on the CUDA execution provider (${why.split("\n")[0]}); to use a GPU, ${CUDA_INSTALL_HINT}`,
      { cause: e },
    );
  }
}

/**
 * Loads a model for onnxruntime-node from a model directory (reads and validates its manifest) or a {@linkcode ModelSource}.
 * @throws {CudaUnavailableError} when "cuda" is requested and the provider cannot be loaded (on the first session)
 * @example
 * ```ts
 * const runner = await loadNodeRunner("models/sentiment", { preload: "all" });
 * const logits = await runAllExits(runner, padBatch(samples));
 * ```
 */
export async function loadNodeRunner(
  model: string | ModelSource,
  options: NodeRunnerOptions = {},
): Promise<LoadedSegmentRunner> {
  const { verify = true, preload, intraOpThreads } = options;
  if (intraOpThreads !== undefined && (!Number.isInteger(intraOpThreads) || intraOpThreads < 1)) {
    throw new RangeError(`intraOpThreads must be a positive integer, got ${intraOpThreads}`);
  }
  const source = typeof model === "string" ? await readModelDir(model) : model;
  const manifest: Manifest = source.manifest;
  const open = async (file: string): Promise<HostSession> => {
    const bytes = await source.files(file);
    if (verify) await verifyModelFile(manifest, file, bytes);
    const session = await createSession(bytes, file, options);
    return {
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      async run(feeds) {
        const ortFeeds: Record<string, ort.Tensor> = {};
        for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrt(t);
        const out = await session.run(ortFeeds);
        const result: Record<string, HostTensor> = {};
        for (const [name, t] of Object.entries(out)) result[name] = fromOrt(name, t);
        return result;
      },
      release: () => session.release(),
    };
  };
  const runner = createSegmentRunner(manifest, open, { serializeRuns: false });
  // With a GPU requested, open the embedding now so a missing provider fails at load time, not on the first request.
  if (preload !== undefined) await runner.preload(preload === "all" ? undefined : preload);
  else if (options.executionProvider === "cuda") await runner.preload([]);
  return runner;
}
