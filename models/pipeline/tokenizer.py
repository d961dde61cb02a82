"""BERT-style WordPiece tokenizer: the reference implementation used in training.

`shared/tokenizer/` mirrors this file token for token (fixtures in tests/fixtures/tokenizer/).

Normalisation, in order:
  1. HTML line breaks (`<br />`, `<br/>`, `<br>`, any case) become a space (IMDb reviews are full of them).
  2. Control characters and U+FFFD are removed; whitespace characters become a space.
  3. CJK ideographs are surrounded by spaces.
  4. Lower-case, NFD, combining marks (category Mn) removed.
  5. Split on whitespace, then split every punctuation character off as its own token
     (ASCII 33-47, 58-64, 91-96, 123-126, or Unicode category P*).
WordPiece: greedy longest-match-first with `##` continuation pieces; a word longer than 100 characters or one
that cannot be fully matched becomes [UNK].
"""

import re
import unicodedata

PAD, UNK, CLS, SEP, MASK = "[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"
SPECIALS = [PAD, UNK, CLS, SEP, MASK]
MAX_WORD_CHARS = 100
_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def _is_whitespace(ch):
    if ch in (" ", "\t", "\n", "\r"):
        return True
    return unicodedata.category(ch) == "Zs"


def _is_control(ch):
    if ch in ("\t", "\n", "\r"):
        return False
    return unicodedata.category(ch) in ("Cc", "Cf")


def _is_punctuation(ch):
    cp = ord(ch)
    if (33 <= cp <= 47) or (58 <= cp <= 64) or (91 <= cp <= 96) or (123 <= cp <= 126):
        return True
    return unicodedata.category(ch).startswith("P")


def _is_cjk(cp):
    return (
        (0x4E00 <= cp <= 0x9FFF) or (0x3400 <= cp <= 0x4DBF) or (0x20000 <= cp <= 0x2A6DF)
        or (0x2A700 <= cp <= 0x2B73F) or (0x2B740 <= cp <= 0x2B81F) or (0x2B820 <= cp <= 0x2CEAF)
        or (0xF900 <= cp <= 0xFAFF) or (0x2F800 <= cp <= 0x2FA1F)
    )


def basic_tokenize(text, lowercase=True, html_line_breaks=True):
    """Normalise and split text into words and punctuation (steps 1-5 above).

    `html_line_breaks=False` skips step 1; `lowercase=False` skips step 4 (a cased BERT vocabulary: no lower-casing,
    accents kept), as imported checkpoints need (hf_import.py).
    """
    if html_line_breaks:
        text = _BR.sub(" ", text)
    out = []
    for ch in text:
        cp = ord(ch)
        if cp == 0 or cp == 0xFFFD or _is_control(ch):
            continue
        if _is_whitespace(ch):
            out.append(" ")
        elif _is_cjk(cp):
            out.append(" " + ch + " ")
        else:
            out.append(ch)
    text = "".join(out)
    if lowercase:
        text = unicodedata.normalize("NFD", text.lower())
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    tokens = []
    for word in text.split(" "):
        if not word:
            continue
        current = []
        for ch in word:
            if _is_punctuation(ch):
                if current:
                    tokens.append("".join(current))
                    current = []
                tokens.append(ch)
            else:
                current.append(ch)
        if current:
            tokens.append("".join(current))
    return tokens


def wordpiece(word, vocab):
    """Greedy longest-match-first WordPiece of one word; [UNK] when it cannot be matched."""
    if len(word) > MAX_WORD_CHARS:
        return [UNK]
    pieces = []
    start = 0
    while start < len(word):
        end = len(word)
        found = None
        while start < end:
            piece = word[start:end]
            if start > 0:
                piece = "##" + piece
            if piece in vocab:
                found = piece
                break
            end -= 1
        if found is None:
            return [UNK]
        pieces.append(found)
        start = end
    return pieces


class Tokenizer:
    """WordPiece tokenizer over a vocab.txt (one token per line, id = line number)."""

    def __init__(self, vocab_path, lowercase=True, html_line_breaks=True):
        self.lowercase, self.html_line_breaks = lowercase, html_line_breaks
        with open(vocab_path, encoding="utf-8") as f:
            self.itos = [line.rstrip("\n") for line in f]
        self.vocab = {t: i for i, t in enumerate(self.itos)}
        for s in SPECIALS:
            assert s in self.vocab, f"vocab lacks {s}"
        self.pad_id, self.unk_id = self.vocab[PAD], self.vocab[UNK]
        self.cls_id, self.sep_id = self.vocab[CLS], self.vocab[SEP]
        self._cache = {}

    def tokenize_ids(self, text):
        """Token ids of a text, no special tokens, no truncation."""
        ids = []
        cache = self._cache
        for word in basic_tokenize(text, self.lowercase, self.html_line_breaks):
            got = cache.get(word)
            if got is None:
                got = [self.vocab[p] for p in wordpiece(word, self.vocab)]
                if len(cache) < 500_000:
                    cache[word] = got
            ids.extend(got)
        return ids

    def encode(self, text, text_pair=None, max_length=256, head=64):
        """[CLS] a [SEP] (b [SEP]) with segment ids.

        Single text longer than max_length keeps `head` first and the rest from the end (head+tail truncation).
        Pairs are truncated longest-first (one token at a time from the end of the longer side).
        """
        a = self.tokenize_ids(text)
        if text_pair is None:
            budget = max_length - 2
            if len(a) > budget:
                a = a[:head] + a[len(a) - (budget - head):]
            ids = [self.cls_id] + a + [self.sep_id]
            return ids, [0] * len(ids)
        b = self.tokenize_ids(text_pair)
        budget = max_length - 3
        while len(a) + len(b) > budget:
            if len(a) >= len(b):
                a = a[:-1]
            else:
                b = b[:-1]
        ids = [self.cls_id] + a + [self.sep_id] + b + [self.sep_id]
        types = [0] * (len(a) + 2) + [1] * (len(b) + 1)
        return ids, types
