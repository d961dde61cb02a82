"""Dataset readers, vocabulary building and token caches for training.

Reads the real data in ../shared/data (or $SPLITEE_DATA). TSV files have a header and no quoting.
"""

import collections
import csv
import gzip
import os
import sys

from tokenizer import SPECIALS, Tokenizer, basic_tokenize, wordpiece

csv.field_size_limit(sys.maxsize)


def data_dir():
    env = os.environ.get("SPLITEE_DATA")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in (os.path.join(here, "../../../shared/data"), "/work/shared/data"):
        if os.path.isdir(cand):
            return os.path.normpath(cand)
    raise SystemExit("Cannot find the shared data folder; set SPLITEE_DATA to ../shared/data")


def read_tsv(path, text_col, label_col, pair_col=None):
    """Rows of (text, pair_or_None, label) from a headered, unquoted TSV (optionally .gz)."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader)
        ti, li = header.index(text_col), header.index(label_col)
        pi = header.index(pair_col) if pair_col else None
        rows = []
        for r in reader:
            if len(r) < len(header):
                continue
            rows.append((r[ti], r[pi] if pi is not None else None, int(r[li])))
        return rows


def build_vocab(texts, bert_vocab_path, out_path, min_count=3):
    """A pruned WordPiece vocab: the BERT pieces the training text actually uses at least min_count times."""
    with open(bert_vocab_path, encoding="utf-8") as f:
        bert = [line.rstrip("\n") for line in f]
    bert_set = set(bert)
    counts = collections.Counter()
    word_counts = collections.Counter()
    for t in texts:
        word_counts.update(basic_tokenize(t))
    for w, c in word_counts.items():
        for p in wordpiece(w, bert_set):
            counts[p] += c
    keep = [t for t in bert if counts.get(t, 0) >= min_count and t not in SPECIALS and not t.startswith("[unused")]
    vocab = SPECIALS + keep
    with open(out_path, "w", encoding="utf-8") as f:
        for t in vocab:
            f.write(t + "\n")
    return len(vocab)


def encode_rows(tok, rows, max_length, head):
    out = []
    for text, pair, label in rows:
        ids, types = tok.encode(text, pair, max_length=max_length, head=head)
        out.append((ids, types, label))
    return out


def load_split(name):
    d = data_dir()
    if name == "sst2-train":
        return read_tsv(os.path.join(d, "sst2/train.tsv"), "sentence", "label")
    if name == "sst2-dev":
        return read_tsv(os.path.join(d, "sst2/dev.tsv"), "sentence", "label")
    if name == "imdb-train":
        return read_tsv(os.path.join(d, "imdb/train.tsv.gz"), "text", "label")
    if name == "imdb-test":
        return read_tsv(os.path.join(d, "imdb/test.tsv.gz"), "text", "label")
    raise ValueError(name)

