"""Int8 dynamic quantisation of the layer segments with the `onnx` package only (onnxruntime's Python quantiser is not
installed here). Does what `onnxruntime.quantization.quantize_dynamic` does for MatMul: every MatMul whose second input
is a constant weight W [K, N] becomes

    DynamicQuantizeLinear(X) -> Xq (uint8), Xs, Xzp
    MatMulInteger(Xq, Wq int8, Xzp, 0) -> int32 -> Cast float -> * (Xs * Ws)

with W quantised symmetrically per output column (Ws [N] = max|W[:, n]| / 127). Attention MatMuls (two activations)
and the exit head (Gemm) stay float32. Writes embed.onnx (copied), layer_NN.onnx, vocab.txt and manifest.json (copied
unchanged: load it with `verify: false`) to the output directory.

Run: /usr/bin/python3 bench/quantize_segments.py models/sentiment /tmp/splitee-bench/sentiment-int8
"""

import shutil
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def quantize_model(src: Path, dst: Path) -> tuple[int, int]:
    model = onnx.load(str(src))
    graph = model.graph
    inits = {i.name: i for i in graph.initializer}
    new_nodes = []
    replaced = 0
    for node in graph.node:
        if node.op_type != "MatMul" or node.input[1] not in inits:
            new_nodes.append(node)
            continue
        w = numpy_helper.to_array(inits[node.input[1]]).astype(np.float32)
        if w.ndim != 2:
            new_nodes.append(node)
            continue
        scale = np.maximum(np.abs(w).max(axis=0), 1e-12) / 127.0  # [N]
        wq = np.clip(np.round(w / scale), -127, 127).astype(np.int8)
        p = f"{node.name or node.output[0]}_q"
        graph.initializer.extend([
            numpy_helper.from_array(wq, f"{p}_W"),
            numpy_helper.from_array(np.zeros(w.shape[1], dtype=np.int8), f"{p}_Wzp"),
            numpy_helper.from_array(scale.astype(np.float32), f"{p}_Ws"),
        ])
        x = node.input[0]
        new_nodes += [
            helper.make_node("DynamicQuantizeLinear", [x], [f"{p}_Xq", f"{p}_Xs", f"{p}_Xzp"], name=f"{p}_dql"),
            helper.make_node(
                "MatMulInteger", [f"{p}_Xq", f"{p}_W", f"{p}_Xzp", f"{p}_Wzp"], [f"{p}_acc"], name=f"{p}_mmi"
            ),
            helper.make_node("Cast", [f"{p}_acc"], [f"{p}_accf"], to=TensorProto.FLOAT, name=f"{p}_cast"),
            helper.make_node("Mul", [f"{p}_Xs", f"{p}_Ws"], [f"{p}_s"], name=f"{p}_scale"),
            helper.make_node("Mul", [f"{p}_accf", f"{p}_s"], [node.output[0]], name=f"{p}_out"),
        ]
        replaced += 1
    # Drop the float weights no longer used.
    used = {i for n in new_nodes for i in n.input}
    keep = [i for i in graph.initializer if i.name in used]
    del graph.initializer[:]
    graph.initializer.extend(keep)
    del graph.node[:]
    graph.node.extend(new_nodes)
    onnx.checker.check_model(model)
    onnx.save(model, str(dst))
    return replaced, dst.stat().st_size


def main() -> None:
    src, dst = Path(sys.argv[1]), Path(sys.argv[2])
    dst.mkdir(parents=True, exist_ok=True)
    for name in ["embed.onnx", "vocab.txt", "manifest.json"]:
        shutil.copyfile(src / name, dst / name)
    for f in sorted(src.glob("layer_*.onnx")):
        replaced, size = quantize_model(f, dst / f.name)
        print(f"{f.name}: {replaced} MatMuls quantised, {f.stat().st_size} -> {size} bytes")


if __name__ == "__main__":
    main()
