/**
 * Reads model files through one reused buffer. `Deno.readFile` allocates a fresh buffer per file; onnxruntime-web
 * copies the bytes into its WASM heap anyway, and the freed buffers of a few 30 MB layer files are not given back to
 * the operating system, so a BERT-base edge holding 4 layers kept about 60 MB of dead file buffers per layer
 * (docs/benchmarks.md, "Bring your own BERT"). With one grow-only scratch buffer the edge's resident memory holds the
 * largest file once.
 *
 * Contract: the bytes a call returns are valid only until the next call on the same reader. edge/runtime/onnx.ts
 * reads, verifies and creates each session inside its one WASM lock, so no two reads overlap.
 * @module
 */

/** Returns a reader of the files under `dir` (a path or `file:` URL) that reuses one buffer for every file. */
export function scratchReader(dir: string | URL): (name: string) => Promise<Uint8Array> {
  let scratch = new Uint8Array(0);
  const base = typeof dir === "string" ? dir.replace(/\/+$/, "") + "/" : dir;
  return async (name: string) => {
    const path = typeof base === "string" ? base + name : new URL(name, base);
    using file = await Deno.open(path, { read: true });
    const size = (await file.stat()).size;
    if (scratch.length < size) scratch = new Uint8Array(size);
    let offset = 0;
    while (offset < size) {
      const n = await file.read(scratch.subarray(offset, size));
      if (n === null) break;
      offset += n;
    }
    if (offset !== size) throw new Error(`${String(path)}: read ${offset} of ${size} bytes`);
    return scratch.subarray(0, size);
  };
}
