/**
 * `deno task exits`: per-exit class probabilities of a multi-exit model for every row of a TSV or CSV file, one JSON
 * line per row, in input order: `{"label": <int|null>, "probs": [[p_1..p_C] for exit 1..L]}` (docs/ARCHITECTURE.md).
 *
 * Streams the input (`.gz` decompressed on the fly; `.csv`/`.csv.gz` read as RFC 4180 CSV, anything else as TSV with
 * no quoting), tokenizes with the model's vocabulary and manifest settings, runs onnxruntime-node on chunks of rows
 * sorted by length and padded into batches of at most `--batch-tokens` tokens, and writes `<out>.partial`, renamed to
 * `<out>` on success. `--label-map` turns named label cells into integers; `--merge-classes` sums the probabilities of
 * groups of the model's classes, so `probs` and the labels then refer to the groups (the line format is unchanged, so
 * `deno task eval` reads it as is; the merge is noted on stderr). Exit codes: 0 done, 2 bad arguments or input, 1 other.
 * @module
 */

import { parseArgs } from "node:util";
import { CliError, ensureParentDir, runCli } from "./cli.ts";
import { loadNodeRunner, readModelDir } from "../gateway/runtime/onnx.ts";
import type { Manifest } from "../shared/manifest.ts";
import { softmax } from "../shared/math.ts";
import { type EncodedSample, padBatch, rowsOf, runAllExits } from "../shared/model_io.ts";
import type { SegmentRunner } from "../shared/tensor.ts";
import { manifestTokenizer, UnsupportedTokenizerError, type WordPieceTokenizer } from "../shared/tokenizer/mod.ts";
import { countRows, InputError, parseLabelMap, readRows, type Row } from "./exits_input.ts";
import { type ClassMerge, describeMerge, mergeProbs, parseMergeClasses } from "./exits_merge.ts";

export { InputError } from "./exits_input.ts";

const USAGE = `Usage: deno task exits --model <dir> --input <file> --text <column> [--text-pair <column>]
       [--label <column> [--label-map <name=index,...>]] [--merge-classes <groups>] --out <file.jsonl>
       [--limit N] [--batch-tokens N] [--chunk N] [--threads N]

  --model          model directory (manifest.json, vocab, ONNX segments)
  --input          a header row, then one row per text: .csv = RFC 4180 CSV (quoted fields may hold commas,
                   newlines and doubled quotes); any other name = TSV with no quoting (quotes are literal);
                   .gz is decompressed (file.csv.gz, file.tsv.gz); a leading UTF-8 BOM is ignored
  --text           column holding the text (the first text of a pair)
  --text-pair      column holding the second text (pair models)
  --label          column holding integer labels in the order of the output classes (empty cell: null)
  --label-map      named labels instead of integers, e.g. entailment=0,not_entailment=1 (several names may
                   share an index; a cell that is not named is an error)
  --merge-classes  output classes as groups of the model's classes (manifest labels), probabilities summed,
                   e.g. "entailment;neutral+contradiction": groups separated by ";", classes by "+", every
                   class exactly once; labels then index the groups
  --out            output JSONL, one line per input row, in input order
  --limit          stop after N rows                                    (default: all)
  --batch-tokens   most padded tokens per onnxruntime call               (default: 1024)
  --chunk          rows read, sorted by length and batched at a time     (default: 1024)
  --threads        onnxruntime intra-op threads                          (default: onnxruntime's choice)`;

interface Options {
  model: string;
  input: string;
  text: string;
  textPair: string | undefined;
  label: string | undefined;
  labelMap: string | undefined;
  mergeClasses: string | undefined;
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
        [
          "model",
          "input",
          "text",
          "text-pair",
          "label",
          "label-map",
          "merge-classes",
          "out",
          "limit",
          "batch-tokens",
          "chunk",
          "threads",
        ].map((k) => [k, { type: "string" as const }]),
      ),
    }));
  } catch (e) {
    throw new InputError((e as Error).message, true);
  }
  const get = (k: string) => values[k] as string | undefined;
  const missing = ["model", "input", "text", "out"].filter((k) => get(k) === undefined);
  if (missing.length > 0) throw new InputError(`missing ${missing.map((k) => `--${k}`).join(", ")}`, true);
  if (get("label-map") !== undefined && get("label") === undefined) {
    throw new InputError("--label-map needs --label (the column it maps)", true);
  }
  return {
    model: get("model")!,
    input: get("input")!,
    text: get("text")!,
    textPair: get("text-pair"),
    label: get("label"),
    labelMap: get("label-map"),
    mergeClasses: get("merge-classes"),
    out: get("out")!,
    limit: positive("limit", get("limit"), Number.MAX_SAFE_INTEGER),
    batchTokens: positive("batch-tokens", get("batch-tokens"), 1024),
    chunk: positive("chunk", get("chunk"), 1024),
    threads: get("threads") === undefined ? undefined : positive("threads", get("threads"), 1),
  };
}

/** Tokenizer settings from the manifest; settings the TypeScript tokenizer cannot honour are an InputError. */
function makeEncoder(
  manifest: Manifest,
  vocabText: string,
  o: Options,
): { encode: (row: Row) => EncodedSample; padId: number } {
  let tokenizer: WordPieceTokenizer;
  try {
    tokenizer = manifestTokenizer(manifest, vocabText);
  } catch (e) {
    if (e instanceof UnsupportedTokenizerError) throw new InputError(e.message);
    throw e;
  }
  if ((manifest.task === "pair") !== (o.textPair !== undefined)) {
    throw new InputError(
      manifest.task === "pair"
        ? `model ${manifest.id} takes text pairs: give --text-pair`
        : `model ${manifest.id} takes single texts: drop --text-pair`,
    );
  }
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
  merge: ClassMerge | undefined,
): Promise<string> {
  const order = samples.map((_, i) => i).sort((a, b) => samples[a]!.inputIds.length - samples[b]!.inputIds.length);
  const probs: number[][][] = new Array(samples.length);
  for (let start = 0; start < order.length;) {
    let end = start + 1;
    while (end < order.length && (end - start + 1) * samples[order[end]!]!.inputIds.length <= batchTokens) end++;
    const idx = order.slice(start, end);
    const logits = await runAllExits(runner, padBatch(idx.map((i) => samples[i]!), { padId }));
    const perExit = logits.map(rowsOf);
    const classProbs = (logits: ArrayLike<number>) => {
      const p = softmax(logits);
      return (merge === undefined ? Array.from(p) : mergeProbs(p, merge)).map(round);
    };
    idx.forEach((i, r) => (probs[i] = perExit.map((rowsOfExit) => classProbs(rowsOfExit[r]!))));
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
  const merge = o.mergeClasses === undefined ? undefined : parseMergeClasses(o.mergeClasses, manifest.labels);
  const classes = merge === undefined ? manifest.labels.length : merge.groups.length;
  const labelMap = o.labelMap === undefined ? undefined : parseLabelMap(o.labelMap, classes);
  const { encode, padId } = makeEncoder(manifest, vocabText, o);
  const rows = readRows({ ...o, labelMap, classes });
  let next = await rows.next(); // reads the header: a missing column fails before any work
  const total = Math.min(await countRows(o.input), o.limit);

  const partial = `${o.out}.partial`;
  let out: Deno.FsFile;
  try {
    await ensureParentDir(o.out);
    out = await Deno.open(partial, { write: true, create: true, truncate: true });
  } catch (e) {
    await rows.return(undefined);
    throw new InputError(`cannot write --out ${o.out}: ${(e as Error).message}`);
  }
  if (merge !== undefined) log(`exits: ${describeMerge(merge)}`, false);
  const runner = await loadNodeRunner(source, o.threads === undefined ? {} : { intraOpThreads: o.threads });
  const encoder = new TextEncoder();
  const started = performance.now();
  let done = 0, lastLog = started;
  const flush = async (chunk: Row[]) => {
    await out.write(encoder.encode(await runChunk(runner, chunk.map(encode), chunk, o.batchTokens, padId, merge)));
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
  await runCli("exits", USAGE, async (args) => {
    try {
      await exits(args, log, tty ? 1000 : 10_000);
    } catch (e) {
      if (e instanceof InputError || (e instanceof Error && e.name === "ManifestError")) {
        const usage = e instanceof InputError && e.showUsage ? " (`deno task exits --help` prints the usage)" : "";
        throw new CliError(`${e.message}${usage}`, 2);
      }
      throw e;
    }
  });
}
