"""BERT's equations as export segments (post-LN blocks, erf GELU, first-token pooler + tanh exits).

The project's own model.py differs (pre-LN, masked-mean pooling); an imported checkpoint is exported through these
modules instead, under the same segment contract (see export.py):
  embed:   (input_ids[B,T] int64, token_type_ids[B,T] int64) -> hidden[B,T,D]
           LayerNorm(word[ids] + position[0..T-1] + token_type[types])
  layer k: (hidden[B,T,D] f32, attention_mask[B,T] f32)      -> hidden_out[B,T,D], logits[B,C]
           a = LayerNorm(x + Wo · MHA(x, additive mask (1 - mask) * -10000))
           y = LayerNorm(a + W2 · gelu_erf(W1 · a))
           logits = Wc · tanh(Wp · y[:, 0]) (+ biases), or Wc · y[:, 0] for a head without a pooler
Padding never changes a real token's result or an exit: padded keys get -10000 before the softmax (exp underflows to
exactly 0 in float32) and the exit reads the first token.
"""

import math

import torch
from torch import nn
import torch.nn.functional as F


def _linear(p):
    w = torch.from_numpy(p["w"])
    lin = nn.Linear(w.shape[1], w.shape[0])
    with torch.no_grad():
        lin.weight.copy_(w)
        lin.bias.copy_(torch.from_numpy(p["b"]))
    return lin


def _norm(p, eps):
    ln = nn.LayerNorm(p["w"].shape[0], eps=eps)
    with torch.no_grad():
        ln.weight.copy_(torch.from_numpy(p["w"]))
        ln.bias.copy_(torch.from_numpy(p["b"]))
    return ln


class BertEmbed(nn.Module):
    def __init__(self, e, eps):
        super().__init__()
        self.word = nn.Embedding.from_pretrained(torch.from_numpy(e["word"]), freeze=True)
        self.pos = nn.Embedding.from_pretrained(torch.from_numpy(e["pos"]), freeze=True)
        self.typ = nn.Embedding.from_pretrained(torch.from_numpy(e["type"]), freeze=True)
        self.norm = _norm(e["norm"], eps)

    def forward(self, input_ids, token_type_ids):
        pos = torch.arange(input_ids.shape[1], device=input_ids.device).unsqueeze(0)
        return self.norm(self.word(input_ids) + self.pos(pos) + self.typ(token_type_ids))


class BertBlock(nn.Module):
    def __init__(self, w, heads, eps):
        super().__init__()
        self.heads = heads
        self.q, self.k, self.v, self.o = (_linear(w[n]) for n in ("q", "k", "v", "o"))
        self.ln1 = _norm(w["ln1"], eps)
        self.fc1, self.fc2 = _linear(w["fc1"]), _linear(w["fc2"])
        self.ln2 = _norm(w["ln2"], eps)

    def forward(self, x, mask):
        b, t, d = x.shape
        h = self.heads

        def split(y):
            return y.view(b, t, h, d // h).transpose(1, 2)

        q, k, v = split(self.q(x)), split(self.k(x)), split(self.v(x))
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(d // h)
        scores = scores + (1.0 - mask)[:, None, None, :] * -10000.0
        y = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, t, d)
        a = self.ln1(x + self.o(y))
        return self.ln2(a + self.fc2(F.gelu(self.fc1(a))))


class ExitHead(nn.Module):
    """First token -> (pooler dense + tanh) -> classifier. `pooler` None: the classifier reads the first token."""

    def __init__(self, head):
        super().__init__()
        self.pooler = None if head["pooler"] is None else _linear(head["pooler"])
        self.cls = _linear(head["classifier"])

    def forward(self, x):
        first = x[:, 0]
        if self.pooler is not None:
            first = torch.tanh(self.pooler(first))
        return self.cls(first)


class BertSegment(nn.Module):
    """One exported segment: a BERT block and its exit."""

    def __init__(self, w, head, heads, eps):
        super().__init__()
        self.block = BertBlock(w, heads, eps)
        self.exit = ExitHead(head)

    def forward(self, x, mask):
        x = self.block(x, mask)
        return x, self.exit(x)
