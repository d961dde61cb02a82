/**
 * Cost of the offload codec against a plain memory copy of the same bytes, at the median token counts of SST-2 dev
 * and IMDb test (computed here with the model's tokenizer), per wire dtype:
 * - `memcpy`: `Uint8Array.prototype.slice` of the encoded request (the baseline of each group);
 * - `encode + decode`: `encodeOffloadRequest` + `decodeOffloadRequest` (msgpack + full validation) of a packed request;
 * - `pack + encode + decode + unpack`: the whole hop from float32 hidden state to float32 hidden state.
 *
 * Run: `deno bench -A bench/wire_codec_bench.ts`
 * @module
 */

import {
  createOffloadRequest,
  decodeOffloadRequest,
  encodeOffloadRequest,
  unpackHidden,
  WIRE_DTYPES,
} from "../shared/wire/mod.ts";
import { createPrng, nextGaussian } from "../shared/prng.ts";
import { imdbTest, median, modelSource, sst2Dev, tokenizerFor } from "./data.ts";

const { manifest } = await modelSource();
const tokenizer = await tokenizerFor(manifest);
const D = manifest.hiddenSize;
const model = { id: manifest.id, version: manifest.version };
const limits = { model, layers: manifest.layers, hiddenSize: D };
const medianTokens = async (rows: Promise<{ text: string }[]>) =>
  Math.round(median((await rows).map((r) => tokenizer.encode(r.text).inputIds.length)));
const lengths = [
  { name: "SST-2 median", t: await medianTokens(sst2Dev()) },
  { name: "IMDb median", t: await medianTokens(imdbTest()) },
];

const prng = createPrng(3);
for (const { name, t } of lengths) {
  // Hidden states of a trained layer are roughly unit-scale after LayerNorm, with a few larger outliers.
  const hidden = Float32Array.from({ length: t * D }, () => nextGaussian(prng) * (prng.next() < 0.01 ? 8 : 1));
  for (const dtype of WIRE_DTYPES) {
    const req = createOffloadRequest({ model, splitLayer: 6, dims: [t, D], hidden, dtype });
    const bytes = encodeOffloadRequest(req, limits);
    const group = `${name} T=${t} ${dtype} (${bytes.byteLength} B)`;
    let sink = 0;
    Deno.bench(`memcpy ${bytes.byteLength} B`, { group, baseline: true }, () => {
      sink ^= bytes.slice()[7]!;
    });
    Deno.bench(`encode + decode`, { group }, () => {
      sink ^= decodeOffloadRequest(encodeOffloadRequest(req, limits), limits).dims[0];
    });
    Deno.bench(`pack + encode + decode + unpack`, { group }, () => {
      const r = createOffloadRequest({ model, splitLayer: 6, dims: [t, D], hidden, dtype });
      sink ^= unpackHidden(decodeOffloadRequest(encodeOffloadRequest(r, limits), limits)).length;
    });
    if (sink === -1) console.log(sink);
  }
}
