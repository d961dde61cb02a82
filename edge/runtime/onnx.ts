/**
 * The edge's ONNX runtime: onnxruntime-web (WASM). The only module that imports onnxruntime-web.
 *
 * - WASM binary: a vendored, gzip-compressed copy (`vendor/`, sha256 pinned below), read from disk and handed to
 *   onnxruntime-web as `env.wasm.wasmBinary`: no CDN, no fetch from node_modules, nothing written to disk, so it
 *   runs on Deno Deploy. The binary must match the JS glue's version exactly; init checks `env.versions.web`.
 * - "Deno looks like Node": Deno defines `process.versions.node`, and Deno resolves a bare `onnxruntime-web` import
 *   to the package's Node build (the `node` export condition), whose Emscripten glue then takes Node paths
 *   (`fs`, `worker_threads`, a dynamic import of the glue file from node_modules). With one thread we import the
 *   browser ESM bundle (`onnxruntime-web/wasm`), which inlines the glue and needs only the binary. Multi-threaded
 *   WASM cannot use that bundle under Deno (its workers import a `blob:` URL, which Deno rejects inside npm
 *   packages), so `numThreads > 1` deliberately uses the Node build and its `worker_threads` workers (local hosts
 *   only; Deno Deploy has neither threads nor the package's files).
 * - One memoised init per build, and one {@linkcode WasmLock} per build: every session creation, run and release of
 *   the process goes through it, because all sessions share one WASM heap and onnxruntime-web does not serialise
 *   across sessions (edge/runtime/wasm_lock.ts). A WebAssembly trap latches the lock: nothing runs on that instance
 *   again, and {@linkcode onWasmTrap} listeners are told so that the process can exit and be restarted.
 * - Sessions open lazily, so an edge that only runs a prefix never loads the rest.
 * @module
 */

import type * as OrtTypes from "onnxruntime-web/wasm";
import { type Manifest, verifyModelFile } from "../../shared/manifest.ts";
import type { ModelSource } from "../../shared/model_io.ts";
import {
  createSegmentRunner,
  type HostSession,
  type HostTensor,
  type LoadedSegmentRunner,
} from "../../shared/segments.ts";
import { WasmLock } from "./wasm_lock.ts";

export { isWasmTrap, WasmLock, WasmTrapError } from "./wasm_lock.ts";

type Ort = typeof OrtTypes;

/** onnxruntime-web version the vendored binary belongs to (deno.json pins the same). */
export const ORT_WEB_VERSION = "1.30.0";
/** The vendored binary: `gzip -9n < node_modules/onnxruntime-web/dist/ort-wasm-simd-threaded.wasm`. */
export const VENDORED_WASM = new URL("./vendor/ort-wasm-simd-threaded.wasm.gz", import.meta.url);
/** sha256 of the vendored `.gz` file (checked before use). */
export const VENDORED_WASM_GZ_SHA256 = "bf933930bc90cf4f613f36cdc41616b54cfd2e9930478b574aed6ed4ef9ff8ca";
/** sha256 of the decompressed binary: that of `onnxruntime-web@1.30.0/dist/ort-wasm-simd-threaded.wasm`. */
export const WASM_SHA256 = "3398c10d07d229bd91b364548e130e0e51a8e5704b88c7c083ebbeb78842dee2";
/** Size in bytes of the decompressed binary. */
export const WASM_BYTES = 14_239_897;

/** onnxruntime-web could not be initialised (wrong binary, version skew, conflicting settings). */
export class WasmRuntimeError extends Error {
  override readonly name = "WasmRuntimeError";
}

/** Options of {@linkcode initWasm}. */
export interface WasmInitOptions {
  /**
   * WASM threads. 1 uses the browser bundle (works on Deno Deploy); more uses the package's Node build with
   * `worker_threads` (local hosts only). Fixed per process once initialised. @default 1
   */
  numThreads?: number;
  /**
   * The uncompressed `ort-wasm-simd-threaded.wasm` of {@linkcode ORT_WEB_VERSION}, or a function returning it
   * (e.g. from bytes the deployment bundles). @default the vendored copy, sha256-checked ({@linkcode loadVendoredWasm})
   */
  wasmBinary?: Uint8Array | (() => Promise<Uint8Array>);
}

async function sha256(bytes: Uint8Array): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Reads the vendored binary, checks the pinned sha256 of the `.gz` and the decompressed size, and decompresses it.
 * @throws {WasmRuntimeError} when the file is missing or altered
 */
export async function loadVendoredWasm(): Promise<Uint8Array> {
  let gz: Uint8Array;
  try {
    gz = await Deno.readFile(VENDORED_WASM);
  } catch (e) {
    throw new WasmRuntimeError(`Cannot read the vendored ONNX Runtime WASM binary ${VENDORED_WASM.pathname}`, {
      cause: e,
    });
  }
  const actual = await sha256(gz);
  if (actual !== VENDORED_WASM_GZ_SHA256) {
    throw new WasmRuntimeError(
      `${VENDORED_WASM.pathname} has sha256 ${actual}, expected ${VENDORED_WASM_GZ_SHA256}; re-vendor it (see vendor/README.md)`,
    );
  }
  const stream = new Blob([gz as Uint8Array<ArrayBuffer>]).stream().pipeThrough(new DecompressionStream("gzip"));
  const wasm = new Uint8Array(await new Response(stream).arrayBuffer());
  if (wasm.length !== WASM_BYTES) {
    throw new WasmRuntimeError(
      `${VENDORED_WASM.pathname} decompressed to ${wasm.length} bytes, expected ${WASM_BYTES}`,
    );
  }
  return wasm;
}

interface Init {
  readonly threads: number;
  readonly ort: Promise<Ort>;
}
const inits: { bundle?: Init; node?: Init } = {};
/** One lock per WASM instance (the single-threaded bundle and the threaded Node build are separate instances). */
const locks = { bundle: new WasmLock(), node: new WasmLock() } as const;

/** The lock of the WASM instance that `numThreads` selects (see {@linkcode WasmLock}). */
export function wasmLock(numThreads = 1): WasmLock {
  return numThreads === 1 ? locks.bundle : locks.node;
}

/**
 * Calls `listener` once when either WASM instance of the process traps (its heap may be corrupt and it will not run
 * again). Returns a function that unsubscribes.
 */
export function onWasmTrap(listener: (error: unknown) => void): () => void {
  const offs = [locks.bundle.onTrap(listener), locks.node.onTrap(listener)];
  return () => offs.forEach((off) => off());
}

async function setUp(importOrt: () => Promise<Ort>, numThreads: number, binary: WasmInitOptions["wasmBinary"]) {
  const ort = await importOrt();
  const web = ort.env.versions.web;
  if (web !== ORT_WEB_VERSION) {
    throw new WasmRuntimeError(
      `onnxruntime-web is ${web} but the vendored WASM binary is ${ORT_WEB_VERSION}; re-vendor it (see vendor/README.md)`,
    );
  }
  const wasm = binary === undefined ? await loadVendoredWasm() : binary instanceof Uint8Array ? binary : await binary();
  ort.env.wasm.wasmBinary = wasm;
  ort.env.wasm.numThreads = numThreads;
  ort.env.wasm.proxy = false;
  ort.env.logLevel = "error";
  return ort;
}

/**
 * Initialises onnxruntime-web once per build (memoised; later calls return the same promise). A failed init is
 * forgotten so that a later call can retry.
 * @throws {WasmRuntimeError} when called again with a different thread count, or on binary/version trouble
 */
export function initWasm(options: WasmInitOptions = {}): Promise<Ort> {
  const { numThreads = 1, wasmBinary } = options;
  if (!Number.isInteger(numThreads) || numThreads < 1) {
    return Promise.reject(new WasmRuntimeError(`numThreads must be a positive integer, got ${numThreads}`));
  }
  const key = numThreads === 1 ? "bundle" : "node";
  const existing = inits[key];
  if (existing !== undefined) {
    if (existing.threads !== numThreads) {
      return Promise.reject(
        new WasmRuntimeError(
          `onnxruntime-web already runs with ${existing.threads} threads; cannot switch to ${numThreads}`,
        ),
      );
    }
    return existing.ort;
  }
  const importOrt = key === "bundle"
    ? () => import("onnxruntime-web/wasm")
    : () => import("onnxruntime-web") as Promise<Ort>;
  const ort = setUp(importOrt, numThreads, wasmBinary);
  inits[key] = { threads: numThreads, ort };
  ort.catch(() => {
    if (inits[key]?.ort === ort) delete inits[key];
  });
  return ort;
}

/** Options of {@linkcode loadWebRunner}. */
export interface WebRunnerOptions extends WasmInitOptions {
  /** onnxruntime graph optimisation level. @default "all" */
  graphOptimizationLevel?: "disabled" | "basic" | "extended" | "all";
  /** Check each file against the manifest's sha256 before opening it. @default true */
  verify?: boolean;
  /** Open these sessions now (`"all"`, or layer numbers; the embedding is always included). @default none (lazy) */
  preload?: "all" | readonly number[];
  /**
   * onnxruntime's CPU memory arena (`enableCpuMemArena`) inside the WASM heap: a per-session pool that keeps the
   * high-water mark of every session's tensors. The WASM heap never shrinks, so with 13 sessions per model the pools
   * add up (docs/benchmarks.md, "Edge memory").
   * @default true (onnxruntime's default)
   */
  cpuMemArena?: boolean;
  /** onnxruntime's memory pattern (`enableMemPattern`): a planned block per input shape set, cached per session. @default true */
  memPattern?: boolean;
}

function toOrt(ort: Ort, t: HostTensor): OrtTypes.Tensor {
  return t.dtype === "float32"
    ? new ort.Tensor("float32", t.data, t.dims as number[])
    : new ort.Tensor("int64", t.data, t.dims as number[]);
}

function fromOrt(name: string, t: OrtTypes.Tensor): HostTensor {
  if (t.type === "float32") return { dtype: "float32", dims: [...t.dims], data: t.data as Float32Array };
  if (t.type === "int64") return { dtype: "int64", dims: [...t.dims], data: t.data as BigInt64Array };
  throw new WasmRuntimeError(`output ${name} has dtype ${t.type}, which the host tensors do not support`);
}

/**
 * Loads a model for onnxruntime-web. Reads files through `model.files`, so a deployment can bundle the bytes.
 * @example
 * ```ts
 * const runner = await loadWebRunner({ manifest, files: (name) => Deno.readFile(`models/sentiment/${name}`) });
 * const hidden = await runner.embed(batch.inputIds, batch.tokenTypeIds);
 * ```
 */
export async function loadWebRunner(model: ModelSource, options: WebRunnerOptions = {}): Promise<LoadedSegmentRunner> {
  const { graphOptimizationLevel = "all", verify = true, preload, cpuMemArena = true, memPattern = true } = options;
  const ort = await initWasm(options);
  const lock = wasmLock(options.numThreads);
  const manifest: Manifest = model.manifest;
  const open = async (file: string): Promise<HostSession> => {
    // Read, check and create under the lock: a reader may hand out one reused buffer (edge/runtime/scratch_reader.ts).
    const session = await lock.exclusive(async () => {
      const bytes = await model.files(file);
      if (verify) await verifyModelFile(manifest, file, bytes);
      return await ort.InferenceSession.create(bytes, {
        executionProviders: ["wasm"],
        graphOptimizationLevel,
        enableCpuMemArena: cpuMemArena,
        enableMemPattern: memPattern,
      });
    });
    return {
      inputNames: session.inputNames,
      outputNames: session.outputNames,
      run(feeds) {
        return lock.exclusive(async () => {
          const ortFeeds: Record<string, OrtTypes.Tensor> = {};
          for (const [name, t] of Object.entries(feeds)) ortFeeds[name] = toOrt(ort, t);
          const out = await session.run(ortFeeds);
          const result: Record<string, HostTensor> = {};
          for (const [name, t] of Object.entries(out)) result[name] = fromOrt(name, t);
          return result;
        });
      },
      // A trapped instance is never touched again, not even to free a session.
      release: () => lock.trapped ? Promise.resolve() : lock.exclusive(() => session.release()),
    };
  };
  const runner = createSegmentRunner(manifest, open, { serializeRuns: true });
  if (preload !== undefined) await runner.preload(preload === "all" ? undefined : preload);
  return runner;
}
