"""Train exit heads on a FROZEN imported backbone (DeeBERT's second stage) for `deno task import --train`.

The backbone never changes, so every training text goes through it once (no gradients) and only its first-token
hidden state after each layer is kept; the heads (pooler dense + tanh -> classifier, one per layer without a head)
then train on those features with cross-entropy. Both phases share the --max-minutes bound: encoding stops at half
of it (with the texts encoded so far), training at the rest. A tenth of the rows (at most 1,000) is held out and each
exit's accuracy on it is printed and stored in the manifest's training record.
"""

import csv
import os
import sys
import time

import numpy as np


PROGRESS_SECONDS = 10  # a progress line at least this often while encoding or training


class TrainDataError(Exception):
    """A training file this importer cannot use; the message names the file, row or column."""


def read_rows(path, text_col, pair_col, label_col, labels):
    """Rows of (text, pair or None, label index) from a TSV file with a header row."""
    name = os.path.basename(path)
    if not os.path.exists(path):
        raise TrainDataError(f"--train {path}: no such file")
    csv.field_size_limit(1 << 24)
    with open(path, encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh, delimiter="\t", quoting=csv.QUOTE_NONE)
        header = next(reader, None)
        if header is None:
            raise TrainDataError(f"{name}: empty file (a header row is expected)")
        cols = {}
        for flag, col in (("--text", text_col), ("--text-pair", pair_col), ("--label", label_col)):
            if col is None:
                continue
            if col not in header:
                raise TrainDataError(f"{name}: no column {col!r} ({flag}); the header has {', '.join(header)}")
            cols[flag] = header.index(col)
        index = {x: i for i, x in enumerate(labels)}
        rows = []
        for n, r in enumerate(reader, start=2):
            if len(r) != len(header):
                raise TrainDataError(f"{name}: row {n} has {len(r)} fields, the header {len(header)}")
            raw = r[cols["--label"]].strip()
            if raw in index:
                y = index[raw]
            elif raw.isdigit() and int(raw) < len(labels):
                y = int(raw)
            else:
                raise TrainDataError(f"{name}: row {n}: label {raw!r} is none of {', '.join(labels)} (or 0.."
                                     f"{len(labels) - 1})")
            rows.append((r[cols["--text"]], r[cols["--text-pair"]] if "--text-pair" in cols else None, y))
    if len(rows) < 2:
        raise TrainDataError(f"{name}: needs at least 2 rows, has {len(rows)}")
    return rows


def train_exits(ck, args, labels, task, max_length, missing):
    """Fills ck["exits"][k] for every k in `missing`; returns the manifest's training record."""
    import torch
    from torch import nn

    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    from bert_segments import BertBlock, BertEmbed
    from tokenizer import Tokenizer

    if (task == "pair") != (args.text_pair is not None):
        raise TrainDataError("a pair model trains on --text and --text-pair; a single one on --text only")
    torch.manual_seed(args.seed)
    torch.set_num_threads(max(1, args.threads))
    t_start = time.time()
    budget = args.max_minutes * 60
    rows = read_rows(args.train, args.text, args.text_pair, args.label, labels)
    rng = np.random.default_rng(args.seed)
    rng.shuffle(rows)
    n_hold = min(1000, len(rows) // 10)
    cfg = ck["cfg"]
    d, L = cfg["hidden_size"], cfg["num_hidden_layers"]
    eps = float(cfg.get("layer_norm_eps", 1e-12))
    tok = Tokenizer(ck["vocab_path"], lowercase=ck["tok"]["lowercase"], html_line_breaks=False)
    embed = BertEmbed(ck["embed"], eps).eval()
    blocks = [BertBlock(ck["layers"][k], cfg["num_attention_heads"], eps).eval() for k in range(max(missing) + 1)]
    feats, ys = [], []
    order = list(range(n_hold, len(rows))) + list(range(n_hold))  # training rows first, held-out rows last
    bs = 32
    print(f"import: encoding {len(rows)} rows with the frozen backbone (layers 1..{len(blocks)})", file=sys.stderr,
          flush=True)
    encoded = 0
    last_print = t_start
    with torch.no_grad():
        for s in range(0, len(order), bs):
            if time.time() - t_start > budget / 2 and encoded >= n_hold + 2:
                print(f"import: encoding stopped at {encoded} rows (half of --max-minutes)", file=sys.stderr)
                break
            batch = [rows[i] for i in order[s:s + bs]]
            encs = [tok.encode(a, b, max_length=max_length, head=max_length - 2) for a, b, _ in batch]
            t = max(len(e[0]) for e in encs)
            ids = torch.zeros((len(encs), t), dtype=torch.long)
            types = torch.zeros_like(ids)
            mask = torch.zeros((len(encs), t))
            for r, (i, ty) in enumerate(encs):
                ids[r, :len(i)], types[r, :len(ty)], mask[r, :len(i)] = torch.tensor(i), torch.tensor(ty), 1.0
            h = embed(ids, types)
            per_layer = []
            for blk in blocks:
                h = blk(h, mask)
                per_layer.append(h[:, 0])
            feats.append(torch.stack(per_layer, 1))
            ys.extend(y for _, _, y in batch)
            encoded += len(batch)
            if s == 0 or time.time() - last_print >= PROGRESS_SECONDS or encoded == len(rows):
                last_print = time.time()
                print(f"import: encoded {encoded}/{len(rows)} ({last_print - t_start:.0f} s)", file=sys.stderr,
                      flush=True)
    x = torch.cat(feats)
    y = torch.tensor(ys)
    n_train = encoded - n_hold if encoded == len(rows) else encoded
    if encoded < len(rows):  # the held-out rows were never reached: hold out the last tenth of what was encoded
        n_hold = max(1, encoded // 10)
        n_train = encoded - n_hold
    x_tr, y_tr, x_ho, y_ho = x[:n_train], y[:n_train], x[n_train:], y[n_train:]
    c = len(labels)
    heads = {k: nn.Sequential(nn.Linear(d, d), nn.Tanh(), nn.Linear(d, c)) for k in missing}
    for h in heads.values():
        for m in h:
            if isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, std=0.02)
                nn.init.zeros_(m.bias)
    params = [p for h in heads.values() for p in h.parameters()]
    opt = torch.optim.Adam(params, lr=args.lr)
    loss_fn = nn.CrossEntropyLoss()
    steps = 0
    epoch_losses = []
    stopped = False
    for epoch in range(args.epochs):
        perm = torch.randperm(n_train)
        total, count = 0.0, 0
        for s in range(0, n_train, args.batch_size):
            if time.time() - t_start > budget:
                stopped = True
                break
            idx = perm[s:s + args.batch_size]
            loss = sum(loss_fn(heads[k](x_tr[idx, k]), y_tr[idx]) for k in missing) / len(missing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            steps += 1
            total += float(loss) * len(idx)
            count += len(idx)
            if time.time() - last_print >= PROGRESS_SECONDS:
                last_print = time.time()
                print(f"import: epoch {epoch + 1}/{args.epochs}: {count}/{n_train} rows, mean exit loss "
                      f"{total / count:.4f} ({last_print - t_start:.0f} s)", file=sys.stderr, flush=True)
        if count:
            epoch_losses.append(total / count)
            print(f"import: epoch {epoch + 1}/{args.epochs}: mean exit loss {total / count:.4f} ({steps} steps, "
                  f"{time.time() - t_start:.0f} s)", file=sys.stderr, flush=True)
        if stopped:
            print("import: training stopped by --max-minutes", file=sys.stderr)
            break
    if steps == 0:
        raise TrainDataError(f"--max-minutes {args.max_minutes} ran out before the first training step (encoding "
                             f"{encoded} rows took {time.time() - t_start:.0f} s); give more minutes")
    accuracy = {}
    with torch.no_grad():
        for k in missing:
            if len(y_ho):
                accuracy[k + 1] = float((heads[k](x_ho[:, k]).argmax(1) == y_ho).float().mean())
    if accuracy:
        print("import: held-out accuracy by exit: " + ", ".join(f"{k}: {a:.3f}" for k, a in accuracy.items()) +
              f" ({len(y_ho)} rows)", file=sys.stderr)
    for k in missing:
        dense, _, cls = heads[k]
        ck["exits"][k] = {"pooler": {"w": dense.weight.detach().numpy().copy(),
                                     "b": dense.bias.detach().numpy().copy()},
                          "classifier": {"w": cls.weight.detach().numpy().copy(),
                                         "b": cls.bias.detach().numpy().copy()}}
    return {"minutes": round((time.time() - t_start) / 60, 3), "seed": args.seed, "steps": steps,
            "sources": [os.path.basename(args.train)], "torch": torch.__version__, "rows": encoded,
            "heldOut": int(len(y_ho)), "epochLosses": [round(v, 5) for v in epoch_losses],
            "heldOutAccuracy": {str(k): round(a, 4) for k, a in accuracy.items()}, "backbone": "frozen"}
