#!/usr/bin/env bash
# Create .venv (if needed), install prrt with its test and dev tools, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
[ -x .venv/bin/python ] || "$PY" -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[dev]'
# Optional: PyTorch (CPU build on machines without a GPU) exercises the accelerated
# code path against the NumPy path; tests that need it are skipped when it is absent.
if [ "${PRRT_WITH_TORCH:-0}" = "1" ] && ! .venv/bin/python -c "import torch" 2>/dev/null; then
  .venv/bin/python -m pip install -q torch==2.13.0 2>/dev/null \
    || echo "note: torch not installed; GPU-backend tests will be skipped"
fi
exec .venv/bin/python -m pytest "$@"
