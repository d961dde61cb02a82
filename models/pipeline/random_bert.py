"""Write a Hugging Face-layout BERT checkpoint with RANDOM weights (timing only: random weights, not a classifier).

Default shape: BERT-base (12 layers, hidden 768, 12 heads, FFN 3072, vocab 30,522, max length 512, 2 labels), in the
BertForSequenceClassification layout (bert.*, bert.pooler.*, classifier.*), weights in model.safetensors. The
vocabulary is --vocab when given (it must have --vocab-size lines), else a synthetic one: the special tokens, ASCII
characters and their ## forms, then filler tokens.

Usage: python3 models/pipeline/random_bert.py --out models/.work-bert-base/checkpoint [--vocab path/vocab.txt]
"""

import argparse
import json
import os
import string
import struct
import sys

import numpy as np

LABEL_NOTE = "timing only: random weights, not a classifier"


def write_safetensors(path, tensors):
    """Minimal safetensors writer: 8-byte LE header length, JSON header, then the float32 buffers in order."""
    header, offset = {}, 0
    for k, v in tensors.items():
        n = v.size * 4
        header[k] = {"dtype": "F32", "shape": list(v.shape), "data_offsets": [offset, offset + n]}
        offset += n
    header["__metadata__"] = {"format": "pt", "note": LABEL_NOTE}
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for v in tensors.values():
            f.write(np.ascontiguousarray(v, dtype="<f4").tobytes())


def synthetic_vocab(size):
    tokens = ["[PAD]"] + [f"[unused{i}]" for i in range(99)] + ["[UNK]", "[CLS]", "[SEP]", "[MASK]"]
    chars = [c for c in string.ascii_lowercase + string.digits + string.punctuation]
    tokens += chars + ["##" + c for c in chars if c.isalnum()]
    i = 0
    while len(tokens) < size:
        tokens.append(f"tok{i}")
        i += 1
    return tokens[:size]


def random_state(layers, hidden, ffn, vocab, max_pos, labels, rng, std=0.02):
    def n(*shape):
        return rng.normal(0, std, shape).astype(np.float32)

    def ones(k):
        return np.ones(k, np.float32)

    def zeros(k):
        return np.zeros(k, np.float32)

    sd = {"bert.embeddings.word_embeddings.weight": n(vocab, hidden),
          "bert.embeddings.position_embeddings.weight": n(max_pos, hidden),
          "bert.embeddings.token_type_embeddings.weight": n(2, hidden),
          "bert.embeddings.LayerNorm.weight": ones(hidden), "bert.embeddings.LayerNorm.bias": zeros(hidden)}
    for i in range(layers):
        p = f"bert.encoder.layer.{i}."
        for name in ("attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense"):
            sd[p + name + ".weight"], sd[p + name + ".bias"] = n(hidden, hidden), zeros(hidden)
        sd[p + "attention.output.LayerNorm.weight"], sd[p + "attention.output.LayerNorm.bias"] = ones(hidden), \
            zeros(hidden)
        sd[p + "intermediate.dense.weight"], sd[p + "intermediate.dense.bias"] = n(ffn, hidden), zeros(ffn)
        sd[p + "output.dense.weight"], sd[p + "output.dense.bias"] = n(hidden, ffn), zeros(hidden)
        sd[p + "output.LayerNorm.weight"], sd[p + "output.LayerNorm.bias"] = ones(hidden), zeros(hidden)
    sd["bert.pooler.dense.weight"], sd["bert.pooler.dense.bias"] = n(hidden, hidden), zeros(hidden)
    sd["classifier.weight"], sd["classifier.bias"] = n(labels, hidden), zeros(labels)
    return sd


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=768)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--ffn", type=int, default=3072)
    ap.add_argument("--vocab-size", type=int, default=30522)
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--vocab", default=None, help="a vocab.txt to copy (must have --vocab-size lines)")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    if a.vocab and os.path.exists(a.vocab):
        with open(a.vocab, encoding="utf-8") as fh:
            tokens = fh.read().split("\n")
        if tokens[-1] == "":
            tokens.pop()
        if len(tokens) != a.vocab_size:
            sys.exit(f"{a.vocab}: {len(tokens)} tokens, expected {a.vocab_size}")
        vocab_from = "copied"
    else:
        tokens, vocab_from = synthetic_vocab(a.vocab_size), "synthetic"
    os.makedirs(a.out, exist_ok=True)
    rng = np.random.default_rng(a.seed)
    labels = ["timing_only_a", "timing_only_b"]
    cfg = {"architectures": ["BertForSequenceClassification"], "model_type": "bert", "hidden_size": a.hidden,
           "num_hidden_layers": a.layers, "num_attention_heads": a.heads, "intermediate_size": a.ffn,
           "hidden_act": "gelu", "hidden_dropout_prob": 0.1, "attention_probs_dropout_prob": 0.1,
           "max_position_embeddings": a.max_length, "type_vocab_size": 2, "vocab_size": a.vocab_size,
           "layer_norm_eps": 1e-12, "pad_token_id": 0, "position_embedding_type": "absolute",
           "id2label": {str(i): x for i, x in enumerate(labels)}, "label2id": {x: i for i, x in enumerate(labels)},
           "_note": LABEL_NOTE}
    with open(os.path.join(a.out, "config.json"), "w") as fh:
        json.dump(cfg, fh, indent=1)
    with open(os.path.join(a.out, "vocab.txt"), "w", encoding="utf-8") as fh:
        fh.write("\n".join(tokens) + "\n")
    with open(os.path.join(a.out, "tokenizer_config.json"), "w") as fh:
        json.dump({"do_lower_case": True, "model_max_length": a.max_length}, fh)
    with open(os.path.join(a.out, "README.md"), "w") as fh:
        fh.write(f"# {LABEL_NOTE}\n\nRandom BERT weights (seed {a.seed}) in the Hugging Face layout, written by "
                 f"models/pipeline/random_bert.py; vocabulary {vocab_from}.\n")
    write_safetensors(os.path.join(a.out, "model.safetensors"),
                      random_state(a.layers, a.hidden, a.ffn, a.vocab_size, a.max_length, 2, rng))
    print(json.dumps({"out": a.out, "layers": a.layers, "hidden": a.hidden, "vocab": vocab_from}))


if __name__ == "__main__":
    main()
