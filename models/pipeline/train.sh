#!/usr/bin/env bash
# deno task train: checks the Python prerequisites, then trains and exports the default model (seeded, resumable).
# Usage: deno task train [--epochs 1] [...train.py flags]
set -euo pipefail
PY=${PYTHON:-/usr/bin/python3}
if ! "$PY" -c "import torch, onnx" 2>/dev/null; then
  cat >&2 <<'MSG'
Training needs PyTorch and ONNX from Debian (PyPI is not reachable here):
  sudo apt-get update && sudo apt-get install -y python3-torch python3-onnx libopenblas0-pthread
(libopenblas0-pthread matters: without it torch runs about 5x slower on CPU.) Then run `deno task train` again.
MSG
  exit 1
fi
if ! ldconfig -p 2>/dev/null | grep -q libopenblas; then
  echo "warning: libopenblas0-pthread not found; training will be much slower" >&2
fi
WORK=${SPLITEE_WORK:-models/.work}
OUT=${SPLITEE_MODEL_OUT:-models/sentiment}
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
"$PY" models/pipeline/train.py --work "$WORK" --epochs 1 --ffn 256 --lr 1.5e-3 "$@"
"$PY" models/pipeline/export.py --ckpt "$WORK/final.pt" --vocab "$WORK/vocab.txt" --out "$OUT" \
  --id sentiment-en --labels negative,positive --report "$WORK/train_report.json"
echo "exported to $OUT; per-exit outputs: deno task exits --model $OUT --input <file.tsv> --text <col> --out <file.jsonl>"
