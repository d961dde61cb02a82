/**
 * Input of `deno task exits`: the rows of a headered TSV (TAB, no quoting) or CSV (RFC 4180, quoted) file, streamed,
 * `.gz` decompressed on the fly, the format picked by the extension (`.csv` / `.csv.gz`: CSV, anything else: TSV).
 * Labels are integer cells or, with a label map, named cells mapped to integers.
 * @module
 */

import { missingDataHint } from "./cli.ts";
import { CsvError, CsvParser } from "./csv.ts";

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

/** The file format `path` is read as, from its extension (`.gz` aside). */
export function formatOf(path: string): "csv" | "tsv" {
  return /\.csv(\.gz)?$/i.test(path) ? "csv" : "tsv";
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
    if (e instanceof Deno.errors.NotFound) {
      throw new InputError(`cannot read --input ${path}: no such file${missingDataHint(path)}`);
    }
    throw new InputError(`cannot read --input ${path}: ${(e as Error).message}`);
  }
  return path.endsWith(".gz") ? file.readable.pipeThrough(new DecompressionStream("gzip")) : file.readable;
}

/** Text pieces of a UTF-8 file; read errors become an {@linkcode InputError}. */
async function* readText(path: string): AsyncGenerator<string> {
  const stream = (await openBytes(path)).pipeThrough(new TextDecoderStream());
  try {
    for await (const piece of stream) yield piece;
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw new InputError(`cannot read --input ${path}: ${(e as Error).message}`);
  }
}

/** One record (the header included) and the 1-based line it starts on. */
export interface InputRecord {
  readonly fields: string[];
  readonly line: number;
}

async function* tsvRecords(path: string): AsyncGenerator<InputRecord> {
  let rest = "";
  let line = 0;
  const record = (text: string) => ({ fields: (text.endsWith("\r") ? text.slice(0, -1) : text).split("\t"), line });
  for await (const piece of readText(path)) {
    const parts = (rest + piece).split("\n");
    rest = parts.pop()!;
    for (const text of parts) {
      line++;
      if (text.length > 0 && text !== "\r") yield record(text);
    }
  }
  line++;
  if (rest.length > 0 && rest !== "\r") yield record(rest);
}

async function* csvRecords(path: string): AsyncGenerator<InputRecord> {
  const parser = new CsvParser();
  try {
    for await (const piece of readText(path)) yield* parser.push(piece);
    yield* parser.end();
  } catch (e) {
    if (e instanceof CsvError) throw new InputError(`${path} ${e.message}`);
    throw e;
  }
}

/** Non-blank records of the file, the header first, in the format {@linkcode formatOf} picks. */
export function readRecords(path: string): AsyncGenerator<InputRecord> {
  return formatOf(path) === "csv" ? csvRecords(path) : tsvRecords(path);
}

/** Counts data records (after the header) for the ETA: one streaming pass, constant memory. */
export async function countRows(path: string): Promise<number> {
  let n = -1;
  for await (const _ of readRecords(path)) n++;
  return Math.max(n, 0);
}

/**
 * Parses `--label-map name=index,...` for `classes` output classes; several names may share an index.
 * Names and indices are trimmed; a label cell must equal a name exactly.
 */
export function parseLabelMap(spec: string, classes: number): Map<string, number> {
  const map = new Map<string, number>();
  for (const entry of spec.split(",")) {
    const eq = entry.lastIndexOf("=");
    const name = entry.slice(0, Math.max(eq, 0)).trim();
    const index = entry.slice(eq + 1).trim();
    if (eq < 0 || name === "") throw new InputError(`--label-map entry "${entry}" is not name=index`, true);
    if (!/^\d+$/.test(index) || Number(index) >= classes) {
      throw new InputError(`--label-map entry "${entry}": the index must be an integer in 0..${classes - 1}`);
    }
    if (map.has(name)) throw new InputError(`--label-map names "${name}" twice`);
    map.set(name, Number(index));
  }
  return map;
}

/** Which columns to read and how labels are given. */
export interface RowSpec {
  readonly input: string;
  readonly text: string;
  readonly textPair: string | undefined;
  readonly label: string | undefined;
  /** Named label cells; without it, label cells are integers. */
  readonly labelMap: ReadonlyMap<string, number> | undefined;
  /** Number of output classes (labels are in 0..classes-1). */
  readonly classes: number;
}

export interface Row {
  readonly text: string;
  readonly pair: string | undefined;
  readonly label: number | null;
}

/** Rows of the input as named by `spec`; a missing column or a malformed row is an {@linkcode InputError}. */
export async function* readRows(spec: RowSpec): AsyncGenerator<Row> {
  const { input, labelMap, classes } = spec;
  const allowed = labelMap === undefined ? "" : [...labelMap.keys()].join(", ");
  const labelOf = (cell: string, line: number): number | null => {
    if (cell === "") return null;
    if (labelMap !== undefined) {
      const label = labelMap.get(cell);
      if (label === undefined) {
        throw new InputError(`${input} line ${line}: label "${cell}" is not in --label-map (${allowed})`);
      }
      return label;
    }
    if (!/^\d+$/.test(cell) || Number(cell) >= classes) {
      throw new InputError(`${input} line ${line}: label "${cell}" is not an integer in 0..${classes - 1}`);
    }
    return Number(cell);
  };
  let header: string[] | undefined;
  let cols = { text: -1, pair: -1, label: -1 };
  for await (const { fields, line } of readRecords(input)) {
    if (header === undefined) {
      header = fields.map((f, i) => (i === 0 ? f.replace(/^\uFEFF/, "") : f));
      const find = (flag: string, name: string | undefined) => {
        if (name === undefined) return -1;
        const i = header!.indexOf(name);
        if (i < 0) {
          throw new InputError(`${input} has no column "${name}" (${flag}); its columns: ${header!.join(", ")}`);
        }
        return i;
      };
      cols = {
        text: find("--text", spec.text),
        pair: find("--text-pair", spec.textPair),
        label: find("--label", spec.label),
      };
      continue;
    }
    if (fields.length !== header.length) {
      throw new InputError(`${input} line ${line} has ${fields.length} fields but the header has ${header.length}`);
    }
    yield {
      text: fields[cols.text]!,
      pair: cols.pair >= 0 ? fields[cols.pair] : undefined,
      label: cols.label >= 0 ? labelOf(fields[cols.label]!, line) : null,
    };
  }
  if (header === undefined) throw new InputError(`${input} is empty (no header row)`);
}
