/**
 * Token-for-token parity of `shared/tokenizer/` with the Python reference `models/pipeline/tokenizer.py`, over
 * the fixtures `models/pipeline/tokenizer_fixtures.py` writes: all SST-2 dev sentences, 500 IMDb reviews, 220
 * sentence pairs, hand-made edge cases and every Unicode code point.
 */

import { expect } from "expect";
import { basicTokenize, UNICODE_VERSION, WordPieceTokenizer } from "../shared/tokenizer/mod.ts";
import type { Encoding } from "../shared/tokenizer/mod.ts";

const FIXTURES = new URL("./fixtures/tokenizer/", import.meta.url);

interface Header {
  python: string;
  unicode: string;
  vocabSha256: string;
}
interface SingleSample {
  text: string;
  ids: number[];
  encoded: Encoding;
  basic?: string[];
  encodedShort?: Encoding;
}
interface PairSample {
  text: string;
  pair: string;
  [encodedAtLength: `encoded${number}`]: Encoding;
}
interface SingleFixture extends Header {
  maxLength: number;
  headTokens: number;
  samples: SingleSample[];
}

function encodedAt(sample: PairSample, maxLength: number): Encoding {
  const encoded = sample[`encoded${maxLength}`];
  if (encoded === undefined) throw new Error(`Pair fixture lacks encoded${maxLength}`);
  return encoded;
}

async function readJson<T>(name: string): Promise<T> {
  return JSON.parse(await Deno.readTextFile(new URL(name, FIXTURES))) as T;
}

const vocabText = await Deno.readTextFile(new URL("vocab.txt", FIXTURES));
const tokenizer = new WordPieceTokenizer(vocabText);

function show(ids: readonly number[], around: number): string {
  const from = Math.max(0, around - 8);
  const pieces = ids.slice(from, around + 8).map((id) => tokenizer.idToToken(id) ?? `<${id}>`);
  return `${from > 0 ? "... " : ""}${pieces.join(" ")}${around + 8 < ids.length ? " ..." : ""}`;
}

/** Fails with the text and both token sequences around the first difference. */
function assertSameIds(what: string, text: string, actual: readonly number[], expected: readonly number[]): void {
  let at = 0;
  while (at < actual.length && at < expected.length && actual[at] === expected[at]) at++;
  if (at === actual.length && at === expected.length) return;
  const shown = text.length > 400 ? `${text.slice(0, 400)}... (${text.length} chars)` : text;
  throw new Error(
    `${what}: first mismatch at token ${at} (TypeScript ${actual.length} tokens, Python ${expected.length})\n` +
      `text: ${JSON.stringify(shown)}\nTypeScript: ${show(actual, at)}\nPython:     ${show(expected, at)}`,
  );
}

function assertSameEncoding(what: string, text: string, actual: Encoding, expected: Encoding): void {
  assertSameIds(`${what} inputIds`, text, actual.inputIds, expected.inputIds);
  assertSameIds(`${what} tokenTypeIds`, text, actual.tokenTypeIds, expected.tokenTypeIds);
}

async function checkSingles(name: string, count: number): Promise<void> {
  const fixture = await readJson<SingleFixture>(name);
  expect(fixture.samples).toHaveLength(count);
  const options = { maxLength: fixture.maxLength, headTokens: fixture.headTokens };
  fixture.samples.forEach((s, i) => {
    assertSameIds(`${name} #${i} tokenizeIds`, s.text, tokenizer.tokenizeIds(s.text), s.ids);
    assertSameEncoding(`${name} #${i} encode`, s.text, tokenizer.encode(s.text, undefined, options), s.encoded);
  });
}

Deno.test("fixtures were made from the committed vocab with the Unicode version the tokenizer pins", async () => {
  const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(new URL("vocab.txt", FIXTURES)));
  const sha = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
  for (const name of ["sst2_dev.json", "imdb_500.json", "pairs.json", "edge.json", "unicode.json"]) {
    const header = await readJson<Header>(name);
    expect({ name, sha, unicode: header.unicode }).toEqual({ name, sha: header.vocabSha256, unicode: UNICODE_VERSION });
  }
});

Deno.test("tokenizeIds and encode(256, head 64) match Python on all 872 SST-2 dev sentences", async () => {
  await checkSingles("sst2_dev.json", 872);
});

Deno.test("tokenizeIds and encode(256, head 64) match Python on the first 500 IMDb test reviews", async () => {
  await checkSingles("imdb_500.json", 500);
});

Deno.test("encode of 220 pairs (SNLI, RTE, IMDb) at maxLength 64 and 128 matches Python", async () => {
  const fixture = await readJson<{ maxLengths: number[]; samples: PairSample[] }>("pairs.json");
  expect(fixture.samples).toHaveLength(220);
  expect(fixture.maxLengths).toEqual([64, 128]);
  let truncated = 0;
  fixture.samples.forEach((s, i) => {
    for (const maxLength of fixture.maxLengths) {
      const expected = encodedAt(s, maxLength);
      if (expected.inputIds.length === maxLength) truncated++;
      const actual = tokenizer.encode(s.text, s.pair, { maxLength });
      assertSameEncoding(
        `pairs.json #${i} encode(maxLength ${maxLength})`,
        `${s.text} ||| ${s.pair}`,
        actual,
        expected,
      );
    }
  });
  expect(truncated).toBeGreaterThan(50); // the fixture exercises truncation
});

Deno.test("hand-made edge cases match Python: basic tokens, ids, truncations and pairs", async () => {
  const fixture = await readJson<
    SingleFixture & { short: { maxLength: number; headTokens: number }; pairLengths: number[]; pairs: PairSample[] }
  >("edge.json");
  expect(fixture.samples.length).toBeGreaterThan(30);
  fixture.samples.forEach((s, i) => {
    const what = `edge.json #${i}`;
    expect({ what, basic: basicTokenize(s.text) }).toEqual({ what, basic: s.basic });
    assertSameIds(`${what} tokenizeIds`, s.text, tokenizer.tokenizeIds(s.text), s.ids);
    assertSameEncoding(`${what} encode`, s.text, tokenizer.encode(s.text), s.encoded);
    assertSameEncoding(
      `${what} encode(short)`,
      s.text,
      tokenizer.encode(s.text, undefined, fixture.short),
      s.encodedShort as Encoding,
    );
  });
  fixture.pairs.forEach((s, i) => {
    for (const maxLength of fixture.pairLengths) {
      const actual = tokenizer.encode(s.text, s.pair, { maxLength });
      assertSameEncoding(`edge pair #${i} (${maxLength})`, `${s.text} ||| ${s.pair}`, actual, encodedAt(s, maxLength));
    }
  });
});

Deno.test("basicTokenize('a' + ch + 'a') matches Python for every code point", async () => {
  const fixture = await readJson<{ runs: string; other: Record<string, string[]> }>("unicode.json");
  const runs = fixture.runs.split(" ").map((r) => ({ kind: r[0], start: parseInt(r.slice(1), 16) }));
  const mismatches: string[] = [];
  let checked = 0;
  runs.forEach(({ kind, start }, r) => {
    const end = (runs[r + 1]?.start ?? 0x110000) - 1;
    for (let cp = start; cp <= end; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue; // lone surrogates cannot come from UTF-8 text
      const ch = String.fromCodePoint(cp);
      const expected = kind === "k"
        ? [`a${ch}a`]
        : kind === "d"
        ? ["aa"]
        : kind === "s"
        ? ["a", "a"]
        : kind === "p"
        ? ["a", ch, "a"]
        : fixture.other[cp.toString(16)];
      const actual = basicTokenize(`a${ch}a`);
      checked++;
      if (JSON.stringify(actual) !== JSON.stringify(expected) && mismatches.length < 20) {
        mismatches.push(`U+${cp.toString(16).toUpperCase()}: ${JSON.stringify(actual)} != ${JSON.stringify(expected)}`);
      }
    }
  });
  expect(mismatches).toEqual([]);
  expect(checked).toBe(0x110000 - 0x800);
});
