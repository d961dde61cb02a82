"""Export a trained multi-exit model as per-layer ONNX segments + manifest.json + parity fixtures.

Segments (dynamic batch B and sequence T axes, opset 17):
  embed.onnx:     input_ids[B,T] int64, token_type_ids[B,T] int64          -> hidden[B,T,D] f32

The token-embedding table (the largest tensor: V x D) is stored as int8 with one float32 scale per row by default
(`--embed-dtype int8`): the model's own table is replaced by its dequantised values *before* export, so the ONNX graph
(Gather int8 rows -> Cast -> Mul by the gathered row scales), the parity fixtures and the layers all use exactly the
same numbers. A quarter of the bytes on disk and, above all, in onnxruntime-web's WASM heap (docs/benchmarks.md).
  layer_NN.onnx:  hidden[B,T,D] f32, attention_mask[B,T] f32 (1 real, 0 pad) -> hidden_out[B,T,D] f32, logits[B,C] f32
                  (the exit head inside pools the masked mean or the first token: manifest architecture.exitPooling)

Usage: python3 models/pipeline/export.py --ckpt models/.work/final.pt --vocab models/.work/vocab.txt \
          --out models/sentiment --id sentiment-en --labels negative,positive [--report models/.work/train_report.json]
"""

import argparse
import base64
import hashlib
import json
import os
import shutil
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from model import MATCH_EXCLUDED_TOKENS, Config, MultiExitEncoder  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402

PARITY_TEXTS = [
    ("a gorgeous , witty , seductive movie .", None),
    ("the plot is nothing but boilerplate clichés from start to finish , and the script assumes the audience is "
     "too stupid to notice .", None),
    ("Bromwell High is a cartoon comedy.<br /><br />It ran at the same time as some other programs.", None),
]
PAIR_PARITY_TEXTS = [
    ("How do I learn to play the guitar quickly?", "What is the fastest way to learn guitar?"),
    ("A man is playing a guitar on a crowded street corner while people walk past him.", "Nobody is playing music."),
    ("Bromwell High is a cartoon comedy.", "It ran at the same time as some other programs about school life."),
]


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def b64(t):
    return base64.b64encode(np.ascontiguousarray(t.detach().numpy().astype("<f4")).tobytes()).decode()


def quantize_rows_int8(w):
    """Symmetric int8 per row: q = round(w / s), s = max|row| / 127 (1 for an all-zero row). Returns (q, s)."""
    scale = (np.abs(w).max(axis=1) / 127.0).astype(np.float32)
    scale[scale == 0] = 1.0
    q = np.clip(np.round(w / scale[:, None]), -127, 127).astype(np.int8)
    return q, scale


def int8_token_gather(path, table_name, q, scale):
    """Rewrites embed.onnx so the token Gather reads int8 rows and multiplies them by their float32 row scales."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    m = onnx.load(path)
    g = m.graph
    old = [t for t in g.initializer if t.name == table_name]
    gathers = [n for n in g.node if n.op_type == "Gather" and n.input[0] == table_name]
    if len(old) != 1 or len(gathers) != 1:
        raise SystemExit(f"{path}: expected one initializer and one Gather for {table_name}")
    g.initializer.remove(old[0])
    g.initializer.extend([numpy_helper.from_array(q, "tok_q"), numpy_helper.from_array(scale, "tok_scale"),
                          numpy_helper.from_array(np.array([-1], dtype=np.int64), "tok_scale_axes")])
    node = gathers[0]
    ids, out = node.input[1], node.output[0]
    nodes = []
    for n in g.node:
        if n is not node:
            nodes.append(n)
            continue
        nodes += [helper.make_node("Gather", ["tok_q", ids], ["tok_q_rows"], name="/embed/tok/GatherInt8"),
                  helper.make_node("Cast", ["tok_q_rows"], ["tok_rows"], to=TensorProto.FLOAT, name="/embed/tok/Cast"),
                  helper.make_node("Gather", ["tok_scale", ids], ["tok_row_scale"], name="/embed/tok/GatherScale"),
                  helper.make_node("Unsqueeze", ["tok_row_scale", "tok_scale_axes"], ["tok_row_scale_3d"],
                                   name="/embed/tok/Unsqueeze"),
                  helper.make_node("Mul", ["tok_rows", "tok_row_scale_3d"], [out], name="/embed/tok/Dequantize")]
    del g.node[:]
    g.node.extend(nodes)
    onnx.checker.check_model(m)
    onnx.save(m, path)


class EmbedSeg(torch.nn.Module):
    def __init__(self, m):
        super().__init__()
        self.m = m

    def forward(self, input_ids, token_type_ids):
        return self.m.embed(input_ids, token_type_ids)


def export(args):
    ck = torch.load(args.ckpt)
    tok = Tokenizer(args.vocab)
    if "config" in ck:
        cfg = Config(**ck["config"])
    else:  # a training checkpoint (ckpt.pt): rebuild the config from its arguments
        a = ck["args"]
        cfg = Config(len(tok.itos), len(args.labels.split(",")), layers=a["layers"], hidden=a["hidden"],
                     heads=a["heads"], ffn=a["ffn"], max_length=a["max_length"], pool=a.get("pool", "mean"),
                     match=a.get("match_feature", False),
                     match_exclude=[tok.vocab[t] for t in MATCH_EXCLUDED_TOKENS] if a.get("match_feature") else [])
    model = MultiExitEncoder(cfg)
    model.load_state_dict(ck["model"])
    model.eval()
    if args.embed_dtype == "int8":
        q, scale = quantize_rows_int8(model.embed.tok.weight.detach().numpy())
        with torch.no_grad():  # the exact float32 values the ONNX graph computes (q * s, one IEEE multiply)
            model.embed.tok.weight.copy_(torch.from_numpy(q.astype(np.float32) * scale[:, None]))
    os.makedirs(args.out, exist_ok=True)
    shutil.copyfile(args.vocab, os.path.join(args.out, "vocab.txt"))

    ids = torch.tensor([[tok.cls_id, 5, 6, 7, tok.sep_id]], dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.ones(ids.shape, dtype=torch.float32)
    dyn_bt = {0: "batch", 1: "sequence"}
    # torch.onnx.export restores each module's previous train/eval mode afterwards: a wrapper left in train mode
    # would switch the whole shared model back to training (dropout on). Keep everything in eval mode.
    torch.onnx.export(EmbedSeg(model).eval(), (ids, types), os.path.join(args.out, "embed.onnx"),
                      input_names=["input_ids", "token_type_ids"], output_names=["hidden"],
                      dynamic_axes={"input_ids": dyn_bt, "token_type_ids": dyn_bt, "hidden": dyn_bt},
                      opset_version=17, do_constant_folding=True)
    if args.embed_dtype == "int8":
        int8_token_gather(os.path.join(args.out, "embed.onnx"), "m.embed.tok.weight", q, scale)
    hidden = model.embed(ids, types)
    layer_files = []
    for k, layer in enumerate(model.layers, start=1):
        name = f"layer_{k:02d}.onnx"
        torch.onnx.export(layer, (hidden, mask), os.path.join(args.out, name),
                          input_names=["hidden", "attention_mask"], output_names=["hidden_out", "logits"],
                          dynamic_axes={"hidden": dyn_bt, "attention_mask": dyn_bt, "hidden_out": dyn_bt,
                                        "logits": {0: "batch"}},
                          opset_version=17, do_constant_folding=True)
        layer_files.append(name)

    d, f = cfg.hidden, cfg.ffn
    block_params = sum(p.numel() for p in model.layers[0].block.parameters())
    exit_params = sum(p.numel() for p in model.layers[0].exit.parameters())
    # multiply-adds x2 per token: qkv + out + fc1 + fc2; the exit head runs once per sequence.
    block_flops = 2 * (3 * d * d + d * d + 2 * d * f)
    exit_flops = 2 * (d * d + d * cfg.num_labels)
    files = ["embed.onnx"] + layer_files + ["vocab.txt"]
    hashes = {fn: sha256(os.path.join(args.out, fn)) for fn in files}
    version = hashlib.sha256("".join(f"{k}:{v}\n" for k, v in sorted(hashes.items())).encode()).hexdigest()[:16]

    report = None
    if args.report and os.path.exists(args.report):
        with open(args.report) as fh:
            report = json.load(fh)
    manifest = {
        "schema": 1,
        "id": args.id,
        "version": version,
        "task": args.task,
        "labels": args.labels.split(","),
        "layers": cfg.layers,
        "hiddenSize": d,
        "heads": cfg.heads,
        "ffnSize": f,
        "maxLength": cfg.max_length,
        "tokenizer": {"type": "wordpiece", "vocab": "vocab.txt", "lowercase": True, "stripAccents": True,
                      "htmlLineBreaks": True, "truncation": "head+tail" if args.task == "single" else "longest-first",
                      "headTokens": args.head_tokens, "specialTokens": {"pad": "[PAD]", "unk": "[UNK]",
                                                                           "cls": "[CLS]", "sep": "[SEP]"}},
        "embed": {"file": "embed.onnx", "inputs": ["input_ids", "token_type_ids"], "outputs": ["hidden"],
                  "params": sum(p.numel() for p in model.embed.parameters()),
                  "tokenTable": "int8-rows" if args.embed_dtype == "int8" else "float32",
                  # Inside the graph: a learned vector added to tokens whose id occurs in the other text.
                  **({"crossSegmentMatch": True} if cfg.match else {})},
        # What the layer graphs compute (shared/manifest.ts ArchitectureSpec); the exit pooling is inside each graph.
        "architecture": {"block": "pre-ln", "activation": "gelu-erf", "layerNormEps": 1e-6,
                         "exitPooling": "first-token" if cfg.pool == "first" else "masked-mean",
                         "exitPooler": "dense-tanh"},
        "segments": [{"layer": k, "file": fn, "inputs": ["hidden", "attention_mask"],
                      "outputs": ["hidden_out", "logits"], "params": block_params + exit_params,
                      "flopsPerToken": block_flops, "attentionFlopsPerTokenPerPosition": 4 * d,
                      "exitFlops": exit_flops}
                     for k, fn in enumerate(layer_files, start=1)],
        "hiddenBytesPerToken": 4 * d,
        "dtype": "float32",
        "files": hashes,
        "training": None if report is None else {
            "minutes": report["train_minutes"], "seed": report["args"]["seed"], "steps": report["steps"],
            "sources": report["args"]["sources"], "torch": report["torch"],
            **({"task": report["task"]} if "task" in report else {})},
    }
    with open(os.path.join(args.out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)

    model.eval()
    # Parity fixtures: a batch of 1 for each text, plus the first two texts padded together in one batch.
    cases = []
    texts = PAIR_PARITY_TEXTS if args.task == "pair" else PARITY_TEXTS
    encs = [tok.encode(a, b, max_length=cfg.max_length, head=args.head_tokens) for a, b in texts]
    batches = [[e] for e in encs] + [[encs[0], encs[1]]]
    with torch.no_grad():
        for batch in batches:
            t = max(len(e[0]) for e in batch)
            ids = torch.zeros((len(batch), t), dtype=torch.long)
            types = torch.zeros((len(batch), t), dtype=torch.long)
            mask = torch.zeros((len(batch), t), dtype=torch.float32)
            for r, (i, ty) in enumerate(batch):
                ids[r, : len(i)] = torch.tensor(i)
                types[r, : len(ty)] = torch.tensor(ty)
                mask[r, : len(i)] = 1.0
            h = model.embed(ids, types)
            case = {"dims": [len(batch), t, d], "inputIds": ids.tolist(), "tokenTypeIds": types.tolist(),
                    "attentionMask": mask.tolist(), "embed": b64(h), "layers": []}
            for layer in model.layers:
                h, lg = layer(h, mask)
                case["layers"].append({"hidden": b64(h), "logits": lg.tolist()})
            cases.append(case)
    with open(os.path.join(args.out, "parity.json"), "w") as fh:
        json.dump({"model": args.id, "version": version, "tolerance": 1e-4, "cases": cases}, fh)
    print(json.dumps({"out": args.out, "version": version, "files": len(files)}))


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--ckpt", required=True)
    ap.add_argument("--vocab", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--id", required=True)
    ap.add_argument("--labels", required=True)
    ap.add_argument("--task", default="single", choices=["single", "pair"])
    ap.add_argument("--head-tokens", type=int, default=64)
    ap.add_argument("--report", default=None)
    ap.add_argument("--embed-dtype", default="int8", choices=["int8", "float32"],
                    help="token-embedding table: int8 rows with a float32 scale each (default), or float32")
    export(ap.parse_args())
