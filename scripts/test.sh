#!/usr/bin/env bash
# Create .venv (if needed), install prrt with its test and dev tools and the Debian tools the
# tests drive (dcmtk's dcmdump, poppler's pdftoppm, Chromium), then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages the tests use: dcmdump parses written DICOM, pdftoppm converts the demo's PDF,
# Chromium renders the demo's HTML report (driven by Playwright; no browser download).
need=()
command -v dcmdump >/dev/null 2>&1 || need+=(dcmtk)
command -v pdftoppm >/dev/null 2>&1 || need+=(poppler-utils)
{ command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; } || need+=(chromium)
if [ "${#need[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "error: the tests need ${need[*]} (Debian/Ubuntu package names); install them and rerun" >&2
    exit 1
  fi
  SUDO=""
  if [ "$(id -u)" != "0" ]; then SUDO="sudo"; fi
  echo "== installing ${need[*]} (Debian packages) =="
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi
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
