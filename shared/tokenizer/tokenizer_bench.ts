import { WordPieceTokenizer } from "./mod.ts";

const FIXTURES = new URL("../../tests/fixtures/tokenizer/", import.meta.url);
const vocab = await Deno.readTextFile(new URL("vocab.txt", FIXTURES));
const { samples } = JSON.parse(await Deno.readTextFile(new URL("imdb_500.json", FIXTURES))) as {
  samples: { text: string; ids: number[] }[];
};
// A median-length IMDb review (about 1,000 characters, ~230 word pieces).
const review = samples.map((s) => s.text).sort((a, b) => a.length - b.length)[samples.length >> 1] as string;

const warm = new WordPieceTokenizer(vocab);
warm.tokenizeIds(review);
const cold = new WordPieceTokenizer(vocab, { cacheSize: 0 });

Deno.bench("encode(): median IMDb review, warm word cache", { group: "review", baseline: true }, () => {
  warm.encode(review);
});
Deno.bench("encode(): median IMDb review, no word cache", { group: "review" }, () => {
  cold.encode(review);
});
Deno.bench("encode(): 500 IMDb reviews, fresh tokenizer", { n: 20 }, () => {
  const tokenizer = new WordPieceTokenizer(vocab);
  for (const s of samples) tokenizer.encode(s.text);
});
