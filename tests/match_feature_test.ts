/**
 * The exact-match feature of the pair models (`embed.crossSegmentMatch`), checked on the exported embed.onnx of the
 * committed models by what it must compute, not against PyTorch (tests/onnx_parity_test.ts does that): a token's
 * embedding changes when, and only when, its id also occurs in the other segment; `[CLS]`, `[SEP]`, `[UNK]` and
 * padding never match; a model without the feature ignores the other segment's ids.
 */
import assert from "node:assert/strict";
import { loadNodeRunner, readModelDir } from "../gateway/runtime/onnx.ts";
import { int64Tensor } from "../shared/model_io.ts";

const modelDir = (name: string) => new URL(`../models/${name}`, import.meta.url).pathname;

async function openModel(name: string) {
  const { manifest } = await readModelDir(modelDir(name));
  const vocab = (await Deno.readTextFile(`${modelDir(name)}/vocab.txt`)).split("\n");
  const id = (piece: string) => {
    const i = vocab.indexOf(piece);
    if (i < 0) throw new Error(`${name}: no ${piece} in the vocabulary`);
    return i;
  };
  const runner = await loadNodeRunner(modelDir(name), { intraOpThreads: 1 });
  /** The embedding of one sequence: row t is token t's vector. */
  const embed = async (ids: number[], types: number[]): Promise<Float32Array[]> => {
    const t = ids.length;
    const tensor = (v: number[]) => int64Tensor(BigInt64Array.from(v.map(BigInt)), [1, t]);
    const h = await runner.embed(tensor(ids), tensor(types));
    const d = h.dims[2]!;
    return Array.from({ length: t }, (_, k) => h.data.slice(k * d, (k + 1) * d));
  };
  return { manifest, id, embed, close: () => runner.dispose() };
}

const maxDiff = (a: Float32Array, b: Float32Array) => Math.max(...a.map((x, i) => Math.abs(x - b[i]!)));

for (const name of ["paraphrase", "entailment"]) {
  Deno.test(`${name}: the exact-match feature marks exactly the tokens whose id is in the other text`, async () => {
    const m = await openModel(name);
    try {
      assert.equal(m.manifest.embed.crossSegmentMatch, true);
      const [cls, sep, unk, pad] = ["[CLS]", "[SEP]", "[UNK]", "[PAD]"].map(m.id);
      const [man, dog, park] = ["man", "dog", "park"].map(m.id);
      const types = [0, 0, 0, 0, 0, 1, 1, 1, 1];
      // [CLS] man dog [UNK] [SEP] man park [UNK] [SEP]: man occurs in both texts, dog and park in one.
      const a = await m.embed([cls!, man!, dog!, unk!, sep!, man!, park!, unk!, sep!], types);
      // [CLS] man dog [UNK] [SEP] dog park [UNK] [SEP]: now dog is shared and man is not.
      const c = await m.embed([cls!, man!, dog!, unk!, sep!, dog!, park!, unk!, sep!], types);
      assert(maxDiff(a[1]!, c[1]!) > 1e-3, "man (position 1) is matched in a only");
      assert(maxDiff(a[2]!, c[2]!) > 1e-3, "dog (position 2) is matched in c only");
      assert(maxDiff(a[6]!, c[6]!) < 1e-6, "park (position 6) is unmatched in both");
      // [CLS], [UNK] and the separators never match, although [UNK] and [SEP] are in both texts of a: they equal
      // the same tokens where the other text lacks them (d: no [UNK] in text 2; alone: no text 2 at all).
      for (const k of [0, 3, 4, 7, 8]) assert(maxDiff(a[k]!, c[k]!) < 1e-6, `position ${k} must not change`);
      const d = await m.embed([cls!, man!, dog!, unk!, sep!, man!, park!, park!, sep!], types);
      assert(maxDiff(a[3]!, d[3]!) < 1e-6, "[UNK] is never a match");
      const alone = await m.embed([cls!, man!, dog!, unk!, sep!], [0, 0, 0, 0, 0]);
      for (const k of [0, 2, 3, 4]) assert(maxDiff(a[k]!, alone[k]!) < 1e-6, `position ${k}: never a match`);
      assert(maxDiff(a[1]!, alone[1]!) > 1e-3, "man is a match only when text 2 has it");
      // Padding is never a match: appending [PAD] leaves every real token as it was.
      const padded = await m.embed([cls!, man!, dog!, unk!, sep!, man!, park!, unk!, sep!, pad!, pad!], [
        ...types,
        0,
        0,
      ]);
      for (let k = 0; k < 9; k++) assert(maxDiff(padded[k]!, a[k]!) < 1e-6, `position ${k} changed with padding`);
    } finally {
      await m.close();
    }
  });
}

Deno.test("sentiment: a model without the feature ignores the other segment's ids", async () => {
  const m = await openModel("sentiment");
  try {
    assert.equal(m.manifest.embed.crossSegmentMatch, false);
    const [cls, sep] = ["[CLS]", "[SEP]"].map(m.id);
    const [good, bad] = ["good", "bad"].map(m.id);
    const types = [0, 0, 0, 1, 1];
    const a = await m.embed([cls!, good!, sep!, good!, sep!], types);
    const b = await m.embed([cls!, good!, sep!, bad!, sep!], types); // good is shared in a only
    assert(maxDiff(a[1]!, b[1]!) < 1e-6);
  } finally {
    await m.close();
  }
});
