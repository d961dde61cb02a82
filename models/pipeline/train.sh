#!/usr/bin/env bash
# deno task train [sentiment|paraphrase|entailment] [train.py flags]: checks the Python prerequisites, then trains and
# exports one model (seeded, resumable from <work>/ckpt.pt). Default task: sentiment (the default model).
#   sentiment   SST-2 + IMDb train               -> models/sentiment   (work: models/.work)
#   paraphrase  QQP GLUE-train sample             -> models/paraphrase  (work: models/.work-paraphrase)
#   entailment  MNLI dev (non-gold) + RTE train   -> models/entailment  (work: models/.work-entailment)
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
TASK=sentiment
case "${1:-}" in sentiment|paraphrase|entailment) TASK=$1; shift ;; esac
case "$TASK" in
  sentiment)
    WORK=${SPLITEE_WORK:-models/.work}; OUT=${SPLITEE_MODEL_OUT:-models/sentiment}
    ID=sentiment-en; LABELS=negative,positive; KIND=single
    FLAGS=(--epochs 1 --ffn 256 --lr 1.5e-3) ;;
  paraphrase)
    WORK=${SPLITEE_WORK:-models/.work-paraphrase}; OUT=${SPLITEE_MODEL_OUT:-models/paraphrase}
    ID=paraphrase-en; LABELS=not_duplicate,duplicate; KIND=pair
    FLAGS=(--sources qqp --max-length 128 --ffn 256 --lr 1.5e-3 --min-count 2 --epochs 6 --threads 1) ;;
  entailment)
    WORK=${SPLITEE_WORK:-models/.work-entailment}; OUT=${SPLITEE_MODEL_OUT:-models/entailment}
    ID=entailment-en; LABELS=entailment,neutral,contradiction; KIND=pair
    FLAGS=(--sources mnli,rte --max-length 128 --ffn 256 --lr 1.5e-3 --min-count 3 --epochs 5 --threads 1 \
           --dropout 0.3 --weight-decay 0.1 --exit-weights linear) ;;
esac
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
"$PY" models/pipeline/train.py --task "$TASK" --work "$WORK" "${FLAGS[@]}" "$@"
"$PY" models/pipeline/export.py --ckpt "$WORK/final.pt" --vocab "$WORK/vocab.txt" --out "$OUT" \
  --id "$ID" --labels "$LABELS" --task "$KIND" --report "$WORK/train_report.json"
echo "exported to $OUT; per-exit outputs: deno task exits --model $OUT --input <file.tsv> --text <col> --out <file.jsonl>"
