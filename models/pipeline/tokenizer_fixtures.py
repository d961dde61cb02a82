"""Write the tokenizer parity fixtures and the Unicode table that `shared/tokenizer/` runs on.

`tokenizer.py` is the reference; this script records what it does so the TypeScript port can be held to it token for
token, with no Python and no data folder at test time.

Writes (paths relative to the repository root):
  tests/fixtures/tokenizer/vocab.txt       copy of the vocab (default models/.work/vocab.txt)
  tests/fixtures/tokenizer/sst2_dev.json   all SST-2 dev sentences: untruncated ids + encode(256, head 64)
  tests/fixtures/tokenizer/imdb_500.json   first 500 IMDb test reviews: same
  tests/fixtures/tokenizer/pairs.json      SNLI, RTE and long IMDb pairs: encode at max_length 64 and 128
  tests/fixtures/tokenizer/edge.json       hand-made edge cases: basic tokens, ids, small truncations, pairs
  tests/fixtures/tokenizer/unicode.json    basic_tokenize("a" + ch + "a") for every code point, run-length coded
  shared/tokenizer/unicode_data.ts         this Python's general categories (Cc/Cf, Zs, P*, Mn, Cn) as ranges

Usage: python3 models/pipeline/tokenizer_fixtures.py [--vocab models/.work/vocab.txt]
"""

import argparse
import csv
import hashlib
import json
import os
import shutil
import sys
import unicodedata

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import data_dir, read_tsv  # noqa: E402
from tokenizer import Tokenizer, basic_tokenize  # noqa: E402

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "../.."))
OUT = os.path.join(ROOT, "tests/fixtures/tokenizer")

EDGE_TEXTS = [
    "",
    " ",
    "   \t\n\r  ",
    "\u00a0\u3000\u2003",
    "Hello, world!",
    "don't stop-believin'... U.S.A. $100.00 e-mail ~`^|+=<> 3.14%",
    "¿Qué pasa? ¡Hola! a—b–c … §¶ ± € £5 ½",
    "“Smart” ‘quotes’ it’s „German“ «French» ‹x›",
    "Café naïve résumé façade coöperate ÀÉÎÕÜ Ångström",
    "e\u0301 n\u0303 a\u0308\u0304 Z̴̡̛͎a̴l̶g̶o̶ \u0301lead \u0301",
    "é" * 60 + " " + "e\u0301" * 60,
    "a" * 100,
    "a" * 101,
    "un" + "believable" * 10,
    "北京欢迎你 Tokyo東京 中文abc字 𠀀𠀁 豈 \u9ffd \U0002b739x",
    "한국어 ひらがな がぎぐ カタカナ ガ",
    "हिन्दी العربية ไทย עִבְרִית",
    "I ❤️ it 😂👍🏽 👨‍👩‍👧 🇫🇷",
    "𝐀𝐁𝐂 𝐚𝐛𝐜 𐐀𐐁 𝔘𝔫𝔦",
    "a\u0000b\u0001c\u007fd\u200be\ufefff \ufffdg h\u00adi \u0085j\x0bk\x0cl\x1cm\x1fn",
    "a\u2028b\u2029c \u180ed \u200de \u2060f \u00a0g",
    "first<br />second<BR/>third<br>fourth<Br  />fifth<br\t/>sixth",
    "a<br\x1c>b<br\x85>c<br\u00a0/>d<br\u3000>e<br\ufeff>f<br/ >g<b r>h<brr>i<br//>j",
    "<br /><br />",
    "ΟΔΟΣ ΣΑΣ ΣΑΣ. Σ ΑΣ'Α ΑΣ\u0301Β ΑΣ\u0301 ΌΣΟΣ.",
    "İstanbul ß ẞ ǅ Ǆ K Å Ω ﬁ Ⅻ ① ª ı ſ",
    "\u037e \u0387 \u1fef \u2126 \u212b",
    "Ahom \U0001171e|\U00011712\U0001171e| pepet a\u0897b",
    "new \ua7cb\u1c89 ΑΣ\ua7cb \U00010d50 \u1b4e \U00010d69x",
    "The   movie    was  GREAT!!!   10/10",
    "## ##ing [UNK] [CLS] [SEP] [PAD] [MASK]",
    "x" * 30 + "y" * 30 + "z" * 45,
    "\U0010ffff\U000e0001 \ue000 \U000f0000",
]

EDGE_PAIRS = [
    ("", ""),
    ("a b c", ""),
    ("", "a b c"),
    ("one two three four five six seven", "eight nine ten eleven twelve thirteen fourteen"),
    ("short", "a much much much longer second sentence that has to be cut down to size by the truncation"),
    ("Café «naïve»", "北京 ❤️ ΟΔΟΣ"),
]


def dumps(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def write_fixture(name, header, samples):
    """Header fields on one line, then one sample per line (compact but diffable)."""
    path = os.path.join(OUT, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write("{" + dumps(header)[1:-1] + ',"samples":[\n')
        f.write(",\n".join(dumps(s) for s in samples))
        f.write("\n]}\n")
    print(f"{name}: {len(samples)} samples, {os.path.getsize(path) / 1e6:.2f} MB")


def single_sample(tok, text, max_length, head):
    ids, types = tok.encode(text, max_length=max_length, head=head)
    return {"text": text, "ids": tok.tokenize_ids(text), "encoded": {"inputIds": ids, "tokenTypeIds": types}}


def pair_sample(tok, text, pair, lengths):
    out = {"text": text, "pair": pair}
    for n in lengths:
        ids, types = tok.encode(text, pair, max_length=n)
        out[f"encoded{n}"] = {"inputIds": ids, "tokenTypeIds": types}
    return out


def read_rows(path, cols):
    with open(path, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        idx = [header.index(c) for c in cols]
        return [tuple(r[i] for i in idx) for r in reader if len(r) >= len(header)]


def probe_kind(cp):
    ch = chr(cp)
    got = basic_tokenize("a" + ch + "a")
    if got == ["a" + ch + "a"]:
        return "k", None
    if got == ["aa"]:
        return "d", None
    if got == ["a", "a"]:
        return "s", None
    if got == ["a", ch, "a"]:
        return "p", None
    return "x", got


def unicode_probe():
    """Run-length coded kinds over all code points (k keep, d drop, s space, p split, x see `other`)."""
    runs, other, prev, start = [], {}, None, 0
    for cp in range(0x110000):
        kind = "k" if 0xD800 <= cp <= 0xDFFF else None  # lone surrogates cannot occur in UTF-8 input: not probed
        if kind is None:
            kind, got = probe_kind(cp)
            if got is not None:
                other[f"{cp:x}"] = got
        if kind != prev:
            if prev is not None:
                runs.append(f"{prev}{start:x}")
            prev, start = kind, cp
    runs.append(f"{prev}{start:x}")
    return runs, other


def category_kind(cp):
    cat = unicodedata.category(chr(cp))
    if cat in ("Cc", "Cf"):
        return "C"
    if cat == "Zs":
        return "Z"
    if cat == "Mn":
        return "M"
    if cat == "Cn":
        return "N"
    if cat.startswith("P"):
        return "P"
    return None


def write_unicode_table():
    """shared/tokenizer/unicode_data.ts: ranges of the categories basic_tokenize tests, from this Python."""
    entries, prev, start = [], None, 0
    for cp in range(0x110001):
        kind = None if cp > 0x10FFFF or 0xD800 <= cp <= 0xDFFF else category_kind(cp)
        if kind != prev:
            if prev is not None:
                end = cp - 1
                entries.append(f"{prev}{start:x}" + (f"-{end:x}" if end != start else ""))
            prev, start = kind, cp
    lines, line = [], ""
    for e in entries:
        if len(line) + len(e) + 1 > 104:
            lines.append(line)
            line = ""
        line += (" " if line else "") + e
    lines.append(line)
    body = "\n".join(f'  "{ln} ",' for ln in lines)
    src = f'''// Generated by models/pipeline/tokenizer_fixtures.py from Python {sys.version.split()[0]}'s unicodedata. Do not edit.

/** Unicode version of the general categories below: the one `models/pipeline/tokenizer.py` runs with. */
export const UNICODE_VERSION = "{unicodedata.unidata_version}";

/**
 * General categories that basic tokenization tests, as space-separated `<kind><start hex>[-<end hex>]` ranges
 * (sorted, disjoint): C = Cc or Cf, Z = Zs, P = any P*, M = Mn, N = Cn (unassigned in {unicodedata.unidata_version}).
 * Code points not listed are in none of these categories.
 */
export const CATEGORY_RANGES: readonly string[] = [
{body}
];
'''
    path = os.path.join(ROOT, "shared/tokenizer/unicode_data.ts")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(src)
    print(f"unicode_data.ts: {len(entries)} ranges, {len(src) / 1e3:.1f} kB")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vocab", default=os.path.join(ROOT, "models/.work/vocab.txt"))
    args = ap.parse_args()
    os.makedirs(OUT, exist_ok=True)
    vocab_path = os.path.join(OUT, "vocab.txt")
    if os.path.abspath(args.vocab) != os.path.abspath(vocab_path):
        shutil.copyfile(args.vocab, vocab_path)
    tok = Tokenizer(vocab_path)
    with open(vocab_path, "rb") as f:
        vocab_sha = hashlib.sha256(f.read()).hexdigest()
    header = {
        "generator": "models/pipeline/tokenizer_fixtures.py",
        "python": sys.version.split()[0],
        "unicode": unicodedata.unidata_version,
        "vocab": "vocab.txt",
        "vocabSha256": vocab_sha,
    }
    d = data_dir()

    sst = read_tsv(os.path.join(d, "sst2/dev.tsv"), "sentence", "label")
    write_fixture("sst2_dev.json", {**header, "maxLength": 256, "headTokens": 64},
                  [single_sample(tok, t, 256, 64) for t, _, _ in sst])

    imdb = read_tsv(os.path.join(d, "imdb/test.tsv.gz"), "text", "label")[:500]
    write_fixture("imdb_500.json", {**header, "maxLength": 256, "headTokens": 64},
                  [single_sample(tok, t, 256, 64) for t, _, _ in imdb])

    snli = read_rows(os.path.join(d, "snli/dev.tsv"), ["premise", "hypothesis"])[:100]
    rte = read_rows(os.path.join(d, "rte/dev.tsv"), ["sentence1", "sentence2"])[:100]
    long_pairs = [(imdb[i][0], imdb[i + 1][0]) for i in range(0, 40, 2)]
    pairs = [pair_sample(tok, a, b, (64, 128)) for a, b in snli + rte + long_pairs]
    write_fixture("pairs.json", {**header, "maxLengths": [64, 128], "sources": "snli dev 100, rte dev 100, imdb 20"},
                  pairs)

    edge = []
    for t in EDGE_TEXTS:
        s = single_sample(tok, t, 256, 64)
        ids, types = tok.encode(t, max_length=12, head=4)
        s["basic"] = basic_tokenize(t)
        s["encodedShort"] = {"inputIds": ids, "tokenTypeIds": types}
        edge.append(s)
    edge_pairs = [pair_sample(tok, a, b, (8, 64)) for a, b in EDGE_PAIRS]
    write_fixture("edge.json", {**header, "maxLength": 256, "headTokens": 64, "short": {"maxLength": 12,
                  "headTokens": 4}, "pairLengths": [8, 64], "pairs": edge_pairs}, edge)

    runs, other = unicode_probe()
    path = os.path.join(OUT, "unicode.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write("{" + dumps({**header, "probe": "a<ch>a"})[1:-1] + ',\n"runs":' + dumps(" ".join(runs)))
        f.write(',\n"other":{\n' + ",\n".join(f"{dumps(k)}:{dumps(v)}" for k, v in other.items()) + "\n}}\n")
    print(f"unicode.json: {len(runs)} runs, {len(other)} other, {os.path.getsize(path) / 1e6:.2f} MB")

    write_unicode_table()


if __name__ == "__main__":
    main()
