"""Per-exit accuracy and mean confidence of a checkpoint on a split, in PyTorch (used for the findings runs).

Usage: python3 models/pipeline/evaluate.py --work models/.work-sst2 --split imdb-test [--limit 2000]
The exported ONNX model is evaluated with `deno task exits` + `deno task eval` instead.
"""

import argparse
import json
import os
import random
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import encode_rows, load_split  # noqa: E402
from model import Config, MultiExitEncoder  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402
from train import evaluate  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--split", required=True)
    ap.add_argument("--limit", type=int, default=0)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--head-tokens", type=int, default=64)
    args = ap.parse_args()
    torch.set_num_threads(2)
    ck = torch.load(os.path.join(args.work, "final.pt"))
    cfg = Config(**ck["config"])
    model = MultiExitEncoder(cfg)
    model.load_state_dict(ck["model"])
    tok = Tokenizer(os.path.join(args.work, "vocab.txt"))
    rows = load_split(args.split)
    if args.limit:
        random.Random(0).shuffle(rows)
        rows = rows[: args.limit]
    samples = encode_rows(tok, rows, min(args.max_length, cfg.max_length), args.head_tokens)
    acc, conf = evaluate(model, samples, tok.pad_id)
    print(json.dumps({"work": args.work, "split": args.split, "n": len(samples), "acc": acc, "conf": conf}))


if __name__ == "__main__":
    main()
