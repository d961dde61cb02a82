/**
 * Bytes per offload request on the wire (the real `encodeOffloadRequest` msgpack body, as edge/offload_client.ts
 * sends it: no tokenTypeIds) for float32 / float16 / int8 hidden states, real tokens only versus padded to the
 * manifest's maxLength, at the median token count of SST-2 dev and IMDb test; the mean over each data set; and the
 * raw UTF-8 size of the text for comparison. Sizes do not depend on the values, only on T, so each T is encoded once.
 *
 * Run: `deno run -A bench/wire_size.ts [--json out.json]`
 * @module
 */

import { ensureParentDir } from "../scripts/cli.ts";
import { parseArgs } from "node:util";
import { createOffloadRequest, encodeOffloadRequest, WIRE_DTYPES, type WireDtype } from "../shared/wire/mod.ts";
import { imdbSample, imdbTest, median, modelSource, type Row, sst2Dev, tokenizerFor } from "./data.ts";

const { values: args } = parseArgs({ args: Deno.args, options: { json: { type: "string" } } });
const { manifest } = await modelSource();
const tokenizer = await tokenizerFor(manifest);
const D = manifest.hiddenSize;
const MAX = manifest.maxLength;
const model = { id: manifest.id, version: manifest.version };
const utf8 = new TextEncoder();

const sizeCache = new Map<string, number>();
/** Encoded request bytes for `real` real tokens, sent as `sent` tokens (`sent > real`: zero-masked padding). */
function requestBytes(real: number, sent: number, dtype: WireDtype): number {
  const key = `${real}/${sent}/${dtype}`;
  const hit = sizeCache.get(key);
  if (hit !== undefined) return hit;
  const hidden = new Float32Array(sent * D).map((_, i) => Math.sin(i)); // values do not change the size
  const attentionMask = new Uint8Array(sent);
  attentionMask.fill(1, 0, real);
  const req = createOffloadRequest({ model, splitLayer: 6, dims: [sent, D], hidden, dtype, attentionMask });
  const bytes = encodeOffloadRequest(req, { model, layers: manifest.layers, hiddenSize: D }).byteLength;
  sizeCache.set(key, bytes);
  return bytes;
}

interface SetStats {
  name: string;
  rows: number;
  medianTokens: number;
  meanTokens: number;
  medianUntruncatedPieces: number;
  truncatedShare: number;
  medianUtf8Bytes: number;
  meanUtf8Bytes: number;
  /** At the median T: bytes per dtype, real-only and padded. */
  atMedian: Record<WireDtype, { real: number; padded: number }>;
  /** Mean over the data set of each row's own request size. */
  mean: Record<WireDtype, { real: number; padded: number }>;
}

function stats(name: string, rows: readonly Row[]): SetStats {
  const tokens = rows.map((r) => tokenizer.encode(r.text).inputIds.length);
  const untruncated = rows.map((r) =>
    tokenizer.encode(r.text, undefined, { maxLength: 1_000_000, headTokens: 64 }).inputIds.length
  );
  const bytes = rows.map((r) => utf8.encode(r.text).byteLength);
  const med = Math.round(median(tokens)); // an even count can give x.5: a request has whole tokens
  const mean = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const per = (f: (dtype: WireDtype) => { real: number; padded: number }) =>
    Object.fromEntries(WIRE_DTYPES.map((d) => [d, f(d)])) as Record<WireDtype, { real: number; padded: number }>;
  return {
    name,
    rows: rows.length,
    medianTokens: median(tokens),
    meanTokens: mean(tokens),
    medianUntruncatedPieces: median(untruncated),
    truncatedShare: untruncated.filter((n) => n > MAX).length / rows.length,
    medianUtf8Bytes: median(bytes),
    meanUtf8Bytes: mean(bytes),
    atMedian: per((d) => ({ real: requestBytes(med, med, d), padded: requestBytes(med, MAX, d) })),
    mean: per((d) => ({
      real: mean(tokens.map((t) => requestBytes(t, t, d))),
      padded: mean(tokens.map((t) => requestBytes(t, MAX, d))),
    })),
  };
}

const sets = [
  stats("SST-2 dev", await sst2Dev()),
  stats("IMDb test (all)", await imdbTest()),
  stats("IMDb test (1,000 sample)", await imdbSample(1000)),
];

const n0 = (x: number) => Math.round(x).toLocaleString("en-US");
const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
console.log(`model ${manifest.id}@${manifest.version}: D=${D}, maxLength=${MAX}; request = encodeOffloadRequest body`);
for (const s of sets) {
  console.log(
    `\n## ${s.name}: ${s.rows} rows; tokens median ${s.medianTokens} (mean ${s.meanTokens.toFixed(1)}), ` +
      `untruncated pieces median ${s.medianUntruncatedPieces}, ${pct(s.truncatedShare)} truncated at ${MAX}; ` +
      `UTF-8 text median ${n0(s.medianUtf8Bytes)} B (mean ${n0(s.meanUtf8Bytes)} B)`,
  );
  const padded32 = s.atMedian.float32.padded;
  console.log(
    `| dtype | real T=${Math.round(s.medianTokens)} | % of padded fp32 | padded T=${MAX} | ` +
      `mean real (per row) | mean % of padded fp32 | x UTF-8 text (median) |`,
  );
  console.log("|---|---:|---:|---:|---:|---:|---:|");
  for (const d of WIRE_DTYPES) {
    const m = s.atMedian[d], avg = s.mean[d];
    console.log(
      `| ${d} | ${n0(m.real)} | ${pct(m.real / padded32)} | ${n0(m.padded)} | ${n0(avg.real)} | ` +
        `${pct(avg.real / s.mean.float32.padded)} | ${(m.real / s.medianUtf8Bytes).toFixed(0)}x |`,
    );
  }
}
if (args.json) {
  await ensureParentDir(args.json);
  await Deno.writeTextFile(args.json, JSON.stringify(sets, null, 1));
}
