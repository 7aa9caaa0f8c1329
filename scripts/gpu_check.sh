#!/usr/bin/env bash
# GPU check of voxel dosimetry (run on a machine with an NVIDIA GPU and PyTorch):
#   1. the GPU-parametrised tests (torch/CUDA path == NumPy path within float32 tolerance;
#      synthetic-patient validation on CUDA), then the voxel unit, validation and CLI tests;
#   2. benchmarks/voxel_dosimetry.py (CUDA selected automatically), 128^3 and 256^3.
# Results go to "$OUT" when it is set (else ./gpu_check_out). Set QUICK=1 for a short benchmark.
set -uo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-}"
if [ -z "$PY" ]; then
  if [ -x .venv/bin/python ]; then PY=.venv/bin/python; else PY=python3; fi
fi
DEST="${OUT:-gpu_check_out}"
mkdir -p "$DEST"
status=0
{
  echo "== environment =="
  date -u
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  "$PY" -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available(), torch.version.cuda)"
} 2>&1 | tee "$DEST/environment.txt"

echo "== GPU tests ==" | tee "$DEST/tests.txt"
"$PY" -m pytest -q -p no:cacheprovider -m gpu \
  tests/unit/dosimetry/voxel tests/validation/test_voxel_pipeline.py 2>&1 | tee -a "$DEST/tests.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
echo "== voxel tests (all, device auto) ==" | tee -a "$DEST/tests.txt"
PRRT_DEVICE=auto "$PY" -m pytest -q -p no:cacheprovider \
  tests/unit/dosimetry/voxel tests/validation/test_voxel_pipeline.py tests/cli/test_dosimetry_voxel_cli.py \
  2>&1 | tee -a "$DEST/tests.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1

echo "== benchmark ==" | tee "$DEST/benchmark.txt"
"$PY" benchmarks/voxel_dosimetry.py ${QUICK:+--quick} 2>&1 | tee -a "$DEST/benchmark.txt"
[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
tail -n 1 "$DEST/benchmark.txt" > "$DEST/benchmark.json"
echo "gpu_check exit status: $status" | tee -a "$DEST/benchmark.txt"
exit "$status"
