"""Import a local Hugging Face BERT / DeeBERT / ElasticBERT checkpoint as a served split model (`deno task import`).

Writes the same model folder as export.py (embed.onnx, layer_NN.onnx, vocab.txt, manifest.json, parity.json,
MODEL_CARD.md), computing exactly BERT (bert_segments.py). Everything is written to a temporary folder beside --out
and renamed at the end, so a failure writes nothing. See docs/import.md.

Usage: python3 models/pipeline/hf_import.py --from <checkpoint dir> --out <model dir> [--task single|pair]
          [--labels a,b] [--id name] [--max-length N] [--embed-dtype float32|int8]
          [--train file.tsv --text col [--text-pair col] --label col [--max-minutes M]] [--untrained-exits]
"""

import argparse
import base64
import datetime
import hashlib
import json
import os
import shutil
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from exit_train import TrainDataError  # noqa: E402
from hf_checkpoint import CheckpointError, load_checkpoint  # noqa: E402

PARITY_TEXTS = [
    ("a gorgeous , witty , seductive movie .", None),
    ("The plot is nothing but boilerplate clichés from start to finish, and the script assumes the audience is "
     "too stupid to notice.", None),
    ("Bromwell High is a cartoon comedy. It ran at the same time as some other programs.", None),
]
PAIR_PARITY_TEXTS = [
    ("How do I learn to play the guitar quickly?", "What is the fastest way to learn guitar?"),
    ("A man is playing a guitar on a crowded street corner while people walk past him.", "Nobody is playing music."),
    ("Bromwell High is a cartoon comedy.", "It ran at the same time as some other programs about school life."),
]
TIMING_ONLY = "timing only"


class UsageError(Exception):
    """A bad combination of flags and checkpoint; the message says what to do."""


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def b64(t):
    return base64.b64encode(np.ascontiguousarray(t.detach().numpy().astype("<f4")).tobytes()).decode()


def resolve_labels(args, ck, n_classes):
    """--labels, else config.json id2label (ordered by id), else LABEL_i; checked against the heads' class count."""
    if args.labels:
        labels = [x.strip() for x in args.labels.split(",")]
        if any(not x for x in labels) or len(set(labels)) != len(labels):
            raise UsageError(f"--labels {args.labels!r}: give distinct non-empty names, comma-separated")
    elif isinstance(ck["cfg"].get("id2label"), dict):
        id2label = ck["cfg"]["id2label"]
        try:
            labels = [str(id2label[k]) for k in sorted(id2label, key=lambda k: int(k))]
        except ValueError:
            raise CheckpointError("config.json: id2label keys must be integers") from None
    else:
        labels = [f"LABEL_{i}" for i in range(n_classes or 2)]
    if n_classes is not None and len(labels) != n_classes:
        raise UsageError(f"{len(labels)} labels ({','.join(labels)}) but the checkpoint's classifier has "
                           f"{n_classes} outputs" + ("" if args.labels else " (fix config.json id2label or give "
                                                     "--labels)"))
    if len(labels) < 2:
        raise UsageError("a classifier needs at least 2 labels (give --labels a,b)")
    return labels


def resolve_max_length(args, ck):
    limit = ck["cfg"]["max_position_embeddings"]
    if args.max_length is not None:
        if not 3 <= args.max_length <= limit:
            raise UsageError(f"--max-length {args.max_length}: must be 3..{limit} (config.json "
                               "max_position_embeddings)")
        return args.max_length
    mml = ck["tok"].get("model_max_length")
    if isinstance(mml, int) and 3 <= mml <= limit:
        return mml
    return limit


def random_head(rng, d, c, std=0.02):
    return {"pooler": {"w": rng.normal(0, std, (d, d)).astype(np.float32), "b": np.zeros(d, np.float32)},
            "classifier": {"w": rng.normal(0, std, (c, d)).astype(np.float32), "b": np.zeros(c, np.float32)}}


def export_model(ck, args, labels, task, max_length, out, source_note, exit_sources, training, timing_only):
    """Writes the model folder into `out` (an empty temporary folder). Returns the manifest."""
    import torch
    from bert_segments import BertEmbed, BertSegment
    from tokenizer import Tokenizer

    cfg = ck["cfg"]
    d, heads, f, L = cfg["hidden_size"], cfg["num_attention_heads"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    eps = float(cfg.get("layer_norm_eps", 1e-12))
    c = len(labels)
    embed_w = dict(ck["embed"])
    q = scale = None
    if args.embed_dtype == "int8":
        from export import quantize_rows_int8

        q, scale = quantize_rows_int8(embed_w["word"])
        embed_w["word"] = (q.astype(np.float32) * scale[:, None]).astype(np.float32)
    embed = BertEmbed(embed_w, eps).eval()
    segments = [BertSegment(ck["layers"][k], ck["exits"][k], heads, eps).eval() for k in range(L)]
    shutil.copyfile(ck["vocab_path"], os.path.join(out, "vocab.txt"))
    tok = Tokenizer(os.path.join(out, "vocab.txt"), lowercase=ck["tok"]["lowercase"], html_line_breaks=False)

    ids = torch.tensor([[tok.cls_id, 5, 6, 7, tok.sep_id]], dtype=torch.long)
    types = torch.zeros_like(ids)
    mask = torch.ones(ids.shape, dtype=torch.float32)
    dyn = {0: "batch", 1: "sequence"}
    t0 = time.time()
    with torch.no_grad():
        torch.onnx.export(embed, (ids, types), os.path.join(out, "embed.onnx"),
                          input_names=["input_ids", "token_type_ids"], output_names=["hidden"],
                          dynamic_axes={"input_ids": dyn, "token_type_ids": dyn, "hidden": dyn},
                          opset_version=17, do_constant_folding=True)
        if q is not None:
            from export import int8_token_gather

            int8_token_gather(os.path.join(out, "embed.onnx"), "word.weight", q, scale)
        hidden = embed(ids, types)
        layer_files = []
        for k, seg in enumerate(segments, start=1):
            name = f"layer_{k:02d}.onnx"
            torch.onnx.export(seg, (hidden, mask), os.path.join(out, name),
                              input_names=["hidden", "attention_mask"], output_names=["hidden_out", "logits"],
                              dynamic_axes={"hidden": dyn, "attention_mask": dyn, "hidden_out": dyn,
                                            "logits": {0: "batch"}},
                              opset_version=17, do_constant_folding=True)
            layer_files.append(name)
            print(f"import: exported {name} ({time.time() - t0:.1f} s)", file=sys.stderr, flush=True)

    block_params = sum(p.numel() for p in segments[0].block.parameters())
    block_flops = 2 * (3 * d * d + d * d + 2 * d * f)
    files = ["embed.onnx"] + layer_files + ["vocab.txt"]
    hashes = {fn: sha256(os.path.join(out, fn)) for fn in files}
    version = hashlib.sha256("".join(f"{k}:{v}\n" for k, v in sorted(hashes.items())).encode()).hexdigest()[:16]
    seg_specs = []
    for k, (fn, seg) in enumerate(zip(layer_files, segments), start=1):
        pooler = seg.exit.pooler is not None
        seg_specs.append({"layer": k, "file": fn, "inputs": ["hidden", "attention_mask"],
                          "outputs": ["hidden_out", "logits"],
                          "params": block_params + sum(p.numel() for p in seg.exit.parameters()),
                          "flopsPerToken": block_flops, "attentionFlopsPerTokenPerPosition": 4 * d,
                          "exitFlops": 2 * ((d * d if pooler else 0) + d * c), "exitSource": exit_sources[k - 1]})
    manifest = {
        "schema": 1,
        "id": args.id,
        "version": version,
        "task": task,
        "labels": labels,
        "layers": L,
        "hiddenSize": d,
        "heads": heads,
        "ffnSize": f,
        "maxLength": max_length,
        "tokenizer": {"type": "wordpiece", "vocab": "vocab.txt", "lowercase": ck["tok"]["lowercase"],
                      "stripAccents": ck["tok"]["stripAccents"], "htmlLineBreaks": False,
                      "truncation": "longest-first", "headTokens": max_length - 2,
                      "specialTokens": {"pad": "[PAD]", "unk": "[UNK]", "cls": "[CLS]", "sep": "[SEP]"}},
        "embed": {"file": "embed.onnx", "inputs": ["input_ids", "token_type_ids"], "outputs": ["hidden"],
                  "params": sum(p.numel() for p in embed.parameters()),
                  "tokenTable": "int8-rows" if q is not None else "float32"},
        "architecture": {"block": "post-ln", "activation": "gelu-erf", "layerNormEps": eps,
                         "exitPooling": "first-token",
                         "exitPooler": "dense-tanh" if segments[-1].exit.pooler is not None else "none"},
        "segments": seg_specs,
        "hiddenBytesPerToken": 4 * d,
        "dtype": "float32",
        "files": hashes,
        "training": training,
        "source": source_note,
        "timingOnly": timing_only,
    }
    with open(os.path.join(out, "manifest.json"), "w") as fh:
        json.dump(manifest, fh, indent=1)

    cases = []
    texts = PAIR_PARITY_TEXTS if task == "pair" else PARITY_TEXTS
    encs = [tok.encode(a, b, max_length=max_length, head=max_length - 2) for a, b in texts]
    with torch.no_grad():
        for batch in [[e] for e in encs] + [[encs[0], encs[1]]]:
            t = max(len(e[0]) for e in batch)
            ids = torch.zeros((len(batch), t), dtype=torch.long)
            types = torch.zeros((len(batch), t), dtype=torch.long)
            mask = torch.zeros((len(batch), t), dtype=torch.float32)
            for r, (i, ty) in enumerate(batch):
                ids[r, : len(i)] = torch.tensor(i)
                types[r, : len(ty)] = torch.tensor(ty)
                mask[r, : len(i)] = 1.0
            h = embed(ids, types)
            case = {"dims": [len(batch), t, d], "inputIds": ids.tolist(), "tokenTypeIds": types.tolist(),
                    "attentionMask": mask.tolist(), "embed": b64(h), "layers": []}
            for seg in segments:
                h, lg = seg(h, mask)
                case["layers"].append({"hidden": b64(h), "logits": lg.tolist()})
            cases.append(case)
    with open(os.path.join(out, "parity.json"), "w") as fh:
        json.dump({"model": args.id, "version": version, "tolerance": 1e-4, "cases": cases}, fh)
    return manifest


def model_card(manifest, ck, args, exit_sources, notes):
    L = manifest["layers"]
    by_source = {}
    for k, s in enumerate(exit_sources, start=1):
        by_source.setdefault(s, []).append(k)

    def ranges(ks):
        if len(ks) == 1:
            return f"layer {ks[0]}"
        return "layers " + (f"{ks[0]}-{ks[-1]}" if ks[-1] - ks[0] == len(ks) - 1 else ", ".join(map(str, ks)))

    what = {"checkpoint": "the checkpoint's own heads", "trained": "trained here on the frozen backbone",
            "random": "RANDOM (untrained) heads: their logits mean nothing"}
    lines = [f"# {manifest['id']}", ""]
    if manifest["timingOnly"]:
        why = "some exits have random weights" if "random" in exit_sources else "random weights, not a classifier"
        lines += [f"**{args.description or TIMING_ONLY + ': ' + why}**. Use this model to measure latency and "
                  "memory, never to classify.", ""]
    elif args.description:
        lines += [args.description, ""]
    lines += [
        "Imported with `deno task import` (models/pipeline/hf_import.py) from a Hugging Face-layout checkpoint.", "",
        f"- Source folder: `{os.path.basename(os.path.abspath(args.src))}` ({ck['weights_file']}, "
        f"layout **{ck['layout']}**, imported {datetime.date.today().isoformat()})",
        f"- Architecture: BERT, {L} post-LN layers, hidden {manifest['hiddenSize']}, {manifest['heads']} heads, "
        f"FFN {manifest['ffnSize']}, erf GELU, LayerNorm eps {manifest['architecture']['layerNormEps']}",
        "- Exit heads: first token -> " + ("pooler dense + tanh -> " if manifest["architecture"]["exitPooler"] ==
                                           "dense-tanh" else "") + "classifier, after every layer",
    ]
    for s, ks in by_source.items():
        lines.append(f"  - {ranges(ks)}: {what[s]}")
    lines += [
        f"- Task: {manifest['task']}; labels: {', '.join(manifest['labels'])}",
        f"- Tokenizer: the checkpoint's vocab.txt ({len(ck['vocab'])} tokens), "
        f"{'lower-cased, accents stripped' if manifest['tokenizer']['lowercase'] else 'cased'}, "
        f"max length {manifest['maxLength']} (longest-first truncation: a single text keeps its head)",
        f"- Token embedding table: {manifest['embed']['tokenTable']}",
    ]
    if manifest["training"]:
        tr = manifest["training"]
        lines.append(f"- Exit training: {tr['steps']} steps in {tr['minutes']:.1f} min on {tr['rows']} rows of "
                     f"{', '.join(tr['sources'])} (seed {tr['seed']}, torch {tr['torch']}); backbone frozen")
        if tr.get("heldOutAccuracy"):
            lines.append(f"  - held-out accuracy ({tr['heldOut']} rows) by trained exit: " +
                         ", ".join(f"layer {k}: {a:.3f}" for k, a in tr["heldOutAccuracy"].items()))
    for n in notes:
        lines.append(f"- Note: {n}")
    lines += ["", "parity.json holds PyTorch outputs of these segments for three texts (tolerance 1e-4).", ""]
    return "\n".join(lines)


def run(args):
    if os.path.exists(args.out) and os.listdir(args.out) and not args.overwrite:
        raise UsageError(f"--out {args.out} exists and is not empty (give --overwrite to replace it)")
    if args.train and not (args.text and args.label):
        raise UsageError("--train needs --text <column> and --label <column>")
    if args.train and args.untrained_exits:
        raise UsageError("give --train or --untrained-exits, not both")
    ck = load_checkpoint(args.src)
    cfg = ck["cfg"]
    L, d = cfg["num_hidden_layers"], cfg["hidden_size"]
    present = [e for e in ck["exits"] if e is not None]
    n_classes = int(present[0]["classifier"]["w"].shape[0]) if present else None
    for k, e in enumerate(ck["exits"], start=1):
        if e is not None and e["classifier"]["w"].shape[0] != n_classes:
            raise CheckpointError(f"{ck['weights_file']}: exit {k} has {e['classifier']['w'].shape[0]} classes, "
                                  f"others {n_classes}")
    labels = resolve_labels(args, ck, n_classes)
    task = args.task or ("pair" if args.text_pair else "single")
    if args.text_pair and task != "pair":
        raise UsageError("--text-pair needs --task pair")
    max_length = resolve_max_length(args, ck)
    args.id = args.id or os.path.basename(os.path.normpath(args.out))
    missing = [k for k, e in enumerate(ck["exits"]) if e is None]
    exit_sources = ["checkpoint" if e is not None else "trained" for e in ck["exits"]]
    training = None
    timing_only = False
    if missing and not args.train and not args.untrained_exits:
        which = ("every layer" if len(missing) == L else
                 f"layers {missing[0] + 1}..{missing[-1] + 1}" if len(missing) > 1 else f"layer {missing[0] + 1}")
        raise UsageError(f"the {ck['layout']} checkpoint has no exit head for {which}; every layer needs one. Train "
                           "them on the frozen backbone with --train <file.tsv> --text <column> --label <column>, or "
                           "give --untrained-exits for a timing-only model (random heads)")
    if missing and args.untrained_exits:
        rng = np.random.default_rng(args.seed)
        for k in missing:
            ck["exits"][k] = random_head(rng, d, len(labels))
            exit_sources[k] = "random"
        timing_only = True
    elif missing:
        from exit_train import train_exits

        training = train_exits(ck, args, labels, task, max_length, missing)
    if args.untrained_exits or args.timing_only:
        timing_only = True
    source_note = {"layout": ck["layout"], "weights": ck["weights_file"],
                   "folder": os.path.basename(os.path.abspath(args.src)),
                   "description": args.description or None}
    parent = os.path.dirname(os.path.abspath(args.out))
    os.makedirs(parent, exist_ok=True)
    tmp = os.path.join(parent, f".{os.path.basename(os.path.abspath(args.out))}.import-{os.getpid()}")
    os.makedirs(tmp)
    try:
        manifest = export_model(ck, args, labels, task, max_length, tmp, source_note, exit_sources, training,
                                timing_only)
        with open(os.path.join(tmp, "MODEL_CARD.md"), "w") as fh:
            fh.write(model_card(manifest, ck, args, exit_sources, ck["notes"]))
        if os.path.exists(args.out):
            shutil.rmtree(args.out)
        os.rename(tmp, args.out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for n in ck["notes"]:
        print(f"import: note: {n}", file=sys.stderr)
    print(json.dumps({"out": args.out, "id": args.id, "version": manifest["version"], "layout": ck["layout"],
                      "layers": L, "labels": labels, "exits": exit_sources, "timingOnly": timing_only}))


def parser():
    ap = argparse.ArgumentParser(prog="deno task import", description="Import a local Hugging Face BERT, DeeBERT or "
                                 "ElasticBERT checkpoint folder as a split model (docs/import.md).")
    ap.add_argument("--from", dest="src", required=True, help="checkpoint folder (config.json, vocab.txt, weights)")
    ap.add_argument("--out", required=True, help="model folder to write (refused when it exists, unless --overwrite)")
    ap.add_argument("--task", choices=["single", "pair"], default=None,
                    help="single texts or text pairs (default: pair when --text-pair is given, else single)")
    ap.add_argument("--labels", default=None, help="class names in logit order (default: config.json id2label)")
    ap.add_argument("--id", default=None, help="model id in the manifest (default: the --out folder name)")
    ap.add_argument("--max-length", type=int, default=None,
                    help="longest encoding (default: tokenizer_config model_max_length, else max_position_embeddings)")
    ap.add_argument("--embed-dtype", choices=["float32", "int8"], default="float32",
                    help="token-embedding table: float32 (default, exact) or int8 rows (4x smaller, not exact)")
    ap.add_argument("--overwrite", action="store_true", help="replace an existing --out folder")
    ap.add_argument("--description", default=None, help="one line for the model card and manifest source")
    ap.add_argument("--timing-only", action="store_true", help="mark the model timing only (random weights)")
    ap.add_argument("--untrained-exits", action="store_true",
                    help="give layers without an exit head random heads; marks the model timing only")
    ap.add_argument("--seed", type=int, default=0, help="seed of random heads and of exit training (default 0)")
    g = ap.add_argument_group("exit training on the frozen backbone (for checkpoints without per-layer exits)")
    g.add_argument("--train", default=None, help="TSV file with a header row")
    g.add_argument("--text", default=None, help="text column")
    g.add_argument("--text-pair", default=None, help="second text column (pair task)")
    g.add_argument("--label", default=None, help="label column (names from the labels, or 0-based ids)")
    g.add_argument("--max-minutes", type=float, default=30.0, help="time bound of exit training (default 30)")
    g.add_argument("--epochs", type=int, default=3, help="passes over the encoded rows (default 3)")
    g.add_argument("--lr", type=float, default=1e-3, help="Adam learning rate of the exit heads (default 1e-3)")
    g.add_argument("--batch-size", type=int, default=32, help="rows per training step (default 32)")
    g.add_argument("--threads", type=int, default=2, help="PyTorch CPU threads (default 2)")
    return ap


def main(argv=None):
    args = parser().parse_args(argv)
    try:
        run(args)
    except (CheckpointError, UsageError, TrainDataError) as e:
        print(f"import: {e}; nothing was written", file=sys.stderr)
        return 2
    except ImportError as e:
        print(f"import: a Python package fails to load ({e}); reinstall with: sudo apt-get install -y python3-torch "
              "python3-onnx python3-numpy libopenblas0-pthread; nothing was written", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
