"""float16 variants of the layer segments, written with the `onnx` package only (no converter is installed here), for
`bench/edge_compute_bench.ts` and `bench/segment_variants.ts`:

  --mode storage  every float32 weight stored as float16 and cast back to float32 inside the graph (half the bytes
                  on disk; onnxruntime folds the casts at session creation, so it computes in float32 as before)
  --mode compute  the whole graph in float16: weights, constants and every intermediate tensor; the float32 inputs
                  are cast to float16 on entry and the outputs back to float32 (what a float16 edge would run)

Inputs and outputs keep their names and float32 types, so the variant drops into a model directory. Copies
embed.onnx, vocab.txt and manifest.json unchanged (load the directory with `verify: false`).

Run: /usr/bin/python3 bench/fp16_segments.py --mode storage models/sentiment /tmp/splitee-bench/sentiment-fp16w
     /usr/bin/python3 bench/fp16_segments.py --mode compute models/sentiment /tmp/splitee-bench/sentiment-fp16
"""

import argparse
import json
import shutil
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def storage(model: onnx.ModelProto) -> onnx.ModelProto:
    g = model.graph
    casts = []
    for init in g.initializer:
        if init.data_type != TensorProto.FLOAT:
            continue
        arr = numpy_helper.to_array(init)
        name = init.name
        init.CopyFrom(numpy_helper.from_array(arr.astype(np.float16), f"{name}__fp16"))
        casts.append(helper.make_node("Cast", [f"{name}__fp16"], [name], to=TensorProto.FLOAT, name=f"{name}__cast"))
    nodes = casts + list(g.node)
    del g.node[:]
    g.node.extend(nodes)
    return model


def compute(model: onnx.ModelProto) -> onnx.ModelProto:
    g = model.graph
    for init in g.initializer:
        if init.data_type == TensorProto.FLOAT:
            init.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(init).astype(np.float16), init.name))
    for node in g.node:
        for attr in node.attribute:
            if attr.name == "value" and attr.t.data_type == TensorProto.FLOAT:
                attr.t.CopyFrom(numpy_helper.from_array(numpy_helper.to_array(attr.t).astype(np.float16), attr.t.name))
            if node.op_type == "Cast" and attr.name == "to" and attr.i == TensorProto.FLOAT:
                attr.i = TensorProto.FLOAT16
    rename = {}
    entry = []
    for inp in g.input:
        if inp.type.tensor_type.elem_type == TensorProto.FLOAT:
            rename[inp.name] = f"{inp.name}__fp16"
            entry.append(helper.make_node("Cast", [inp.name], [f"{inp.name}__fp16"], to=TensorProto.FLOAT16))
    exits = []
    for out in g.output:
        if out.type.tensor_type.elem_type == TensorProto.FLOAT:
            exits.append(helper.make_node("Cast", [f"{out.name}__fp16"], [out.name], to=TensorProto.FLOAT))
            rename[out.name] = f"{out.name}__fp16"
    for node in g.node:
        for i, name in enumerate(node.input):
            if name in rename and not name.endswith("__fp16"):
                node.input[i] = rename[name]
        for i, name in enumerate(node.output):
            if name in rename:
                node.output[i] = rename[name]
    nodes = entry + list(g.node) + exits
    del g.node[:]
    g.node.extend(nodes)
    del g.value_info[:]
    return model


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mode", choices=["storage", "compute"], required=True)
    ap.add_argument("src")
    ap.add_argument("dst")
    args = ap.parse_args()
    src, dst = Path(args.src), Path(args.dst)
    dst.mkdir(parents=True, exist_ok=True)
    manifest = json.loads((src / "manifest.json").read_text())
    for name in ["manifest.json", manifest["embed"]["file"], manifest["tokenizer"]["vocab"]]:
        shutil.copyfile(src / name, dst / name)
    for seg in manifest["segments"]:
        model = onnx.load(str(src / seg["file"]))
        model = storage(model) if args.mode == "storage" else compute(model)
        onnx.checker.check_model(model)
        onnx.save(model, str(dst / seg["file"]))
        print(f"{seg['file']}: {(src / seg['file']).stat().st_size} -> {(dst / seg['file']).stat().st_size} bytes")


if __name__ == "__main__":
    main()
