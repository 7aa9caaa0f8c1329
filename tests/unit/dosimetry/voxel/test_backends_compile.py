"""Tests of the torch.compile switch of the voxel fits and of its eager fallback.

The compiled path is the default on CUDA for large inputs; here it is forced on
the CPU (``PRRT_TORCH_COMPILE=1``) and compared with the eager torch path and
with NumPy, which run the same arithmetic.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import pytest

from prrt.dosimetry.voxel import _array_ops
from prrt.dosimetry.voxel.backends import COMPILE_ENV_VAR, torch_compile_min_curves
from prrt.dosimetry.voxel.tia import TiaMethod, fit_tia_curves
from prrt.errors import InvalidInputError

# Lu-177 half-life 6.647 d (ICRP-107, dosimetry-reference §1.2).
LAMBDA_LU177_PER_S = np.log(2) / (6.647 * 86400)
TIMES_S = np.array([4.0, 24.0, 96.0, 168.0]) * 3600.0


def _biexponential_curves(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Exact bi-exponential TACs (uptake and clearance) and their integrals A1/λ1 + A2/λ2."""
    rng = np.random.default_rng(seed)
    lam_s = LAMBDA_LU177_PER_S + rng.uniform(0.05, 0.5, n) / 86400.0
    lam_f = lam_s + rng.uniform(0.1, 0.4, n) / 3600.0
    a_s = rng.uniform(1e3, 1e5, n)
    a_f = a_s * rng.uniform(-0.9, 0.9, n)
    curves = a_f * np.exp(-lam_f * TIMES_S[:, None]) + a_s * np.exp(-lam_s * TIMES_S[:, None])
    return curves.astype(np.float32), a_f / lam_f + a_s / lam_s


@pytest.mark.parametrize(
    ("value", "device_type", "expected"),
    [("0", "cuda", None), ("1", "cpu", 1), ("off", "cuda", None), ("auto", "cpu", None)],
)
def test_compile_switch_is_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, value: str, device_type: str, expected: int | None
) -> None:
    """PRRT_TORCH_COMPILE=0 never compiles, 1 always; auto never compiles on the CPU."""
    monkeypatch.setenv(COMPILE_ENV_VAR, value)
    assert torch_compile_min_curves(device_type) == expected


def test_unknown_compile_switch_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """A value outside 0/1/auto is an input error naming the variable."""
    monkeypatch.setenv(COMPILE_ENV_VAR, "maybe")
    with pytest.raises(InvalidInputError, match="PRRT_TORCH_COMPILE: got 'maybe'"):
        torch_compile_min_curves("cuda")


@pytest.mark.parametrize("when", ["at_call", "at_compile"])
def test_failed_compilation_falls_back_to_the_same_values(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, when: str
) -> None:
    """A compiler error (no triton, no C compiler, ...) gives the eager values and a warning."""
    torch = pytest.importorskip("torch")
    curves, _ = _biexponential_curves(300, seed=3)
    tensor = torch.from_numpy(curves)
    monkeypatch.setenv(COMPILE_ENV_VAR, "0")
    eager_tia, eager_code = fit_tia_curves(
        tensor, times_s=TIMES_S, decay_constant_per_s=LAMBDA_LU177_PER_S
    )

    def broken_compile(fn: Any, **kwargs: Any) -> Any:
        if when == "at_compile":
            raise RuntimeError("backend compiler failed: no triton")

        def run(*args: Any) -> Any:
            raise RuntimeError("backend compiler failed: no triton")

        return run

    monkeypatch.setattr(torch, "compile", broken_compile)
    monkeypatch.setattr(_array_ops, "_COMPILED", {})
    monkeypatch.setattr(_array_ops, "_COMPILE_FAILED", [])
    monkeypatch.setenv(COMPILE_ENV_VAR, "1")
    with caplog.at_level(logging.WARNING, logger=_array_ops.__name__):
        tia, code = fit_tia_curves(tensor, times_s=TIMES_S, decay_constant_per_s=LAMBDA_LU177_PER_S)
    assert torch.equal(tia, eager_tia)
    assert torch.equal(code, eager_code)
    assert _array_ops.compile_failures() == ("RuntimeError: backend compiler failed: no triton",)
    assert "running eagerly" in caplog.text


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning")  # torch's own imports while compiling
def test_compiled_fit_equals_eager_and_numpy(monkeypatch: pytest.MonkeyPatch) -> None:
    """torch.compile of the fit (forced on the CPU) gives the NumPy TIA within float32 tolerance.

    Exact bi-exponential curves: the compiled, the eager torch and the NumPy fits
    run the same arithmetic (rounding differs: 2e-4 relative as in test_backends)
    and recover A1/λ1 + A2/λ2.
    """
    torch = pytest.importorskip("torch")
    curves, truth = _biexponential_curves(2000, seed=5)
    monkeypatch.setenv(COMPILE_ENV_VAR, "1")
    tia, code = fit_tia_curves(
        torch.from_numpy(curves), times_s=TIMES_S, decay_constant_per_s=LAMBDA_LU177_PER_S
    )
    reference, reference_code = fit_tia_curves(
        curves, times_s=TIMES_S, decay_constant_per_s=LAMBDA_LU177_PER_S
    )
    tia_np = tia.double().numpy()
    np.testing.assert_allclose(tia_np, reference, rtol=2e-4)
    assert np.mean(code.numpy() == reference_code) > 0.99
    assert np.mean(code.numpy() == TiaMethod.BIEXPONENTIAL.code) > 0.9
    assert np.median(np.abs(tia_np / truth - 1.0)) < 1e-3
