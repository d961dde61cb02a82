"""Dataset readers, vocabulary building and token caches for training.

Reads the real data in ../shared/data (or $SPLITEE_DATA). TSV files have a header and no quoting.
"""

import collections
import csv
import gzip
import os
import random
import re
import sys

from tokenizer import SPECIALS, Tokenizer, basic_tokenize, wordpiece

csv.field_size_limit(sys.maxsize)


def data_dir():
    env = os.environ.get("SPLITEE_DATA")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    cand = os.path.join(here, "../../../shared/data")  # the data folder beside the repository
    if os.path.isdir(cand):
        return os.path.normpath(cand)
    raise SystemExit("Cannot find the data folder (../shared/data beside the repository); set SPLITEE_DATA to it. "
                     "Where each dataset comes from: docs/data.md")


def read_tsv(path, text_col, label_col, pair_col=None, label_map=None):
    """Rows of (text, pair_or_None, label) from a headered, unquoted TSV (optionally .gz).

    label_map maps the label column's strings to ints; without it the column must hold ints.
    """
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
            raw = r[li].strip()
            label = label_map[raw] if label_map is not None else int(raw)
            rows.append((r[ti], r[pi] if pi is not None else None, label))
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


# Entailment labels follow SNLI's numbering. RTE's "not_entailment" is NOT_ENTAILMENT: neutral or contradiction, so
# its loss is -log(p_neutral + p_contradiction) and it counts as correct when the prediction is not entailment.
NLI_LABELS = {"entailment": 0, "neutral": 1, "contradiction": 2}
NOT_ENTAILMENT = 3
RTE_LABELS = {"entailment": 0, "not_entailment": NOT_ENTAILMENT}

_ALNUM = re.compile(r"[^a-z0-9]")

TASK_LABELS = {
    "sentiment": ["negative", "positive"],
    "paraphrase": ["not_duplicate", "duplicate"],
    "entailment": ["entailment", "neutral", "contradiction"],
}


def pair_key(a, b):
    """Identity of a pair on letters and digits only (the TextFooler and BiMPM files are pre-tokenized, -LRB- etc.)."""
    def norm(t):
        return _ALNUM.sub("", (t or "").lower().replace("-lrb-", "").replace("-rrb-", "")
                          .replace("-lsb-", "").replace("-rsb-", ""))
    return norm(a) + "\t" + norm(b)


def load_split(name):
    d = data_dir()
    if name == "qqp-sample":
        return read_tsv(os.path.join(d, "qqp/glue_train_sample.tsv"), "question1", "is_duplicate", "question2")
    if name == "qqp-bimpm-test":
        return read_tsv(os.path.join(d, "qqp/bimpm_quora_test.tsv"), "question1", "is_duplicate", "question2")
    if name in ("mrpc-train", "mrpc-dev"):
        return read_tsv(os.path.join(d, f"mrpc/{name[5:]}.tsv"), "#1 String", "Quality", "#2 String")
    if name == "mrpc-test":
        return read_tsv(os.path.join(d, "mrpc/msr_paraphrase_test.txt"), "#1 String", "Quality", "#2 String")
    if name == "mnli-dev-nongold":
        return [r for f in ("dev_matched_nongold.tsv", "dev_mismatched_nongold.tsv")
                for r in read_tsv(os.path.join(d, "mnli", f), "premise", "label_nongold", "hypothesis", NLI_LABELS)]
    if name == "mnli-textfooler":
        return [r for f in ("dev_matched_1k_textfooler.tsv", "dev_mismatched_1k_textfooler.tsv")
                for r in read_tsv(os.path.join(d, "mnli", f), "premise", "label", "hypothesis", NLI_LABELS)]
    if name == "mnli-dev-gold":
        return [r for f in ("dev_matched_gold.tsv", "dev_mismatched_gold.tsv")
                for r in read_tsv(os.path.join(d, "mnli", f), "premise", "label", "hypothesis", NLI_LABELS)]
    if name == "mnli-train-sample":
        return read_tsv(os.path.join(d, "mnli/train_sample_19k.tsv"), "premise", "label", "hypothesis", NLI_LABELS)
    if name in ("sick-train", "sick-trial", "sick-test"):
        return read_tsv(os.path.join(d, "sick", name[5:] + ".tsv"), "premise", "label", "hypothesis",
                        {k.upper(): v for k, v in NLI_LABELS.items()})
    if name == "scitail-train-sample":  # SciTail's "neutral" is "not entailment" (no contradiction class)
        return read_tsv(os.path.join(d, "scitail/train_ni_sample.tsv"), "premise", "label", "hypothesis",
                        {"entails": 0, "neutral": NOT_ENTAILMENT})
    if name == "scitail-dev":
        return read_tsv(os.path.join(d, "scitail/dev_preprocessed.tsv"), "premise", "label", "hypothesis",
                        {"entails": 0, "neutral": NOT_ENTAILMENT})
    if name == "snli-cad-original":
        return read_tsv(os.path.join(d, "snli/train_cad_original.tsv"), "premise", "label", "hypothesis", NLI_LABELS)
    if name == "snli-cad-revised":
        return read_tsv(os.path.join(d, "snli/train_cad_revised.tsv"), "premise", "label", "hypothesis", NLI_LABELS)
    if name == "snli-dev":
        return read_tsv(os.path.join(d, "snli/dev.tsv"), "premise", "label", "hypothesis")
    if name == "rte-train":
        return read_tsv(os.path.join(d, "rte/train.tsv"), "sentence1", "label", "sentence2", RTE_LABELS)
    if name == "rte-dev":
        return read_tsv(os.path.join(d, "rte/dev.tsv"), "sentence1", "label", "sentence2", RTE_LABELS)
    if name == "snli-test":
        return read_tsv(os.path.join(d, "snli/test.tsv"), "premise", "label", "hypothesis")
    if name == "sst2-train":
        return read_tsv(os.path.join(d, "sst2/train.tsv"), "sentence", "label")
    if name == "sst2-dev":
        return read_tsv(os.path.join(d, "sst2/dev.tsv"), "sentence", "label")
    if name == "imdb-train":
        return read_tsv(os.path.join(d, "imdb/train.tsv.gz"), "text", "label")
    if name == "imdb-test":
        return read_tsv(os.path.join(d, "imdb/test.tsv.gz"), "text", "label")
    raise ValueError(name)



def task_data(task, sources, seed, sst2_repeat=1, imdb_limit=0):
    """Training rows and the monitoring splits (name -> rows) of a task; held-out rows never reach training.

    sentiment:  SST-2 train (sst2_repeat times) + IMDb train minus 500 held out (at most imdb_limit of the rest when
                imdb_limit > 0); monitors SST-2 dev and the 500 IMDb reviews.
    paraphrase: any of (sources) qqp = the QQP GLUE-train sample minus 2,000 held out and minus any pair also in the
                BiMPM test split; mrpc = MRPC train (MRPC dev monitors it; MRPC test is never trained on).
    entailment: any of (sources) mnli = MNLI dev matched + mismatched with non-gold labels, mnli-gold = the same
                pairs with gold labels, both minus the 2,000 TextFooler pairs (held out); mnli-train = the 19,738-pair
                MNLI train sample; rte = RTE train (two classes, see NOT_ENTAILMENT); sick = SICK train; scitail =
                the 3,384-pair SciTail train sample (two classes); snli-cad = the 1,666 SNLI train pairs of CAD;
                snli-cad-revised = CAD's 6,664 human counterfactual rewrites of them (not SNLI itself).
                Monitors TextFooler MNLI, RTE dev, SNLI dev, SICK trial and SciTail dev (none is trained on).
    """
    rng = random.Random(seed)
    if task == "sentiment":
        rows, monitors = [], {"sst2-dev": load_split("sst2-dev")}
        if "sst2" in sources:
            rows += load_split("sst2-train") * sst2_repeat
        if "imdb" in sources:
            imdb = load_split("imdb-train")
            rng.shuffle(imdb)
            monitors["imdb-heldout"], imdb = imdb[:500], imdb[500:]
            rows += imdb[:imdb_limit] if imdb_limit > 0 else imdb
        return rows, monitors, {}
    if task == "paraphrase":
        known = {"qqp", "mrpc"}
        if set(sources) - known:
            raise ValueError(f"unknown paraphrase sources {sorted(set(sources) - known)}; known: {sorted(known)}")
        rows, monitors, info = [], {}, {}
        if "qqp" in sources:
            qqp = load_split("qqp-sample")
            test = {pair_key(a, b) for a, b, _ in load_split("qqp-bimpm-test")}
            test |= {pair_key(b, a) for a, b, _ in load_split("qqp-bimpm-test")}
            kept = [r for r in qqp if pair_key(r[0], r[1]) not in test]
            rng.shuffle(kept)
            rows, monitors["qqp-heldout"] = kept[2000:], kept[:2000]
            info["dropped_bimpm_test_overlap"] = len(qqp) - len(kept)
        if "mrpc" in sources:
            rows += load_split("mrpc-train")
            monitors["mrpc-dev"] = load_split("mrpc-dev")
            rng.shuffle(rows)
        return rows, monitors, info
    if task == "entailment":
        held = load_split("mnli-textfooler")
        keys = {pair_key(a, b) for a, b, _ in held}
        known = {"mnli", "mnli-gold", "mnli-train", "rte", "sick", "scitail", "snli-cad", "snli-cad-revised"}
        if set(sources) - known:
            raise ValueError(f"unknown entailment sources {sorted(set(sources) - known)}; known: {sorted(known)}")
        rows, info = [], {}
        for src, split in (("mnli", "mnli-dev-nongold"), ("mnli-gold", "mnli-dev-gold")):
            if src in sources:
                mnli = load_split(split)
                kept = [r for r in mnli if pair_key(r[0], r[1]) not in keys]
                info[f"{src}_dropped_textfooler_overlap"] = len(mnli) - len(kept)
                rows += kept
        for src, split in (("mnli-train", "mnli-train-sample"), ("rte", "rte-train"), ("sick", "sick-train"),
                           ("scitail", "scitail-train-sample"), ("snli-cad", "snli-cad-original"),
                           ("snli-cad-revised", "snli-cad-revised")):
            if src in sources:
                rows += load_split(split)
        rng.shuffle(rows)
        monitors = {"mnli-textfooler": held, "rte-dev": load_split("rte-dev"), "snli-dev": load_split("snli-dev"),
                    "sick-trial": load_split("sick-trial"), "scitail-dev": load_split("scitail-dev")}
        return rows, monitors, info
    raise ValueError(task)
