/**
 * Inputs every measurement in bench/ uses: the default model (manifest, vocabulary, tokenizer as the manifest says),
 * SST-2 dev (all 872 rows) and a fixed-seed sample of IMDb test, read from the team data folder.
 * @module
 */

import { type Manifest, parseManifest } from "../shared/manifest.ts";
import type { ModelSource } from "../shared/model_io.ts";
import { createPrng, shuffledIndices } from "../shared/prng.ts";
import { manifestTokenizer, type WordPieceTokenizer } from "../shared/tokenizer/mod.ts";

/** The default model's directory. */
export const MODEL_DIR = new URL("../models/sentiment/", import.meta.url);
/** The data folder (docs/data.md): `$SPLITEE_DATA`, else `../shared/data` beside the repository. */
export const DATA_DIR = Deno.env.get("SPLITEE_DATA") ?? new URL("../../shared/data", import.meta.url).pathname;
/** Seed of the IMDb sample. */
export const IMDB_SEED = 20260;

/** One labelled text. */
export interface Row {
  readonly text: string;
  readonly label: number;
}

/** The default model as a {@linkcode ModelSource}. */
export async function modelSource(): Promise<ModelSource> {
  const manifest = parseManifest(JSON.parse(await Deno.readTextFile(new URL("manifest.json", MODEL_DIR))));
  return { manifest, files: (name) => Deno.readFile(new URL(name, MODEL_DIR)) };
}

/** The model's tokenizer as its manifest says (case, HTML line breaks, truncation); `dir`: the model's folder. */
export async function tokenizerFor(manifest: Manifest, dir: URL = MODEL_DIR): Promise<WordPieceTokenizer> {
  return manifestTokenizer(manifest, await Deno.readTextFile(new URL(manifest.tokenizer.vocab, dir)));
}

async function readTsv(path: string): Promise<{ header: string[]; rows: string[][] }> {
  if (!(await Deno.stat(path).then(() => true, () => false))) {
    throw new Error(
      `dataset file ${path} not found: the datasets are not part of the repository; docs/data.md says where to get ` +
        "each one (put them in ../shared/data beside the repository, or set SPLITEE_DATA)",
    );
  }
  let text: string;
  if (path.endsWith(".gz")) {
    const file = await Deno.open(path);
    const stream = file.readable.pipeThrough(new DecompressionStream("gzip"));
    text = await new Response(stream).text();
  } else {
    text = await Deno.readTextFile(path);
  }
  const lines = text.split("\n").map((l) => (l.endsWith("\r") ? l.slice(0, -1) : l)).filter((l) => l.length > 0);
  const header = lines[0]!.split("\t");
  return { header, rows: lines.slice(1).map((l) => l.split("\t")) };
}

function column(header: string[], name: string, path: string): number {
  const i = header.indexOf(name);
  if (i < 0) throw new Error(`${path} has no column ${name}`);
  return i;
}

async function readLabelled(path: string, textCol: string, labelCol: string): Promise<Row[]> {
  const { header, rows } = await readTsv(path);
  const t = column(header, textCol, path), l = column(header, labelCol, path);
  return rows.map((r) => ({ text: r[t]!, label: Number(r[l]) }));
}

/** All SST-2 dev rows (872). */
export function sst2Dev(): Promise<Row[]> {
  return readLabelled(`${DATA_DIR}/sst2/dev.tsv`, "sentence", "label");
}

/** All IMDb test rows (25,000). */
export function imdbTest(): Promise<Row[]> {
  return readLabelled(`${DATA_DIR}/imdb/test.tsv.gz`, "text", "label");
}

/** `n` IMDb test rows drawn without replacement with {@linkcode IMDB_SEED} (same rows on every run). */
export async function imdbSample(n = 1000): Promise<Row[]> {
  const all = await imdbTest();
  const order = shuffledIndices(all.length, createPrng(IMDB_SEED));
  return Array.from(order.subarray(0, n), (i) => all[i]!);
}

/** The median of a list of numbers (mean of the two middle values for an even count). */
export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
