"""Train the default multi-exit sentiment model on SST-2 train + IMDb train, jointly on all exits.

Seeded and resumable: a checkpoint is written every --ckpt-every steps to <work>/ckpt.pt and picked up on restart
(same arguments). Batches are token-count batches over length buckets, their order fixed by the seed.

Usage: python3 models/pipeline/train.py [--epochs N] [--work models/.work] [--bench STEPS]
"""

import argparse
import json
import math
import os
import random
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import build_vocab, data_dir, encode_rows, load_split  # noqa: E402
from model import Config, MultiExitEncoder  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def make_batches(samples, max_tokens, max_batch, rng):
    """Token-count batches: sort by length (with noise), cut into batches of <= max_tokens padded tokens."""
    order = sorted(range(len(samples)), key=lambda i: (len(samples[i][0]), rng.random()))
    batches, cur, cur_max = [], [], 0
    for i in order:
        n = len(samples[i][0])
        new_max = max(cur_max, n)
        if cur and (new_max * (len(cur) + 1) > max_tokens or len(cur) >= max_batch):
            batches.append(cur)
            cur, new_max = [], n
        cur.append(i)
        cur_max = new_max
    if cur:
        batches.append(cur)
    rng.shuffle(batches)
    return batches


def collate(samples, idx, pad_id):
    t = max(len(samples[i][0]) for i in idx)
    ids = torch.full((len(idx), t), pad_id, dtype=torch.long)
    types = torch.zeros((len(idx), t), dtype=torch.long)
    mask = torch.zeros((len(idx), t), dtype=torch.float32)
    labels = torch.tensor([samples[i][2] for i in idx], dtype=torch.long)
    for r, i in enumerate(idx):
        s_ids, s_types, _ = samples[i]
        ids[r, : len(s_ids)] = torch.tensor(s_ids)
        types[r, : len(s_types)] = torch.tensor(s_types)
        mask[r, : len(s_ids)] = 1.0
    return ids, types, mask, labels


@torch.no_grad()
def evaluate(model, samples, pad_id, max_tokens=16384):
    model.eval()
    layers = model.cfg.layers
    correct = [0] * layers
    conf = [0.0] * layers
    rng = random.Random(0)
    for idx in make_batches(samples, max_tokens, 512, rng):
        ids, types, mask, labels = collate(samples, idx, pad_id)
        for k, lg in enumerate(model(ids, types, mask)):
            p = torch.softmax(lg, -1)
            correct[k] += int((p.argmax(-1) == labels).sum())
            conf[k] += float(p.max(-1).values.sum())
    model.train()
    n = len(samples)
    return [c / n for c in correct], [c / n for c in conf]


def lr_at(step, total, peak, warmup_frac=0.06, floor=0.05):
    warm = max(1, int(total * warmup_frac))
    if step < warm:
        return peak * (step + 1) / warm
    frac = (step - warm) / max(1, total - warm)
    return peak * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * min(1.0, frac))))


def same_run(a, b):
    """Checkpoint arguments match, ignoring those that may change on resume."""
    ignore = {"total_steps", "ckpt_every", "bench", "threads"}
    return {k: v for k, v in a.items() if k not in ignore} == {k: v for k, v in b.items() if k not in ignore}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", default="models/.work")
    ap.add_argument("--epochs", type=float, default=1.5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--layers", type=int, default=12)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--ffn", type=int, default=512)
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--head-tokens", type=int, default=64)
    ap.add_argument("--max-tokens", type=int, default=6144)
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--min-count", type=int, default=3)
    ap.add_argument("--sources", default="sst2,imdb", help="comma list of sst2, imdb")
    ap.add_argument("--ckpt-every", type=int, default=100)
    ap.add_argument("--bench", type=int, default=0, help="time this many steps and exit")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--total-steps", type=int, default=0,
                    help="stop after this many steps (the LR schedule ends there); 0 = from --epochs. May be changed "
                         "when resuming, e.g. to fit a time budget")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    os.makedirs(args.work, exist_ok=True)
    log(f"data: {data_dir()}")

    sources = args.sources.split(",")
    rows = []
    if "sst2" in sources:
        rows += load_split("sst2-train")
    heldout = []
    if "imdb" in sources:
        imdb = load_split("imdb-train")
        random.Random(args.seed).shuffle(imdb)
        heldout, imdb = imdb[:500], imdb[500:]
        rows += imdb
    log(f"train rows: {len(rows)} ({sources}); IMDb held-out for monitoring: {len(heldout)}")

    vocab_path = os.path.join(args.work, "vocab.txt")
    if not os.path.exists(vocab_path):
        t0 = time.time()
        n = build_vocab([r[0] for r in rows], os.path.join(data_dir(), "bert_vocab/vocab.txt"), vocab_path,
                        args.min_count)
        log(f"vocab: {n} pieces (min count {args.min_count}) in {time.time() - t0:.0f}s")
    tok = Tokenizer(vocab_path)

    cache = os.path.join(args.work, f"tokens_{args.sources.replace(',', '_')}_{args.max_length}_{args.head_tokens}.pt")
    if os.path.exists(cache):
        train, dev, held = torch.load(cache)
    else:
        t0 = time.time()
        train = encode_rows(tok, rows, args.max_length, args.head_tokens)
        dev = encode_rows(tok, load_split("sst2-dev"), args.max_length, args.head_tokens)
        held = encode_rows(tok, heldout, args.max_length, args.head_tokens)
        torch.save((train, dev, held), cache)
        log(f"tokenized in {time.time() - t0:.0f}s")
    ntok = sum(len(s[0]) for s in train)
    log(f"train tokens: {ntok}")

    cfg = Config(len(tok.itos), 2, layers=args.layers, hidden=args.hidden, heads=args.heads, ffn=args.ffn,
                 max_length=args.max_length)
    model = MultiExitEncoder(cfg)
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "embed" not in n]
    no_decay = [p for n, p in model.named_parameters() if not (p.dim() >= 2 and "embed" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.01}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    log(f"params: {sum(p.numel() for p in model.parameters())}")

    rng = random.Random(args.seed)
    full_epochs = math.ceil(args.epochs)
    schedule = []
    for _ in range(full_epochs):
        schedule.append(make_batches(train, args.max_tokens, 512, rng))
    per_epoch = len(schedule[0])
    total = args.total_steps or int(per_epoch * args.epochs)
    flat = [b for ep in schedule for b in ep][:total]
    log(f"steps: {total} ({per_epoch} per epoch, {args.epochs} epochs)")

    ckpt_path = os.path.join(args.work, "ckpt.pt")
    step, elapsed = 0, 0.0
    if os.path.exists(ckpt_path) and not args.bench:
        ck = torch.load(ckpt_path)
        if same_run(ck["args"], vars(args)):
            model.load_state_dict(ck["model"])
            opt.load_state_dict(ck["opt"])
            step, elapsed = ck["step"], ck["elapsed"]
            torch.set_rng_state(ck["torch_rng"])
            log(f"resumed at step {step}")
        else:
            log("checkpoint has other arguments; starting over")

    model.train()
    t_start = time.time() - elapsed
    seen_tok, t_win = 0, time.time()
    while step < total:
        idx = flat[step]
        ids, types, mask, labels = collate(train, idx, tok.pad_id)
        for g in opt.param_groups:
            g["lr"] = lr_at(step, total, args.lr)
        logits = model(ids, types, mask)
        loss = sum(F.cross_entropy(lg, labels) for lg in logits) / len(logits)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        seen_tok += ids.numel()
        if args.bench and step >= args.bench:
            dt = time.time() - t_win
            log(f"bench: {step} steps, {seen_tok} padded tokens in {dt:.1f}s = {seen_tok / dt:.0f} tok/s; "
                f"full run estimate {total * dt / step / 60:.0f} min")
            return
        if step % 25 == 0:
            dt = time.time() - t_win
            log(f"step {step}/{total} loss {loss.item():.4f} lr {lr_at(step, total, args.lr):.2e} "
                f"{seen_tok / dt:.0f} tok/s elapsed {(time.time() - t_start) / 60:.1f} min")
            seen_tok, t_win = 0, time.time()
        if step % args.ckpt_every == 0 or step == total:
            tmp = ckpt_path + ".tmp"
            torch.save({"args": vars(args), "model": model.state_dict(), "opt": opt.state_dict(), "step": step,
                        "elapsed": time.time() - t_start, "torch_rng": torch.get_rng_state()}, tmp)
            os.replace(tmp, ckpt_path)
        if step % (args.ckpt_every * 5) == 0 or step == total:
            acc, _ = evaluate(model, dev, tok.pad_id)
            log("sst2-dev acc per exit: " + " ".join(f"{a:.3f}" for a in acc))
            if held:
                hacc, _ = evaluate(model, held, tok.pad_id)
                log("imdb-heldout acc per exit: " + " ".join(f"{a:.3f}" for a in hacc))

    train_minutes = (time.time() - t_start) / 60
    acc, conf = evaluate(model, dev, tok.pad_id)
    hacc, hconf = evaluate(model, held, tok.pad_id) if held else (None, None)
    final = {
        "config": cfg.to_dict(), "args": vars(args), "steps": total, "train_minutes": round(train_minutes, 1),
        "train_tokens": ntok, "sst2_dev_acc": acc, "sst2_dev_conf": conf, "imdb_heldout_acc": hacc,
        "imdb_heldout_conf": hconf, "torch": torch.__version__,
    }
    torch.save({"config": cfg.to_dict(), "model": model.state_dict()}, os.path.join(args.work, "final.pt"))
    with open(os.path.join(args.work, "train_report.json"), "w") as f:
        json.dump(final, f, indent=1)
    log(f"done in {train_minutes:.1f} min; final sst2-dev acc {acc[-1]:.3f}")


if __name__ == "__main__":
    main()
