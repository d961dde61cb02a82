#!/usr/bin/env bash
# deno task train [sentiment|paraphrase|entailment] --out <dir> [--force] [train.py flags]: checks the data folder and
# the Python prerequisites, then trains and exports one model (seeded, resumable from <work>/ckpt.pt). Default task:
# sentiment. A committed model (git-tracked manifest.json at the output folder) is replaced only with --force.
#   sentiment   SST-2 + IMDb train               -> models/sentiment   (work: models/.work)
#   paraphrase  QQP GLUE-train sample + MRPC train -> models/paraphrase (work: models/.work-paraphrase)
#   entailment  MNLI dev (gold) + MNLI train sample + SICK + SciTail + SNLI samples -> models/entailment
#               (work: models/.work-entailment)
set -euo pipefail
usage() {
  cat <<'USAGE'
Usage: deno task train [sentiment|paraphrase|entailment] --out <dir> [--force] [train.py flags]

Trains one multi-exit model on the datasets in $SPLITEE_DATA (default: ../shared/data beside the repository;
docs/data.md says where to get them) and exports it to --out (manifest, vocabulary, ONNX segments, report).
Seeded; checkpoints to models/.work*/ and resumes after an interruption.

  sentiment    SST-2 + IMDb train              (the default task; about 64 min on 2 CPU cores)
  paraphrase   QQP GLUE-train sample + MRPC train                     (about 45 min)
  entailment   MNLI dev (gold) + MNLI train sample + SICK train + the
               SciTail and SNLI train samples                         (about 45 min)
  --out DIR    where the model is exported (or $SPLITEE_MODEL_OUT); default: the committed models/<task>
  --force      replace a committed model (models/sentiment, ...) at --out; without it that is refused
  other flags  go to models/pipeline/train.py (python3 models/pipeline/train.py --help lists them)

Needs Python 3 with PyTorch and ONNX: on Debian/Ubuntu
  sudo apt-get install -y python3-torch python3-onnx libopenblas0-pthread
(or pip install torch onnx numpy). Serve the result with EDGE_MODEL_DIRS=<dir> GATEWAY_MODEL_DIRS=<dir> deno task start.
USAGE
}
fail() { echo "train: $*" >&2; exit "${CODE:-1}"; }
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
PY=${PYTHON:-/usr/bin/python3}
TASK=sentiment
case "${1:-}" in sentiment|paraphrase|entailment) TASK=$1; shift ;; esac
OUT_FLAG=""; FORCE=0; REST=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) usage; exit 0 ;;
    --force) FORCE=1 ;;
    --out) [ $# -ge 2 ] || CODE=2 fail "--out needs a folder (deno task train --help prints the usage)"
           OUT_FLAG=$2; shift ;;
    --out=*) OUT_FLAG=${1#--out=} ;;
    *) REST+=("$1") ;;
  esac
  shift
done
set -- "${REST[@]+"${REST[@]}"}"
DATA=${SPLITEE_DATA:-$(dirname "$ROOT")/shared/data}
[ -d "$DATA" ] || fail "no data folder at $DATA: set SPLITEE_DATA to the folder holding the datasets (docs/data.md says where to get each one)"
if ! "$PY" -c "import torch, onnx" 2>/dev/null; then
  fail "needs PyTorch and ONNX for $PY: sudo apt-get install -y python3-torch python3-onnx libopenblas0-pthread (or pip install torch onnx numpy), then run again"
fi
if ! ldconfig -p 2>/dev/null | grep -q libopenblas; then
  echo "warning: libopenblas0-pthread not found; training will be much slower" >&2
fi
case "$TASK" in
  sentiment)
    WORK=${SPLITEE_WORK:-models/.work}; OUT=${SPLITEE_MODEL_OUT:-models/sentiment}
    ID=sentiment-en; LABELS=negative,positive; KIND=single
    FLAGS=(--epochs 1 --ffn 256 --lr 1.5e-3) ;;
  paraphrase)
    WORK=${SPLITEE_WORK:-models/.work-paraphrase}; OUT=${SPLITEE_MODEL_OUT:-models/paraphrase}
    ID=paraphrase-en; LABELS=not_duplicate,duplicate; KIND=pair
    FLAGS=(--sources qqp,mrpc --max-length 128 --ffn 256 --lr 1.5e-3 --min-count 2 --epochs 6 --total-steps 600 \
           --threads 2 --pool first --exit-weights linear --match-feature) ;;
  entailment)
    WORK=${SPLITEE_WORK:-models/.work-entailment}; OUT=${SPLITEE_MODEL_OUT:-models/entailment}
    ID=entailment-en; LABELS=entailment,neutral,contradiction; KIND=pair
    FLAGS=(--sources mnli-gold,mnli-train,sick,scitail,snli-cad --max-length 128 --ffn 256 --lr 1.5e-3 --min-count 3 \
           --epochs 2 --threads 2 --exit-weights linear --pool first --match-feature) ;;
esac
[ -z "$OUT_FLAG" ] || OUT=$OUT_FLAG
# A committed model is replaced only when asked: checked before hours of training, not after.
if [ "$FORCE" = 0 ] && [ -f "$OUT/manifest.json" ] \
   && git -C "$ROOT" ls-files --error-unmatch -- "$(realpath --relative-to="$ROOT" "$OUT/manifest.json")" >/dev/null 2>&1; then
  CODE=2 fail "$OUT holds a committed model: pass --out <dir> to export elsewhere (e.g. --out models/my-$TASK) or --force to replace it"
fi
export SPLITEE_DATA=$DATA
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
"$PY" models/pipeline/train.py --task "$TASK" --work "$WORK" "${FLAGS[@]}" "$@"
"$PY" models/pipeline/export.py --ckpt "$WORK/final.pt" --vocab "$WORK/vocab.txt" --out "$OUT" \
  --id "$ID" --labels "$LABELS" --task "$KIND" --report "$WORK/train_report.json"
echo "exported to $OUT; serve it: EDGE_MODEL_DIRS=$OUT GATEWAY_MODEL_DIRS=$OUT deno task start;" \
  "per-exit outputs: deno task exits --model $OUT --input <file.tsv> --text <col> --out <file.jsonl>"
