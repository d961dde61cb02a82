"""Single-MatMul ONNX models with the shapes of a layer's four projections (from the model's manifest: D x 3D qkv,
D x D out, D x F fc1, F x D fc2), for `bench/wasm_kernel_bench.ts`: the floor a WASM layer cannot beat is the ratio
of onnxruntime-web's float32 GEMM to the native one on the same shapes. Weights are fixed pseudo-random values.

Run: /usr/bin/python3 bench/matmul_models.py models/sentiment /tmp/splitee-bench/matmul
"""

import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def write_matmul(path: Path, k: int, n: int) -> None:
    w = (np.random.RandomState(k * 1000 + n).randn(k, n) * 0.05).astype(np.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"])], f"matmul_{k}x{n}",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["batch", "sequence", k])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["batch", "sequence", n])],
        [numpy_helper.from_array(w, "w")])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, str(path))


def main(model_dir: str, out: str) -> None:
    manifest = json.loads((Path(model_dir) / "manifest.json").read_text())
    d, f = manifest["hiddenSize"], manifest["ffnSize"]
    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    for k, n in sorted({(d, 3 * d), (d, d), (d, f), (f, d)}):
        write_matmul(out_dir / f"matmul_{k}x{n}.onnx", k, n)
        print(f"matmul_{k}x{n}.onnx")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(sys.argv[1], sys.argv[2])
