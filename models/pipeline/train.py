"""Train a multi-exit model jointly on all exits: --task sentiment (default; SST-2 + IMDb), paraphrase (QQP sample) or
entailment (--sources: MNLI dev non-gold or gold, the MNLI train sample, RTE, SICK, the SciTail and SNLI train samples).
See data.task_data for exactly which rows train and which are held out. --init-from continues another run (e.g. with
new exit heads, --reinit-exits, or only the heads, --freeze-backbone: DeeBERT's second stage).

Seeded and resumable: a checkpoint is written every --ckpt-every steps to <work>/ckpt.pt and picked up on restart
(same arguments). Batches are token-count batches over length buckets, their order fixed by the seed.

Usage: python3 models/pipeline/train.py [--task T] [--epochs N] [--work models/.work] [--bench STEPS]
"""

import argparse
import json
import math
import os
import random
import shutil
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from data import NOT_ENTAILMENT, TASK_LABELS, build_vocab, data_dir, encode_rows, task_data  # noqa: E402
from model import MATCH_EXCLUDED_TOKENS, Config, MultiExitEncoder  # noqa: E402
from tokenizer import Tokenizer  # noqa: E402


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


def exit_loss(logits, labels):
    """Cross-entropy; a NOT_ENTAILMENT label (RTE's two-class data) scores -log(p_neutral + p_contradiction)."""
    coarse = labels == NOT_ENTAILMENT
    if not bool(coarse.any()):
        return F.cross_entropy(logits, labels)
    logp = torch.log_softmax(logits, -1)
    fine = -logp.gather(1, labels.clamp(max=logits.shape[1] - 1).unsqueeze(1)).squeeze(1)
    not_ent = -torch.logsumexp(logp[:, 1:], -1)
    return torch.where(coarse, not_ent, fine).mean()


def correct_count(pred, labels):
    """Exact matches; a NOT_ENTAILMENT label is matched by any prediction other than entailment (0)."""
    return int(torch.where(labels == NOT_ENTAILMENT, pred != 0, pred == labels).sum())


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
            correct[k] += correct_count(p.argmax(-1), labels)
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
    defaults = {"task": "sentiment", "exit_weights": "uniform", "dropout": 0.1, "weight_decay": 0.01,  # checkpoints
                "pool": "mean", "init_from": "", "reinit_exits": False, "freeze_backbone": False,  # from before these
                "sst2_repeat": 1, "imdb_limit": 0, "match_feature": False}  # flags existed
    keys = (set(a) | set(b)) - ignore
    return all(a.get(k, defaults.get(k)) == b.get(k, defaults.get(k)) for k in keys)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--task", default="sentiment", choices=sorted(TASK_LABELS))
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
    ap.add_argument("--dropout", type=float, default=0.1)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--min-count", type=int, default=3)
    ap.add_argument("--sources", default="sst2,imdb",
                    help="sentiment: comma list of sst2, imdb; entailment: of mnli (non-gold), mnli-gold, mnli-train, "
                         "rte, sick, scitail, snli-cad (data.task_data says what each is); paraphrase: qqp")
    ap.add_argument("--exit-weights", default="uniform", choices=["uniform", "linear", "square", "last"],
                    help="loss weight of exit k: uniform = 1/L each; linear = k / sum(1..L), deeper exits weigh more "
                         "(PABEE's weighted average), so early layers are not shaped only by the shallow exits; "
                         "square = k^2 / sum(k^2); last = the final exit only (DeeBERT's first stage)")
    ap.add_argument("--pool", default="mean", choices=["mean", "first"],
                    help="exit-head pooling: masked mean over real tokens, or the first token ([CLS]) as in BERT")
    ap.add_argument("--match-feature", action="store_true",
                    help="pair tasks: the embedding marks tokens that also occur in the other text (exact match)")
    ap.add_argument("--init-from", default="",
                    help="start from this checkpoint ({config, model}, e.g. another run's final.pt); its vocab.txt "
                         "(same folder) becomes this run's vocabulary")
    ap.add_argument("--reinit-exits", action="store_true",
                    help="with --init-from: fresh exit heads (e.g. when --pool differs from the checkpoint's)")
    ap.add_argument("--freeze-backbone", action="store_true",
                    help="train the exit heads only (DeeBERT's second stage; use with --init-from)")
    ap.add_argument("--sst2-repeat", type=int, default=1, help="sentiment: SST-2 train rows appear this often per epoch")
    ap.add_argument("--imdb-limit", type=int, default=0,
                    help="sentiment: use at most this many IMDb train reviews (after the 500 held out); 0 = all")
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

    rows, monitor_rows, info = task_data(args.task, args.sources.split(","), args.seed, sst2_repeat=args.sst2_repeat,
                                         imdb_limit=args.imdb_limit)
    log(f"task {args.task}: train rows {len(rows)} ({args.sources}); held out for monitoring: "
        + ", ".join(f"{k} {len(v)}" for k, v in monitor_rows.items()) + (f"; {info}" if info else ""))

    vocab_path = os.path.join(args.work, "vocab.txt")
    if args.init_from and not os.path.exists(vocab_path):
        shutil.copyfile(os.path.join(os.path.dirname(os.path.abspath(args.init_from)), "vocab.txt"), vocab_path)
        log(f"vocab: from {args.init_from}")
    if not os.path.exists(vocab_path):
        t0 = time.time()
        texts = [r[0] for r in rows] + [r[1] for r in rows if r[1]]
        n = build_vocab(texts, os.path.join(data_dir(), "bert_vocab/vocab.txt"), vocab_path, args.min_count)
        log(f"vocab: {n} pieces (min count {args.min_count}) in {time.time() - t0:.0f}s")
    tok = Tokenizer(vocab_path)

    prefix = "tokens" if args.task == "sentiment" else f"tokens_{args.task}"
    extra = (f"_x{args.sst2_repeat}" if args.sst2_repeat != 1 else "") + (f"_i{args.imdb_limit}" if args.imdb_limit else "")
    cache = os.path.join(args.work,
                         f"{prefix}_{args.sources.replace(',', '_')}{extra}_{args.max_length}_{args.head_tokens}.pt")
    if os.path.exists(cache):
        train, monitors = torch.load(cache)
    else:
        t0 = time.time()
        train = encode_rows(tok, rows, args.max_length, args.head_tokens)
        monitors = {k: encode_rows(tok, v, args.max_length, args.head_tokens) for k, v in monitor_rows.items()}
        torch.save((train, monitors), cache)
        log(f"tokenized in {time.time() - t0:.0f}s")
    ntok = sum(len(s[0]) for s in train)
    log(f"train tokens: {ntok}")

    cfg = Config(len(tok.itos), len(TASK_LABELS[args.task]), layers=args.layers, hidden=args.hidden, heads=args.heads, ffn=args.ffn,
                 max_length=args.max_length, dropout=args.dropout, pool=args.pool, match=args.match_feature,
                 match_exclude=[tok.vocab[t] for t in MATCH_EXCLUDED_TOKENS] if args.match_feature else [])
    model = MultiExitEncoder(cfg)
    if args.init_from:
        init = torch.load(args.init_from)["model"]
        if args.reinit_exits:
            init = {k: v for k, v in init.items() if ".exit." not in k}
        missing, unexpected = model.load_state_dict(init, strict=False)
        if unexpected or any(".exit." not in k for k in missing):
            raise SystemExit(f"--init-from {args.init_from} does not fit: missing {missing}, unexpected {unexpected}")
        log(f"initialised from {args.init_from}" + (" (fresh exit heads)" if args.reinit_exits else ""))
    if args.freeze_backbone:
        for n, p in model.named_parameters():
            p.requires_grad_(".exit." in n)
    trainable = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    decay = [p for n, p in trainable if p.dim() >= 2 and "embed" not in n]
    no_decay = [p for n, p in trainable if not (p.dim() >= 2 and "embed" not in n)]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=args.lr, betas=(0.9, 0.98), eps=1e-6)
    log(f"params: {sum(p.numel() for p in model.parameters())}")

    n_exits = args.layers
    power = {"uniform": 0, "linear": 1, "square": 2}.get(args.exit_weights)
    raw = [float(k == n_exits) for k in range(1, n_exits + 1)] if power is None else [
        float(k ** power) for k in range(1, n_exits + 1)]
    exit_w = [w / sum(raw) for w in raw]
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
        # A frozen backbone trains each head on its own loss: every exit counts fully there.
        loss = sum((1.0 if args.freeze_backbone else w) * exit_loss(lg, labels) for w, lg in zip(exit_w, logits)
                   if w > 0 or args.freeze_backbone)
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
            for name, samples in monitors.items():
                acc, _ = evaluate(model, samples, tok.pad_id)
                log(f"{name} acc per exit: " + " ".join(f"{a:.3f}" for a in acc))

    train_minutes = (time.time() - t_start) / 60
    results = {name: evaluate(model, samples, tok.pad_id) for name, samples in monitors.items()}
    final = {
        "task": args.task, "labels": TASK_LABELS[args.task], "config": cfg.to_dict(), "args": vars(args),
        "steps": total, "train_minutes": round(train_minutes, 1), "train_rows": len(train), "train_tokens": ntok,
        "data_info": info, "monitors": {k: {"n": len(monitors[k]), "acc": a, "conf": c} for k, (a, c) in results.items()},
        "torch": torch.__version__,
    }
    torch.save({"config": cfg.to_dict(), "model": model.state_dict()}, os.path.join(args.work, "final.pt"))
    with open(os.path.join(args.work, "train_report.json"), "w") as f:
        json.dump(final, f, indent=1)
    log(f"done in {train_minutes:.1f} min; final exit: "
        + ", ".join(f"{k} {a[-1]:.3f}" for k, (a, _) in results.items()))


if __name__ == "__main__":
    main()
