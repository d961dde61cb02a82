"""Multi-exit BERT-style encoder: embeddings, L pre-LN transformer blocks, an exit head after every block.

The export contract (see export.py) cuts this model into ONNX segments:
  embed:   (input_ids[B,T] int64, token_type_ids[B,T] int64) -> hidden[B,T,D]
  layer k: (hidden[B,T,D] f32, attention_mask[B,T] f32)      -> hidden[B,T,D], logits[B,C]
With Config.match (the `--match-feature` of train.py, for pair tasks) the embedding also marks every token whose id
occurs in the other text of the pair (DrQA's and ESIM's exact-match feature): one learned vector added to the
tokens that match. It is computed inside embed.onnx from input_ids and token_type_ids, so the export contract and
the runtimes do not change; padding and special tokens (Config.match_exclude) never match.
The exit head pools by masked mean over real tokens (Config.pool = "mean") or takes the first token, [CLS]
(pool = "first", as BERT and DeeBERT exits do); either way padding never changes the result of a real token or an
exit. The pooling is part of each exported layer graph; export.py records it in the manifest (architecture.exitPooling).
"""

import math

import torch
from torch import nn
import torch.nn.functional as F


class Config:
    def __init__(self, vocab_size, num_labels, layers=12, hidden=128, heads=4, ffn=512, max_length=256,
                 type_vocab=2, dropout=0.1, pool="mean", match=False, match_exclude=()):
        self.vocab_size = vocab_size
        self.num_labels = num_labels
        self.layers = layers
        self.hidden = hidden
        self.heads = heads
        self.ffn = ffn
        self.max_length = max_length
        self.type_vocab = type_vocab
        self.dropout = dropout
        if pool not in ("mean", "first"):
            raise ValueError(f"pool must be mean or first, not {pool!r}")
        self.pool = pool
        self.match = bool(match)
        self.match_exclude = [int(i) for i in match_exclude]

    def to_dict(self):
        return dict(self.__dict__)


class Embeddings(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.tok = nn.Embedding(cfg.vocab_size, cfg.hidden)
        self.pos = nn.Embedding(cfg.max_length, cfg.hidden)
        self.typ = nn.Embedding(cfg.type_vocab, cfg.hidden)
        self.match = nn.Embedding(2, cfg.hidden) if cfg.match else None
        self.match_exclude = list(cfg.match_exclude)
        self.norm = nn.LayerNorm(cfg.hidden, eps=1e-6)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, input_ids, token_type_ids):
        t = input_ids.shape[1]
        pos = torch.arange(t, device=input_ids.device).unsqueeze(0)
        x = self.tok(input_ids) + self.pos(pos) + self.typ(token_type_ids)
        if self.match is not None:
            x = x + self.match(cross_segment_match(input_ids, token_type_ids, self.match_exclude))
        return self.drop(self.norm(x))


# Tokens that never count as a match (Config.match_exclude holds their ids in the model's vocabulary).
MATCH_EXCLUDED_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]")


def cross_segment_match(input_ids, token_type_ids, exclude):
    """[B,T] int64: 1 where the token's id also occurs in the other segment, 0 elsewhere (and for excluded ids)."""
    same_id = input_ids.unsqueeze(2) == input_ids.unsqueeze(1)
    other_segment = token_type_ids.unsqueeze(2) != token_type_ids.unsqueeze(1)
    hit = (same_id & other_segment).any(dim=2)
    for i in exclude:
        hit = hit & (input_ids != i)
    return hit.long()


class Block(nn.Module):
    """Pre-LN transformer block."""

    def __init__(self, cfg):
        super().__init__()
        self.heads = cfg.heads
        self.ln1 = nn.LayerNorm(cfg.hidden, eps=1e-6)
        self.qkv = nn.Linear(cfg.hidden, 3 * cfg.hidden)
        self.out = nn.Linear(cfg.hidden, cfg.hidden)
        self.ln2 = nn.LayerNorm(cfg.hidden, eps=1e-6)
        self.fc1 = nn.Linear(cfg.hidden, cfg.ffn)
        self.fc2 = nn.Linear(cfg.ffn, cfg.hidden)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, mask):
        b, t, d = x.shape
        h = self.heads
        q, k, v = self.qkv(self.ln1(x)).view(b, t, 3, h, d // h).permute(2, 0, 3, 1, 4)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d // h)
        scores = scores + (1.0 - mask)[:, None, None, :] * -1e4
        att = self.drop(torch.softmax(scores, dim=-1))
        y = (att @ v).transpose(1, 2).reshape(b, t, d)
        x = x + self.drop(self.out(y))
        x = x + self.drop(self.fc2(F.gelu(self.fc1(self.ln2(x)))))
        return x


class ExitHead(nn.Module):
    """LayerNorm -> pool (masked mean, or the first token) -> dense+tanh -> classifier."""

    def __init__(self, cfg):
        super().__init__()
        self.pool = cfg.pool
        self.norm = nn.LayerNorm(cfg.hidden, eps=1e-6)
        self.dense = nn.Linear(cfg.hidden, cfg.hidden)
        self.cls = nn.Linear(cfg.hidden, cfg.num_labels)
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, mask):
        if self.pool == "first":
            pooled = self.norm(x[:, 0])
        else:
            x = self.norm(x)
            m = mask.unsqueeze(-1)
            pooled = (x * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.cls(self.drop(torch.tanh(self.dense(pooled))))


class Layer(nn.Module):
    """One exported segment: a block and its exit."""

    def __init__(self, cfg):
        super().__init__()
        self.block = Block(cfg)
        self.exit = ExitHead(cfg)

    def forward(self, x, mask):
        x = self.block(x, mask)
        return x, self.exit(x, mask)


class MultiExitEncoder(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.embed = Embeddings(cfg)
        self.layers = nn.ModuleList([Layer(cfg) for _ in range(cfg.layers)])
        self.apply(self._init)

    @staticmethod
    def _init(m):
        if isinstance(m, (nn.Linear, nn.Embedding)):
            nn.init.normal_(m.weight, std=0.02)
        if isinstance(m, nn.Linear) and m.bias is not None:
            nn.init.zeros_(m.bias)

    def forward(self, input_ids, token_type_ids, mask):
        """Returns the list of exit logits, one [B,C] tensor per layer."""
        x = self.embed(input_ids, token_type_ids)
        logits = []
        for layer in self.layers:
            x, lg = layer(x, mask)
            logits.append(lg)
        return logits
