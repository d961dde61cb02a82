#!/usr/bin/env bash
# Writes a BERT-base-shaped checkpoint with RANDOM weights (timing only: random weights, not a classifier) and imports
# it: 12 layers, hidden 768, 12 heads, FFN 3072, vocab 30,522, max length 512, 2 labels.
#   bash models/pipeline/bert_base_timing.sh [work dir [import flags...]]   (default models/.work-bert-base,
#   git-ignored; e.g. `bash models/pipeline/bert_base_timing.sh models/.work-bert-base-int8 --embed-dtype int8`)
# -> <work>/checkpoint (Hugging Face layout, model.safetensors) and <work>/model (the served model folder).
# The vocabulary is $BERT_VOCAB when that file exists (it must have 30,522 lines), else a synthetic one.
set -euo pipefail
cd "$(dirname "$0")/../.."
WORK=${1:-models/.work-bert-base}
shift || true
PY=${PYTHON:-/usr/bin/python3}
VOCAB_ARGS=()
if [ -n "${BERT_VOCAB:-}" ] && [ -f "$BERT_VOCAB" ]; then VOCAB_ARGS=(--vocab "$BERT_VOCAB"); fi
"$PY" models/pipeline/random_bert.py --out "$WORK/checkpoint" "${VOCAB_ARGS[@]}"
bash models/pipeline/import.sh --from "$WORK/checkpoint" --out "$WORK/model" --id bert-base-random-timing \
  --untrained-exits --overwrite --description "timing only: random weights, not a classifier" "$@"
