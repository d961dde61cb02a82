"""Hand-fused layer segments: each layer graph rebuilt from onnxruntime's contrib operators, to test whether fewer
operators per `session.run` close the WASM/native gap (docs/benchmarks.md, "Edge compute").

The exported layer (torch.onnx, 89 nodes; 39 after onnxruntime's own `all` optimisations) becomes 18 nodes:

    LayerNormalization -> com.microsoft.Attention (fused QKV projection, 2-D mask, num_heads from the manifest)
    -> MatMul (out) -> com.microsoft.SkipLayerNormalization (+ residual, + out bias, ln2; also returns the sum)
    -> MatMul (fc1) -> com.microsoft.BiasGelu -> MatMul (fc2)
    -> com.microsoft.SkipLayerNormalization (+ residual, + fc2 bias, exit norm; the sum is hidden_out)
    exit head: masked mean as one MatMul of the mask with the normalised states, / max(count, 1), Gemm + Tanh, Gemm

Same weights, same inputs and outputs (the fused graph matches the exported one within ~1e-6). Writes the fused
layer_NN.onnx and copies embed.onnx, vocab.txt and manifest.json (unchanged: load the directory with `verify: false`).

Run: /usr/bin/python3 bench/fuse_segments.py models/sentiment /tmp/splitee-bench/sentiment-fused
"""

import json
import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

EPS = 1e-6  # the model's LayerNorm epsilon (models/pipeline/model.py)


def fuse_layer(src: Path, dst: Path, heads: int) -> int:
    m = onnx.load(str(src))
    w = {t.name: numpy_helper.to_array(t) for t in m.graph.initializer}
    # The four projection weights are the constant second inputs of MatMul nodes named /block/<name>/MatMul.
    proj = {n.name.split("/")[2]: n.input[1] for n in m.graph.node if n.op_type == "MatMul" and n.input[1] in w}
    if sorted(proj) != ["fc1", "fc2", "out", "qkv"]:
        raise SystemExit(f"{src}: unexpected projections {sorted(proj)}")
    keep = ["block.ln1.weight", "block.ln1.bias", "block.qkv.bias", "block.out.bias", "block.ln2.weight",
            "block.ln2.bias", "block.fc1.bias", "block.fc2.bias", "exit.norm.weight", "exit.norm.bias",
            "exit.dense.weight", "exit.dense.bias", "exit.cls.weight", "exit.cls.bias"]
    inits = [numpy_helper.from_array(w[k], k) for k in keep]
    inits += [numpy_helper.from_array(w[proj[k]], f"{k}.weight") for k in ["qkv", "out", "fc1", "fc2"]]
    inits += [numpy_helper.from_array(np.array([1], np.int64), "axis1"),
              numpy_helper.from_array(np.array([2], np.int64), "axis2"),
              numpy_helper.from_array(np.array(1.0, np.float32), "one")]
    n, ms = helper.make_node, "com.microsoft"
    nodes = [
        n("Cast", ["attention_mask"], ["mask_i32"], to=TensorProto.INT32),
        n("LayerNormalization", ["hidden", "block.ln1.weight", "block.ln1.bias"], ["ln1"], epsilon=EPS, axis=-1),
        n("Attention", ["ln1", "qkv.weight", "block.qkv.bias", "mask_i32"], ["context"], domain=ms, num_heads=heads),
        n("MatMul", ["context", "out.weight"], ["attn_out"]),
        n("SkipLayerNormalization", ["attn_out", "hidden", "block.ln2.weight", "block.ln2.bias", "block.out.bias"],
          ["ln2", "", "", "residual1"], domain=ms, epsilon=EPS),
        n("MatMul", ["ln2", "fc1.weight"], ["fc1"]),
        n("BiasGelu", ["fc1", "block.fc1.bias"], ["gelu"], domain=ms),
        n("MatMul", ["gelu", "fc2.weight"], ["fc2"]),
        n("SkipLayerNormalization", ["fc2", "residual1", "exit.norm.weight", "exit.norm.bias", "block.fc2.bias"],
          ["exit_ln", "", "", "hidden_out"], domain=ms, epsilon=EPS),
        n("Unsqueeze", ["attention_mask", "axis1"], ["mask_row"]),
        n("MatMul", ["mask_row", "exit_ln"], ["pooled_sum"]),
        n("ReduceSum", ["mask_row", "axis2"], ["count"], keepdims=1),
        n("Max", ["count", "one"], ["count_at_least_1"]),
        n("Div", ["pooled_sum", "count_at_least_1"], ["pooled_3d"]),
        n("Squeeze", ["pooled_3d", "axis1"], ["pooled"]),
        n("Gemm", ["pooled", "exit.dense.weight", "exit.dense.bias"], ["dense"], transB=1),
        n("Tanh", ["dense"], ["dense_tanh"]),
        n("Gemm", ["dense_tanh", "exit.cls.weight", "exit.cls.bias"], ["logits"], transB=1),
    ]
    graph = helper.make_graph(nodes, m.graph.name, list(m.graph.input), list(m.graph.output), inits)
    out = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid(ms, 1)],
                            ir_version=m.ir_version)
    onnx.checker.check_model(out)
    onnx.save(out, str(dst))
    return len(nodes)


def main(src: str, dst: str) -> None:
    src_dir, dst_dir = Path(src), Path(dst)
    dst_dir.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((src_dir / "manifest.json").read_text())
    for name in ["manifest.json", manifest["embed"]["file"], manifest["tokenizer"]["vocab"]]:
        shutil.copyfile(src_dir / name, dst_dir / name)
    for seg in manifest["segments"]:
        nodes = fuse_layer(src_dir / seg["file"], dst_dir / seg["file"], manifest["heads"])
        print(f"{seg['file']}: {nodes} nodes")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
