import { expect } from "expect";
import {
  basicTokenize,
  Category,
  categoryOf,
  manifestTokenizer,
  MAX_WORD_CHARS,
  parseVocab,
  UnsupportedTokenizerError,
  wordpiece,
  WordPieceTokenizer,
} from "./mod.ts";

const WORDS = Array.from({ length: 20 }, (_, i) => `w${i}`);
const VOCAB = [
  ...["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"], // 0-4
  ...["the", "movie", "was", "great", "!", ",", ".", "'", "un", "##believ", "##able", "cafe", "don", "t"], // 5-18
  ...["a", "##a", "北", "京", "naive", "##s"], // 19-24
  ...WORDS, // 25-44
];
const id = (token: string): number => VOCAB.indexOf(token);
const w = (...n: number[]): number[] => n.map((i) => id(`w${i}`));
const words = (from: number, to: number): string => WORDS.slice(from, to).join(" ");
const tokenizer = new WordPieceTokenizer(VOCAB.join("\n") + "\n");

Deno.test("basicTokenize() lower-cases and splits every punctuation character off", () => {
  expect(basicTokenize("Hello, World!")).toEqual(["hello", ",", "world", "!"]);
  expect(basicTokenize("don't U.S.A.")).toEqual(["don", "'", "t", "u", ".", "s", ".", "a", "."]);
  expect(basicTokenize("$5+3=8 ~x~")).toEqual(["$", "5", "+", "3", "=", "8", "~", "x", "~"]);
  expect(basicTokenize("€5 ±1 ¿qué? “hi”")).toEqual(["€5", "±1", "¿", "que", "?", "“", "hi", "”"]);
});

Deno.test("basicTokenize() strips accents and combining marks after NFD", () => {
  expect(basicTokenize("Café NAÏVE Ångström")).toEqual(["cafe", "naive", "angstrom"]);
  expect(basicTokenize("e\u0301 \u0301 がぎ")).toEqual(["e", "かき"]);
  expect(basicTokenize("ΟΔΟΣ ΆΣ\u0301Β")).toEqual(["οδος", "ασβ"]);
});

Deno.test("basicTokenize() maps whitespace to spaces and drops controls, U+FFFD and HTML line breaks", () => {
  expect(basicTokenize("")).toEqual([]);
  expect(basicTokenize(" \t\r\n\u00a0\u3000 ")).toEqual([]);
  expect(basicTokenize("a\u0000b\u200bc\ufffdd\u00ade\x0bf\u0085g")).toEqual(["abcdefg"]);
  expect(basicTokenize("a\u2028b")).toEqual(["a\u2028b"]); // Zl is neither whitespace nor a control in Python
  expect(basicTokenize("one<br />two<BR/>three<bR \u00a0>four<br/ >")).toEqual(
    ["one", "two", "three", "four", "<", "br", "/", ">"],
  );
  expect(basicTokenize("a<br\x1c>b<br\ufeff>c")).toEqual(["a", "b", "<", "br", ">", "c"]); // Python's \s
});

Deno.test("basicTokenize() surrounds CJK ideographs with spaces, BMP and astral", () => {
  expect(basicTokenize("北京abc𠀀x")).toEqual(["北", "京", "abc", "𠀀", "x"]);
  expect(basicTokenize("ひらがな")).toEqual(["ひらかな"]); // kana are not in the CJK ranges
});

Deno.test("basicTokenize() leaves characters unassigned in the reference's Unicode version untouched", () => {
  expect(basicTokenize("\ua7cb\u1c89X")).toEqual(["\ua7cb\u1c89x"]); // Unicode 16 capitals: not lower-cased
  expect(basicTokenize("a\u{1171e}b a\u1b4eb")).toEqual(["ab", "a\u1b4eb"]); // Mn in 14.0; punctuation only in 16
});

Deno.test("categoryOf() answers with the reference's Unicode categories", () => {
  expect(categoryOf(0x61)).toBe(Category.Other);
  expect(categoryOf(0x21)).toBe(Category.Punctuation);
  expect(categoryOf(0xa0)).toBe(Category.SpaceSeparator);
  expect(categoryOf(0x200b)).toBe(Category.Control);
  expect(categoryOf(0x301)).toBe(Category.NonspacingMark);
  expect(categoryOf(0x1171e)).toBe(Category.NonspacingMark);
  expect(categoryOf(0xa7cb)).toBe(Category.Unassigned);
  expect(categoryOf(0x10ffff)).toBe(Category.Unassigned);
  expect(categoryOf(0xe0001)).toBe(Category.Control);
  expect(categoryOf(0x1f600)).toBe(Category.Other);
});

Deno.test("wordpiece() matches greedily longest-first with ## continuations", () => {
  const vocab = new Set(["un", "##believ", "##able", "a", "##a", "##aa", "𝐚", "##𝐚", "##b"]);
  expect(wordpiece("unbelievable", vocab)).toEqual(["un", "##believ", "##able"]);
  expect(wordpiece("aaaaa", vocab)).toEqual(["a", "##aa", "##aa"]);
  expect(wordpiece("unbelievablex", vocab)).toEqual(["[UNK]"]);
  expect(wordpiece("believable", vocab, "<unk>")).toEqual(["<unk>"]);
  expect(wordpiece("", vocab)).toEqual([]);
});

Deno.test("wordpiece() counts code points, not UTF-16 units, against the 100-character limit", () => {
  const vocab = new Set(["a", "##a", "𝐚", "##𝐚", "##b"]);
  expect(wordpiece("a".repeat(MAX_WORD_CHARS), vocab)).toHaveLength(MAX_WORD_CHARS);
  expect(wordpiece("a".repeat(MAX_WORD_CHARS + 1), vocab)).toEqual(["[UNK]"]);
  expect(wordpiece("𝐚".repeat(MAX_WORD_CHARS), vocab)).toEqual(["𝐚", ...Array(MAX_WORD_CHARS - 1).fill("##𝐚")]);
  expect(wordpiece("𝐚b", vocab)).toEqual(["𝐚", "##b"]);
});

Deno.test("parseVocab() reads lines as Python's text mode does", () => {
  expect(parseVocab("").tokens).toEqual([]);
  expect(parseVocab("a\r\nb\rc\n").tokens).toEqual(["a", "b", "c"]);
  expect(parseVocab("a\n\n").tokens).toEqual(["a", ""]);
  expect(parseVocab("x\ny\nx").ids).toEqual(new Map([["x", 2], ["y", 1]])); // the last duplicate wins
  expect(parseVocab("\ufeffa").tokens).toEqual(["\ufeffa"]);
});

Deno.test("tokenizeIds() gives word-piece ids with [UNK] for unmatched words", () => {
  expect(tokenizer.tokenizeIds("The movie was UNBELIEVABLE!")).toEqual(
    [5, 6, 7, 13, 14, 15, 9],
  );
  expect(tokenizer.tokenizeIds("Café naïves, 北京 xyz")).toEqual([16, 23, 24, 10, 21, 22, 1]);
  expect(tokenizer.tokenizeIds("")).toEqual([]);
  expect([tokenizer.vocabSize, tokenizer.padId, tokenizer.unkId, tokenizer.clsId, tokenizer.sepId]).toEqual(
    [45, 0, 1, 2, 3],
  );
  expect(tokenizer.idToToken(14)).toBe("##believ");
  expect(tokenizer.idToToken(45)).toBeUndefined();
});

Deno.test("encode() wraps a single text in [CLS] ... [SEP] with segment ids 0", () => {
  expect(tokenizer.encode("the movie")).toEqual({ inputIds: [2, 5, 6, 3], tokenTypeIds: [0, 0, 0, 0] });
  expect(tokenizer.encode("")).toEqual({ inputIds: [2, 3], tokenTypeIds: [0, 0] });
});

Deno.test("encode() keeps headTokens pieces from the start and the rest from the end of a long text", () => {
  const text = words(0, 20);
  expect(tokenizer.encode(text, undefined, { maxLength: 10, headTokens: 3 }).inputIds).toEqual(
    [2, ...w(0, 1, 2, 15, 16, 17, 18, 19), 3],
  );
  expect(tokenizer.encode(text, undefined, { maxLength: 6, headTokens: 0 }).inputIds).toEqual(
    [2, ...w(16, 17, 18, 19), 3],
  );
  expect(tokenizer.encode(text, undefined, { maxLength: 6, headTokens: 4 }).inputIds).toEqual([2, ...w(0, 1, 2, 3), 3]);
  expect(tokenizer.encode(words(0, 8), undefined, { maxLength: 10, headTokens: 3 }).inputIds).toEqual(
    [2, ...w(0, 1, 2, 3, 4, 5, 6, 7), 3], // exactly maxLength: untouched
  );
  const defaults = new WordPieceTokenizer(VOCAB.join("\n"), { maxLength: 8, headTokens: 2 });
  expect(defaults.encode(text)).toEqual({
    inputIds: [2, ...w(0, 1, 16, 17, 18, 19), 3],
    tokenTypeIds: Array(8).fill(0),
  });
});

Deno.test("encode() truncates pairs longest-first, the first text on ties, with segment ids 0 then 1", () => {
  expect(tokenizer.encode(words(0, 6), words(10, 12), { maxLength: 7 })).toEqual({
    inputIds: [2, ...w(0, 1), 3, ...w(10, 11), 3],
    tokenTypeIds: [0, 0, 0, 0, 1, 1, 1],
  });
  expect(tokenizer.encode(words(0, 3), words(10, 13), { maxLength: 8 })).toEqual({
    inputIds: [2, ...w(0, 1), 3, ...w(10, 11, 12), 3],
    tokenTypeIds: [0, 0, 0, 0, 1, 1, 1, 1],
  });
  expect(tokenizer.encode(words(0, 2), words(10, 19), { maxLength: 8 }).inputIds).toEqual(
    [2, ...w(0, 1), 3, ...w(10, 11, 12), 3],
  );
  expect(tokenizer.encode("", "")).toEqual({ inputIds: [2, 3, 3], tokenTypeIds: [0, 0, 1] });
  expect(tokenizer.encode("the", words(0, 20), { maxLength: 3 })).toEqual({
    inputIds: [2, 3, 3],
    tokenTypeIds: [0, 0, 1],
  });
});

Deno.test("the word cache never changes results, whatever its size", () => {
  const text = "the movie was great, unbelievable! the cafe was naive. " + words(0, 20);
  const expected = new WordPieceTokenizer(VOCAB.join("\n"), { cacheSize: 0 }).tokenizeIds(text);
  const tiny = new WordPieceTokenizer(VOCAB.join("\n"), { cacheSize: 2 });
  for (let i = 0; i < 3; i++) expect(tiny.tokenizeIds(text)).toEqual(expected);
  expect(tokenizer.tokenizeIds(text)).toEqual(expected);
});

Deno.test("invalid vocabularies and lengths are refused with the reason", () => {
  expect(() => new WordPieceTokenizer("[PAD]\n[UNK]\n[CLS]\n[SEP]\n")).toThrow("lacks the special token [MASK]");
  expect(() => new WordPieceTokenizer(VOCAB.join("\n"), { maxLength: 1 })).toThrow(RangeError);
  expect(() => new WordPieceTokenizer(VOCAB.join("\n"), { maxLength: 64, headTokens: 63 })).toThrow(
    "headTokens must be an integer from 0 to maxLength - 2 (62), got 63",
  );
  expect(() => new WordPieceTokenizer(VOCAB.join("\n"), { cacheSize: -1 })).toThrow(RangeError);
  expect(() => tokenizer.encode("a", "b", { maxLength: 2 })).toThrow("maxLength must be an integer of at least 3");
  expect(() => tokenizer.encode("a", undefined, { maxLength: 2.5 })).toThrow(RangeError);
});

Deno.test("basicTokenize() options: a cased vocabulary keeps case and accents; BERT keeps <br /> as text", () => {
  const text = "Café NAÏVE<br />Ångström e\u0301";
  expect(basicTokenize(text, { lowercase: false, htmlLineBreaks: false })).toEqual(
    ["Café", "NAÏVE", "<", "br", "/", ">", "Ångström", "e\u0301"],
  );
  expect(basicTokenize(text, { htmlLineBreaks: false })).toEqual(
    ["cafe", "naive", "<", "br", "/", ">", "angstrom", "e"],
  );
  expect(basicTokenize(text, { lowercase: false })).toEqual(["Café", "NAÏVE", "Ångström", "e\u0301"]);
  expect(basicTokenize("Hello, World!", { lowercase: false })).toEqual(["Hello", ",", "World", "!"]);
  expect(basicTokenize("ΟΔΟΣ\u0000 x\ufffd", { lowercase: false })).toEqual(["ΟΔΟΣ", "x"]);
  expect(basicTokenize(text)).toEqual(["cafe", "naive", "angstrom", "e"]);
});

Deno.test("manifestTokenizer() honours the manifest's case, HTML and truncation settings", () => {
  const cased = [...VOCAB.slice(0, 5), "The", "the", "Movie", "<", "br", "/", ">"];
  const spec = (lowercase: boolean, htmlLineBreaks: boolean) => ({
    id: "m",
    maxLength: 5,
    tokenizer: {
      type: "wordpiece" as const,
      vocab: "vocab.txt",
      lowercase,
      stripAccents: lowercase,
      htmlLineBreaks,
      truncation: "longest-first" as const,
      headTokens: 3,
      specialTokens: { pad: "[PAD]", unk: "[UNK]", cls: "[CLS]", sep: "[SEP]" },
    },
  });
  const ids = (t: WordPieceTokenizer, s: string) => t.encode(s).inputIds.map((i) => t.idToToken(i));
  const bert = manifestTokenizer(spec(false, false), cased.join("\n"));
  expect(ids(bert, "The Movie<br />")).toEqual(["[CLS]", "The", "Movie", "<", "[SEP]"]); // head kept (longest-first)
  const ours = manifestTokenizer(spec(true, true), cased.join("\n"));
  expect(ids(ours, "The Movie<br />")).toEqual(["[CLS]", "the", "[UNK]", "[SEP]"]);
  expect(() =>
    manifestTokenizer(
      { ...spec(true, true), tokenizer: { ...spec(true, true).tokenizer, stripAccents: false } },
      cased.join("\n"),
    )
  )
    .toThrow(UnsupportedTokenizerError);
  expect(() =>
    manifestTokenizer({
      ...spec(true, true),
      tokenizer: {
        ...spec(true, true).tokenizer,
        specialTokens: { pad: "<pad>", unk: "[UNK]", cls: "[CLS]", sep: "[SEP]" },
      },
    }, cased.join("\n"))
  ).toThrow("unsupported special tokens");
});
