"""Recover a PyTorch checkpoint (the `final.pt` format export.py reads) from an exported model directory.

The exported segments hold every weight: the token table as int8 rows with a float32 scale each (recovered as their
dequantised product, exactly what the ONNX graph computes), the other parameters by name, and the four block matrices
as the transposed `onnx::MatMul_*` initializers in the order the block applies them (qkv, out, fc1, fc2). The result
is checked against the model's own parity fixtures (parity.json) before it is written.

Used to continue training a committed model (train.py --init-from) when its training work directory is gone.

Usage: python3 models/pipeline/from_onnx.py --model models/sentiment --out models/.work-x/init.pt
"""

import argparse
import json
import os
import re
import shutil
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import MATCH_EXCLUDED_TOKENS, Config, MultiExitEncoder  # noqa: E402


def _inits(path):
    import onnx
    from onnx import numpy_helper

    return {t.name: numpy_helper.to_array(t) for t in onnx.load(path).graph.initializer}


def recover(model_dir):
    """Returns (config dict, state dict) of the model exported in model_dir."""
    with open(os.path.join(model_dir, "manifest.json")) as f:
        man = json.load(f)
    emb = _inits(os.path.join(model_dir, man["embed"]["file"]))
    if "tok_q" in emb:
        tok = emb["tok_q"].astype(np.float32) * emb["tok_scale"][:, None]
    else:
        tok = emb["m.embed.tok.weight"]
    pool = "first" if man.get("architecture", {}).get("exitPooling") == "first-token" else "mean"
    match = bool(man["embed"].get("crossSegmentMatch", False))
    exclude = []
    if match:  # the ids that never match: padding, unknown and the separators, as train.py chose them
        with open(os.path.join(model_dir, man["tokenizer"]["vocab"]), encoding="utf-8") as f:
            ids = {line.rstrip("\n"): i for i, line in enumerate(f)}
        exclude = [ids[t] for t in MATCH_EXCLUDED_TOKENS]
    cfg = Config(tok.shape[0], len(man["labels"]), layers=man["layers"], hidden=man["hiddenSize"], heads=man["heads"],
                 ffn=man["ffnSize"], max_length=man["maxLength"], pool=pool, match=match, match_exclude=exclude)
    state = {"embed.tok.weight": tok}
    if match:
        state["embed.match.weight"] = emb["m.embed.match.weight"]
    for k in ("pos", "typ"):
        state[f"embed.{k}.weight"] = emb[f"m.embed.{k}.weight"]
    state["embed.norm.weight"], state["embed.norm.bias"] = emb["m.embed.norm.weight"], emb["m.embed.norm.bias"]
    for i, seg in enumerate(man["segments"]):
        init = _inits(os.path.join(model_dir, seg["file"]))
        mats = sorted((n for n in init if n.startswith("onnx::MatMul_")), key=lambda n: int(re.sub(r"\D", "", n)))
        if len(mats) != 4:
            raise SystemExit(f"{seg['file']}: expected 4 MatMul weights, found {len(mats)}")
        for name, arr in init.items():
            if not name.startswith("onnx::"):
                state[f"layers.{i}.{name}"] = arr
        for lin, name in zip(("qkv", "out", "fc1", "fc2"), mats):
            state[f"layers.{i}.block.{lin}.weight"] = init[name].T
    state = {k: torch.from_numpy(np.array(v, dtype=v.dtype)) for k, v in state.items()}
    return cfg, state


def check_parity(model, model_dir):
    """Max |logit difference| against the model's parity fixtures, over every case and exit."""
    with open(os.path.join(model_dir, "parity.json")) as f:
        parity = json.load(f)
    worst = 0.0
    with torch.no_grad():
        for c in parity["cases"]:
            ids, types = torch.tensor(c["inputIds"]), torch.tensor(c["tokenTypeIds"])
            mask = torch.tensor(c["attentionMask"], dtype=torch.float32)
            for lg, want in zip(model(ids, types, mask), c["layers"]):
                worst = max(worst, float((lg - torch.tensor(want["logits"])).abs().max()))
    return worst


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="an exported model directory (manifest.json, *.onnx, parity.json)")
    ap.add_argument("--out", required=True,
                    help="where to write the checkpoint ({config, model}); the model's vocab.txt is copied beside it")
    args = ap.parse_args()
    cfg, state = recover(args.model)
    model = MultiExitEncoder(cfg)
    model.load_state_dict(state)
    model.eval()
    diff = check_parity(model, args.model)
    if diff > 1e-4:
        raise SystemExit(f"recovered weights do not reproduce parity.json (max logit diff {diff:.2e})")
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    torch.save({"config": cfg.to_dict(), "model": model.state_dict()}, args.out)
    shutil.copyfile(os.path.join(args.model, "vocab.txt"), os.path.join(os.path.dirname(os.path.abspath(args.out)),
                                                                       "vocab.txt"))
    print(json.dumps({"out": args.out, "parity_max_logit_diff": diff}))


if __name__ == "__main__":
    main()
