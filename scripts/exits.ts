/**
 * `deno task exits`: per-exit class probabilities of a multi-exit model for every row of a TSV file, one JSON line per
 * row, in input order: `{"label": <int|null>, "probs": [[p_1..p_C] for exit 1..L]}` (docs/ARCHITECTURE.md).
 *
 * Streams the input (`.gz` decompressed on the fly), tokenizes with the model's vocabulary and manifest settings,
 * runs onnxruntime-node on chunks of rows sorted by length and padded into batches of at most `--batch-tokens` tokens,
 * and writes `<out>.partial`, renamed to `<out>` on success. Exit codes: 0 done, 2 bad arguments or input, 1 other.
 * @module
 */

import { parseArgs } from "node:util";
import { loadNodeRunner, readModelDir } from "../gateway/runtime/onnx.ts";
import type { Manifest } from "../shared/manifest.ts";
import { softmax } from "../shared/math.ts";
import { type EncodedSample, padBatch, rowsOf, runAllExits } from "../shared/model_io.ts";
import type { SegmentRunner } from "../shared/tensor.ts";
import { WordPieceTokenizer } from "../shared/tokenizer/mod.ts";

const USAGE =
  `Usage: deno task exits --model <dir> --input <file.tsv|file.tsv.gz> --text <column> [--text-pair <column>]
       [--label <column>] --out <file.jsonl> [--limit N] [--batch-tokens N] [--chunk N] [--threads N]

  --model         model directory (manifest.json, vocab, ONNX segments)
  --input         TSV with a header row and no quoting; .gz is decompressed
  --text          column holding the text (the first text of a pair)
  --text-pair     column holding the second text (pair models)
  --label         column holding integer labels in the manifest's label order (empty cell: null)
  --out           output JSONL, one line per input row, in input order
  --limit         stop after N rows                                    (default: all)
  --batch-tokens  most padded tokens per onnxruntime call               (default: 1024)
  --chunk         rows read, sorted by length and batched at a time     (default: 1024)
  --threads       onnxruntime intra-op threads                          (default: onnxruntime's choice)`;

/** Bad arguments or input: reported as one line on stderr with exit code 2. */
export class InputError extends Error {
  override readonly name = "InputError";
  /** Whether the usage text helps (a bad or missing argument rather than bad data). */
  readonly showUsage: boolean;
  constructor(message: string, showUsage = false) {
    super(message);
    this.showUsage = showUsage;
  }
}

interface Options {
  model: string;
  input: string;
  text: string;
  textPair: string | undefined;
  label: string | undefined;
  out: string;
  limit: number;
  batchTokens: number;
  chunk: number;
  threads: number | undefined;
}

function positive(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) {
    throw new InputError(`--${name} must be a positive integer, got "${value}"`, true);
  }
  return n;
}

function parseOptions(args: string[]): Options {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      strict: true,
      allowPositionals: false,
      options: Object.fromEntries(
        ["model", "input", "text", "text-pair", "label", "out", "limit", "batch-tokens", "chunk", "threads"].map((
          k,
        ) => [k, { type: "string" as const }]),
      ),
    }));
  } catch (e) {
    throw new InputError((e as Error).message, true);
  }
  const get = (k: string) => values[k] as string | undefined;
  const missing = ["model", "input", "text", "out"].filter((k) => get(k) === undefined);
  if (missing.length > 0) throw new InputError(`missing ${missing.map((k) => `--${k}`).join(", ")}`, true);
  return {
    model: get("model")!,
    input: get("input")!,
    text: get("text")!,
    textPair: get("text-pair"),
    label: get("label"),
    out: get("out")!,
    limit: positive("limit", get("limit"), Number.MAX_SAFE_INTEGER),
    batchTokens: positive("batch-tokens", get("batch-tokens"), 1024),
    chunk: positive("chunk", get("chunk"), 1024),
    threads: get("threads") === undefined ? undefined : positive("threads", get("threads"), 1),
  };
}

async function openBytes(path: string): Promise<ReadableStream<Uint8Array>> {
  let file: Deno.FsFile;
  try {
    file = await Deno.open(path);
    if (!(await file.stat()).isFile) {
      file.close();
      throw new InputError(`cannot read --input ${path}: not a file`);
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read --input ${path}: ${(e as Error).message}`);
  }
  return path.endsWith(".gz") ? file.readable.pipeThrough(new DecompressionStream("gzip")) : file.readable;
}

/** Lines of a UTF-8 stream (without `\n` / `\r\n`); read errors become an {@linkcode InputError}. */
async function* readLines(path: string): AsyncGenerator<string> {
  const stream = (await openBytes(path)).pipeThrough(new TextDecoderStream());
  let rest = "";
  try {
    for await (const piece of stream) {
      const parts = (rest + piece).split("\n");
      rest = parts.pop()!;
      for (const line of parts) yield line.endsWith("\r") ? line.slice(0, -1) : line;
    }
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read --input ${path}: ${(e as Error).message}`);
  }
  if (rest.length > 0) yield rest.endsWith("\r") ? rest.slice(0, -1) : rest;
}

/** Counts data rows (non-empty lines after the header) for the ETA: one streaming pass, constant memory. */
async function countRows(path: string): Promise<number> {
  let n = -1;
  for await (const line of readLines(path)) if (line.length > 0) n++;
  return Math.max(n, 0);
}

interface Row {
  readonly text: string;
  readonly pair: string | undefined;
  readonly label: number | null;
}

/** Rows of the TSV as named by the options; a missing column or a malformed row is an {@linkcode InputError}. */
async function* readRows(o: Options, labels: number): AsyncGenerator<Row> {
  let header: string[] | undefined;
  let cols = { text: -1, pair: -1, label: -1 };
  let lineNo = 0;
  for await (const raw of readLines(o.input)) {
    lineNo++;
    if (header === undefined) {
      header = raw.replace(/^\uFEFF/, "").split("\t");
      const find = (flag: string, name: string | undefined) => {
        if (name === undefined) return -1;
        const i = header!.indexOf(name);
        if (i < 0) {
          throw new InputError(`${o.input} has no column "${name}" (${flag}); its columns: ${header!.join(", ")}`);
        }
        return i;
      };
      cols = { text: find("--text", o.text), pair: find("--text-pair", o.textPair), label: find("--label", o.label) };
      continue;
    }
    if (raw.length === 0) continue;
    const fields = raw.split("\t");
    if (fields.length !== header.length) {
      throw new InputError(`${o.input} line ${lineNo} has ${fields.length} fields but the header has ${header.length}`);
    }
    let label: number | null = null;
    if (cols.label >= 0 && fields[cols.label] !== "") {
      const cell = fields[cols.label]!;
      label = Number(cell);
      if (!/^\d+$/.test(cell) || label >= labels) {
        throw new InputError(`${o.input} line ${lineNo}: label "${cell}" is not an integer in 0..${labels - 1}`);
      }
    }
    yield { text: fields[cols.text]!, pair: cols.pair >= 0 ? fields[cols.pair] : undefined, label };
  }
  if (header === undefined) throw new InputError(`${o.input} is empty (no header row)`);
}

/** Tokenizer settings from the manifest; settings the TypeScript tokenizer cannot honour are an InputError. */
function makeEncoder(
  manifest: Manifest,
  vocabText: string,
  o: Options,
): { encode: (row: Row) => EncodedSample; padId: number } {
  const t = manifest.tokenizer;
  const sp = t.specialTokens;
  if (!t.lowercase || !t.stripAccents || !t.htmlLineBreaks) {
    throw new InputError(
      `model ${manifest.id}: the tokenizer supports lowercase, stripAccents and htmlLineBreaks only`,
    );
  }
  if (sp.pad !== "[PAD]" || sp.unk !== "[UNK]" || sp.cls !== "[CLS]" || sp.sep !== "[SEP]") {
    throw new InputError(`model ${manifest.id}: unsupported special tokens ${JSON.stringify(sp)}`);
  }
  if ((manifest.task === "pair") !== (o.textPair !== undefined)) {
    throw new InputError(
      manifest.task === "pair"
        ? `model ${manifest.id} takes text pairs: give --text-pair`
        : `model ${manifest.id} takes single texts: drop --text-pair`,
    );
  }
  // A single text truncated longest-first keeps its head: head+tail with every piece in the head.
  const headTokens = t.truncation === "head+tail" ? t.headTokens : manifest.maxLength - 2;
  const tokenizer = new WordPieceTokenizer(vocabText, { maxLength: manifest.maxLength, headTokens });
  return { encode: (row) => tokenizer.encode(row.text, row.pair), padId: tokenizer.padId };
}

const round = (p: number) => Number(p.toPrecision(6));

/** Runs one chunk: sorted by length, batched under `batchTokens`, lines returned in the chunk's order. */
async function runChunk(
  runner: SegmentRunner,
  samples: readonly EncodedSample[],
  rows: readonly Row[],
  batchTokens: number,
  padId: number,
): Promise<string> {
  const order = samples.map((_, i) => i).sort((a, b) => samples[a]!.inputIds.length - samples[b]!.inputIds.length);
  const probs: number[][][] = new Array(samples.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && (end - start + 1) * samples[order[end]!]!.inputIds.length <= batchTokens) end++;
    const idx = order.slice(start, end);
    const logits = await runAllExits(runner, padBatch(idx.map((i) => samples[i]!), { padId }));
    const perExit = logits.map(rowsOf);
    idx.forEach((i, r) => (probs[i] = perExit.map((rowsOfExit) => Array.from(softmax(rowsOfExit[r]!), round))));
    start = end;
  }
  return rows.map((row, i) => JSON.stringify({ label: row.label, probs: probs[i] }) + "\n").join("");
}

function progress(done: number, total: number | undefined, started: number, final = false): string {
  const s = (performance.now() - started) / 1000;
  const rate = done / Math.max(s, 1e-9);
  const n = (x: number) => x.toLocaleString("en-US");
  if (final) return `exits: wrote ${n(done)} rows in ${s.toFixed(1)}s (${rate.toFixed(0)} rows/s)`;
  if (total === undefined) return `exits: ${n(done)} rows, ${rate.toFixed(0)} rows/s`;
  const eta = rate > 0 ? `ETA ${Math.ceil((total - done) / rate)}s` : "ETA ?";
  return `exits: ${n(done)}/${n(total)} rows (${((100 * done) / Math.max(total, 1)).toFixed(1)}%), ` +
    `${rate.toFixed(0)} rows/s, ${eta}`;
}

/**
 * The CLI without process exit: returns the number of rows written. Progress goes to `log` at most every
 * `progressEveryMs` (`replace`: the line may overwrite the previous one).
 */
export async function exits(
  args: string[],
  log: (line: string, replace: boolean) => void,
  progressEveryMs = 1000,
): Promise<number> {
  const o = parseOptions(args);
  let source;
  try {
    source = await readModelDir(o.model);
  } catch (e) {
    throw new InputError(`cannot load --model ${o.model}: ${(e as Error).message}`);
  }
  const { manifest } = source;
  let vocabText: string;
  try {
    vocabText = new TextDecoder().decode(await source.files(manifest.tokenizer.vocab));
  } catch (e) {
    throw new InputError(`cannot read the vocabulary of --model ${o.model}: ${(e as Error).message}`);
  }
  const { encode, padId } = makeEncoder(manifest, vocabText, o);
  const rows = readRows(o, manifest.labels.length);
  let next = await rows.next(); // reads the header: a missing column fails before any work
  const total = Math.min(await countRows(o.input), o.limit);

  const partial = `${o.out}.partial`;
  let out: Deno.FsFile;
  try {
    out = await Deno.open(partial, { write: true, create: true, truncate: true });
  } catch (e) {
    await rows.return(undefined);
    throw new InputError(`cannot write --out ${o.out}: ${(e as Error).message}`);
  }
  const runner = await loadNodeRunner(source, o.threads === undefined ? {} : { intraOpThreads: o.threads });
  const encoder = new TextEncoder();
  const started = performance.now();
  let done = 0, lastLog = started;
  const flush = async (chunk: Row[]) => {
    await out.write(encoder.encode(await runChunk(runner, chunk.map(encode), chunk, o.batchTokens, padId)));
    done += chunk.length;
    if (performance.now() - lastLog > progressEveryMs) {
      log(progress(done, total, started), true);
      lastLog = performance.now();
    }
  };
  try {
    let chunk: Row[] = [];
    for (let taken = 0; !next.done && taken < o.limit; taken++) {
      chunk.push(next.value);
      if (chunk.length === o.chunk) {
        await flush(chunk);
        chunk = [];
      }
      if (taken + 1 < o.limit) next = await rows.next();
    }
    if (chunk.length > 0) await flush(chunk);
    out.close();
    await Deno.rename(partial, o.out);
  } catch (e) {
    try {
      out.close();
    } catch { /* already closed */ }
    await Deno.remove(partial).catch(() => undefined);
    throw e;
  } finally {
    await rows.return(undefined);
    await runner.dispose();
  }
  log(progress(done, total, started, true), false);
  return done;
}

if (import.meta.main) {
  const tty = Deno.stderr.isTerminal();
  const enc = new TextEncoder();
  let lastReplace = false;
  const log = (line: string, replace: boolean) => {
    // On a terminal, progress overwrites itself; in a log file, each update is its own line.
    const text = tty && replace ? `\r${line}\x1b[K` : `${tty && lastReplace ? "\n" : ""}${line}\n`;
    lastReplace = tty && replace;
    Deno.stderr.writeSync(enc.encode(text));
  };
  if (Deno.args.includes("--help") || Deno.args.includes("-h")) {
    console.log(USAGE);
    Deno.exit(0);
  }
  try {
    await exits(Deno.args, log, tty ? 1000 : 10_000);
  } catch (e) {
    if (e instanceof InputError || (e instanceof Error && e.name === "ManifestError")) {
      const usage = e instanceof InputError && e.showUsage ? `\n\n${USAGE}` : "";
      console.error(`exits: ${e.message}${usage}`);
      Deno.exit(2);
    }
    throw e;
  }
}
