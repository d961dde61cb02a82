#!/usr/bin/env bash
# deno task import --from <checkpoint dir> --out <model dir> [flags]: checks the Python prerequisites, then imports a
# local Hugging Face BERT / DeeBERT / ElasticBERT checkpoint as a split model (docs/import.md;
# `deno task import --help` lists every flag).
set -euo pipefail
PY=${PYTHON:-/usr/bin/python3}
# find_spec looks the packages up without importing them (importing torch costs ~1.5 s); hf_import.py reports a
# package that is present but fails to load.
if ! "$PY" -c "import importlib.util as u, sys; sys.exit(any(u.find_spec(m) is None for m in ('torch', 'onnx', 'numpy')))" 2>/dev/null; then
  cat >&2 <<'MSG'
import: needs PyTorch, ONNX and NumPy for python3; on Debian or Ubuntu:
  sudo apt-get update && sudo apt-get install -y python3-torch python3-onnx python3-numpy libopenblas0-pthread
Then run `deno task import` again.
MSG
  exit 1
fi
export OMP_NUM_THREADS=${OMP_NUM_THREADS:-2}
exec "$PY" "$(dirname "$0")/hf_import.py" "$@"
