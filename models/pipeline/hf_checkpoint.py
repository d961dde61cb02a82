"""Read a local Hugging Face-layout BERT checkpoint folder into plain float32 NumPy arrays, by layout.

Folder: config.json, vocab.txt (+ tokenizer_config.json), weights in model.safetensors (or a sharded
model.safetensors.index.json) or pytorch_model.bin. Layouts (docs/import.md):
  bert         BertModel / BertForSequenceClassification / BertForMaskedLM etc.: [bert.]embeddings.*,
               [bert.]encoder.layer.{i}.*, optional [bert.]pooler.dense.*, optional classifier.*
  deebert      bert.* + bert.encoder.highway.{i}.pooler.dense.* + bert.encoder.highway.{i}.classifier.*;
               exit L is the model's own bert.pooler + classifier (highway L-1, which DeeBERT never uses, is ignored)
  elasticbert  elasticbert.embeddings.*, elasticbert.encoder.layer.{i}.*, elasticbert.encoder.pooler.{i}.dense.*
               (absent when add_pooling_layer=False), classifiers.{j}.*
Every failure is a CheckpointError with one message naming the file or the key.
"""

import json
import os
import re

import numpy as np

SAFETENSORS_DTYPES = {"F32": "<f4", "F16": "<f2", "BF16": "bf16", "F64": "<f8", "I64": "<i8", "I32": "<i4",
                      "U8": "u1", "I8": "i1", "BOOL": "?"}


class CheckpointError(Exception):
    """A checkpoint this importer cannot read; the message names the file or key."""


def _bf16_to_f32(raw):
    u16 = np.frombuffer(raw, dtype="<u2").astype(np.uint32)
    return (u16 << 16).view(np.float32)


def read_safetensors(path):
    """Parses a .safetensors file (8-byte LE header length, JSON header, raw little-endian buffers)."""
    name = os.path.basename(path)
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise CheckpointError(f"{name}: too short to be a safetensors file")
    n = int.from_bytes(data[:8], "little")
    if n <= 0 or 8 + n > len(data):
        raise CheckpointError(f"{name}: header length {n} does not fit the file ({len(data)} bytes)")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise CheckpointError(f"{name}: the header is not JSON ({e})") from None
    body = memoryview(data)[8 + n:]
    out = {}
    for key, info in header.items():
        if key == "__metadata__":
            continue
        dtype, shape, (start, end) = info.get("dtype"), info.get("shape"), info.get("data_offsets", (0, -1))
        if dtype not in SAFETENSORS_DTYPES:
            raise CheckpointError(f"{name}: tensor {key} has unsupported dtype {dtype}")
        if not (0 <= start <= end <= len(body)):
            raise CheckpointError(f"{name}: tensor {key} data_offsets [{start}, {end}] lie outside the file")
        raw = body[start:end]
        if dtype == "BF16":
            arr = _bf16_to_f32(raw)
        else:
            arr = np.frombuffer(raw, dtype=SAFETENSORS_DTYPES[dtype])
        count = int(np.prod(shape)) if shape else 1
        if arr.size != count:
            raise CheckpointError(f"{name}: tensor {key} has {arr.size} values for shape {shape}")
        out[key] = arr.reshape(shape)
    return out


def read_torch_bin(path):
    """Loads pytorch_model.bin with torch.load(weights_only=True): tensors only, no code from the file runs."""
    import torch

    name = os.path.basename(path)
    try:
        sd = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unpickling failure is the file's fault
        raise CheckpointError(f"{name}: cannot be loaded with torch.load(weights_only=True): {e}") from None
    if isinstance(sd, dict) and "state_dict" in sd and isinstance(sd["state_dict"], dict):
        sd = sd["state_dict"]
    if not isinstance(sd, dict):
        raise CheckpointError(f"{name}: holds a {type(sd).__name__}, not a state dict")
    out = {}
    for k, v in sd.items():
        if not isinstance(v, torch.Tensor):
            raise CheckpointError(f"{name}: entry {k} is a {type(v).__name__}, not a tensor")
        v = v.detach().cpu()
        out[k] = v.float().numpy() if v.is_floating_point() else v.numpy()
    return out


def read_weights(folder):
    """Returns ({key: ndarray}, file name) from the folder's weights, safetensors first."""
    st = os.path.join(folder, "model.safetensors")
    idx = os.path.join(folder, "model.safetensors.index.json")
    pt = os.path.join(folder, "pytorch_model.bin")
    if os.path.exists(st):
        return read_safetensors(st), "model.safetensors"
    if os.path.exists(idx):
        with open(idx) as fh:
            try:
                weight_map = json.load(fh)["weight_map"]
            except (json.JSONDecodeError, KeyError, TypeError):
                raise CheckpointError("model.safetensors.index.json: no weight_map object") from None
        out = {}
        for shard in sorted(set(weight_map.values())):
            out.update(read_safetensors(os.path.join(folder, shard)))
        return out, "model.safetensors.index.json"
    if os.path.exists(pt):
        return read_torch_bin(pt), "pytorch_model.bin"
    raise CheckpointError(f"{folder}: no weights (model.safetensors, model.safetensors.index.json or "
                          "pytorch_model.bin); TensorFlow and Flax checkpoints are not supported")


def read_config(folder):
    path = os.path.join(folder, "config.json")
    if not os.path.exists(path):
        raise CheckpointError(f"{folder}: config.json is missing")
    try:
        with open(path) as fh:
            cfg = json.load(fh)
    except json.JSONDecodeError as e:
        raise CheckpointError(f"config.json: not JSON ({e})") from None
    mt = cfg.get("model_type")
    if mt not in ("bert", "elasticbert"):
        raise CheckpointError(f'config.json: model_type {json.dumps(mt)} is not supported (only "bert" and '
                              '"elasticbert": BERT post-LN encoders)')
    for key in ("hidden_size", "num_hidden_layers", "num_attention_heads", "intermediate_size", "vocab_size",
                "max_position_embeddings"):
        if not isinstance(cfg.get(key), int) or cfg[key] <= 0:
            raise CheckpointError(f"config.json: {key} must be a positive integer (got {cfg.get(key)!r})")
    if cfg["hidden_size"] % cfg["num_attention_heads"]:
        raise CheckpointError("config.json: hidden_size must be a multiple of num_attention_heads")
    act = cfg.get("hidden_act", "gelu")
    if act != "gelu":
        raise CheckpointError(f'config.json: hidden_act {json.dumps(act)} is not supported (only "gelu", the erf '
                              "GELU of BERT)")
    pet = cfg.get("position_embedding_type", "absolute")
    if pet != "absolute":
        raise CheckpointError(f'config.json: position_embedding_type {json.dumps(pet)} is not supported (only '
                              '"absolute")')
    return cfg


def read_vocab(folder, vocab_size):
    path = os.path.join(folder, "vocab.txt")
    if not os.path.exists(path):
        raise CheckpointError(f"{folder}: vocab.txt is missing (only WordPiece vocabularies are supported)")
    with open(path, encoding="utf-8") as fh:
        tokens = fh.read().split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    tokens = [t.rstrip("\r") for t in tokens]
    if len(tokens) != vocab_size:
        raise CheckpointError(f"vocab.txt: {len(tokens)} tokens but config.json vocab_size is {vocab_size}")
    for special in ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"):
        if special not in tokens:
            raise CheckpointError(f"vocab.txt: lacks the special token {special}")
    return path, tokens


def read_tokenizer_config(folder):
    """do_lower_case and strip_accents from tokenizer_config.json (BERT's defaults: True, follows lowercasing)."""
    path = os.path.join(folder, "tokenizer_config.json")
    tc = {}
    if os.path.exists(path):
        try:
            with open(path) as fh:
                tc = json.load(fh)
        except json.JSONDecodeError as e:
            raise CheckpointError(f"tokenizer_config.json: not JSON ({e})") from None
    lower = tc.get("do_lower_case", True)
    strip = tc.get("strip_accents")
    if strip is None:
        strip = lower
    if not isinstance(lower, bool) or not isinstance(strip, bool):
        raise CheckpointError("tokenizer_config.json: do_lower_case and strip_accents must be booleans")
    if lower != strip:
        raise CheckpointError(f"tokenizer_config.json: do_lower_case={lower} with strip_accents={strip} is not "
                              "supported (only uncased with accents stripped, or cased with accents kept)")
    if tc.get("tokenize_chinese_chars", True) is not True:
        raise CheckpointError("tokenizer_config.json: tokenize_chinese_chars=false is not supported")
    return {"lowercase": lower, "stripAccents": strip, "model_max_length": tc.get("model_max_length")}


LN_RENAMES = [(re.compile(r"\.gamma$"), ".weight"), (re.compile(r"\.beta$"), ".bias")]


def normalise_keys(sd):
    """Older checkpoints name LayerNorm parameters gamma/beta; rename them to weight/bias."""
    out = {}
    for k, v in sd.items():
        nk = k
        if "LayerNorm" in k:
            for pat, rep in LN_RENAMES:
                nk = pat.sub(rep, nk)
        if nk in out:
            raise CheckpointError(f"weights: both {k} and {nk} are present")
        out[nk] = v
    return out


def detect_layout(sd, cfg):
    """Returns (layout, prefix): prefix is the backbone's key prefix ("bert.", "elasticbert." or "")."""
    if any(k.startswith("elasticbert.") for k in sd):
        return "elasticbert", "elasticbert."
    if cfg["model_type"] == "elasticbert":  # a bare ElasticBertModel's own state dict has no prefix
        return "elasticbert", ""
    if any(k.startswith("bert.encoder.highway.") for k in sd):
        return "deebert", "bert."
    if any(k.startswith("bert.") for k in sd):
        return "bert", "bert."
    if any(k.startswith("embeddings.") for k in sd):
        return "bert", ""
    raise CheckpointError("weights: no bert.embeddings.*, embeddings.* or elasticbert.embeddings.* keys: "
                          "not a BERT checkpoint")


class Taker:
    """Takes tensors out of the state dict by name, checking shapes; leftovers are reported at the end."""

    def __init__(self, sd, source):
        self.sd = dict(sd)
        self.source = source

    def has(self, key):
        return key in self.sd

    def take(self, key, shape):
        if key not in self.sd:
            raise CheckpointError(f"{self.source}: missing key {key}")
        v = self.sd.pop(key)
        if tuple(v.shape) != tuple(shape):
            raise CheckpointError(f"{self.source}: {key} has shape {list(v.shape)}, expected {list(shape)} "
                                  "(from config.json)")
        if not np.issubdtype(v.dtype, np.floating):
            raise CheckpointError(f"{self.source}: {key} has dtype {v.dtype}, expected a float tensor")
        return np.array(v, dtype=np.float32, order="C", copy=True)

    def linear(self, prefix, out_dim, in_dim):
        return {"w": self.take(prefix + ".weight", (out_dim, in_dim)), "b": self.take(prefix + ".bias", (out_dim,))}

    def norm(self, prefix, d):
        return {"w": self.take(prefix + ".weight", (d,)), "b": self.take(prefix + ".bias", (d,))}

    def drop(self, pattern):
        """Removes (ignores) every key matching the regex; returns how many."""
        gone = [k for k in self.sd if re.search(pattern, k)]
        for k in gone:
            del self.sd[k]
        return len(gone)


def _exit_head(t, pooler_prefix, classifier_prefix, d, c):
    head = {"pooler": None, "classifier": t.linear(classifier_prefix, c, d)}
    if pooler_prefix is not None:
        head["pooler"] = t.linear(pooler_prefix, d, d)
    return head


def load_checkpoint(folder):
    """Reads and validates everything. Returns a dict with config, tokenizer settings, vocab and weights by role:
    {"cfg", "tok", "vocab_path", "vocab", "layout", "weights_file", "embed", "layers", "exits", "notes"}
    where exits[k] is {"pooler": {w,b}|None, "classifier": {w,b}} or None (no head in the checkpoint)."""
    cfg = read_config(folder)
    vocab_path, vocab = read_vocab(folder, cfg["vocab_size"])
    tok = read_tokenizer_config(folder)
    raw, weights_file = read_weights(folder)
    sd = normalise_keys(raw)
    layout, p = detect_layout(sd, cfg)
    d, L, f = cfg["hidden_size"], cfg["num_hidden_layers"], cfg["intermediate_size"]
    t = Taker(sd, weights_file)
    notes = []
    if t.drop(r"(^|\.)embeddings\.position_ids$"):
        notes.append("ignored the embeddings.position_ids buffer (positions are 0..T-1)")
    word_key, decoder_key = p + "embeddings.word_embeddings.weight", "cls.predictions.decoder.weight"
    if not t.has(word_key) and t.has(decoder_key):  # tied weights saved once, under the decoder's name
        t.sd[word_key] = t.sd.pop(decoder_key)
        notes.append(f"read {word_key} from its tied copy {decoder_key}")
    n_mlm = t.drop(r"^cls\.")
    if n_mlm:
        notes.append(f"ignored {n_mlm} pre-training head tensors (cls.*)")
    embed = {
        "word": t.take(p + "embeddings.word_embeddings.weight", (cfg["vocab_size"], d)),
        "pos": t.take(p + "embeddings.position_embeddings.weight", (cfg["max_position_embeddings"], d)),
        "type": t.take(p + "embeddings.token_type_embeddings.weight", (cfg.get("type_vocab_size", 2), d)),
        "norm": t.norm(p + "embeddings.LayerNorm", d),
    }
    layers = []
    for i in range(L):
        q = f"{p}encoder.layer.{i}."
        layers.append({
            "q": t.linear(q + "attention.self.query", d, d),
            "k": t.linear(q + "attention.self.key", d, d),
            "v": t.linear(q + "attention.self.value", d, d),
            "o": t.linear(q + "attention.output.dense", d, d),
            "ln1": t.norm(q + "attention.output.LayerNorm", d),
            "fc1": t.linear(q + "intermediate.dense", f, d),
            "fc2": t.linear(q + "output.dense", d, f),
            "ln2": t.norm(q + "output.LayerNorm", d),
        })
    exits = [None] * L
    if layout in ("bert", "deebert"):
        c = int(sd["classifier.bias"].shape[0]) if "classifier.bias" in sd else None
        has_pooler = t.has(p + "pooler.dense.weight")
        if c is not None:
            if not has_pooler:
                raise CheckpointError(f"{weights_file}: classifier.* is present but {p}pooler.dense.weight is "
                                      "missing (BERT's classifier reads the pooler's output)")
            exits[L - 1] = _exit_head(t, p + "pooler.dense", "classifier", d, c)
        elif has_pooler:
            t.linear(p + "pooler.dense", d, d)
            notes.append("ignored the pre-training pooler (no classifier.* to go with it); every exit is trained")
        if layout == "deebert":
            if c is None:
                raise CheckpointError(f"{weights_file}: DeeBERT highway exits but no classifier.* final exit")
            for i in range(L - 1):
                exits[i] = _exit_head(t, f"{p}encoder.highway.{i}.pooler.dense",
                                      f"{p}encoder.highway.{i}.classifier", d, c)
            if t.drop(rf"^{re.escape(p)}encoder\.highway\.{L - 1}\."):
                notes.append(f"ignored highway {L - 1} (DeeBERT answers layer {L} from bert.pooler + classifier)")
    else:  # elasticbert
        n_out = len([k for k in sd if re.fullmatch(r"classifiers\.\d+\.bias", k)])
        if n_out == 0:  # a bare (pre-trained) ElasticBertModel: no exits; its poolers have no classifiers to feed
            n_pool = t.drop(rf"^{re.escape(p)}encoder\.pooler\.")
            notes.append("no classifiers.* (a bare ElasticBERT backbone): every exit is trained" +
                         (f"; ignored {n_pool} pooler tensors" if n_pool else ""))
            n_cfg = n_out
        else:
            if "classifiers.0.bias" not in sd:
                raise CheckpointError(f"{weights_file}: missing key classifiers.0.bias")
            c = int(sd["classifiers.0.bias"].shape[0])
            n_cfg = cfg.get("num_output_layers", n_out)
        if n_out != n_cfg:
            raise CheckpointError(f"{weights_file}: {n_out} classifiers.* exits but config.json num_output_layers "
                                  f"is {n_cfg}")
        if n_out not in (0, 1, L):
            raise CheckpointError(f"config.json: num_output_layers {n_out} is not supported (only 1, the static "
                                  f"model, or num_hidden_layers = {L}, an exit after every layer)")
        start = L - n_out
        pooled = any(k.startswith(f"{p}encoder.pooler.") for k in sd)
        for j in range(n_out):
            i = start + j
            exits[i] = _exit_head(t, f"{p}encoder.pooler.{i}.dense" if pooled else None, f"classifiers.{j}", d, c)
    if t.sd:
        extra = sorted(t.sd)
        raise CheckpointError(f"{weights_file}: unexpected key {extra[0]}" +
                              (f" (and {len(extra) - 1} more)" if len(extra) > 1 else "") +
                              f" for the {layout} layout")
    return {"cfg": cfg, "tok": tok, "vocab_path": vocab_path, "vocab": vocab, "layout": layout,
            "weights_file": weights_file, "embed": embed, "layers": layers, "exits": exits, "notes": notes}
