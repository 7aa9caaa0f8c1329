"""Tests of prrt.dosimetry.voxel.backends and of the torch code path against NumPy.

The torch tests need PyTorch (CPU build is enough): they are the only tests
skipped when it is absent (``pytest.importorskip``).
"""

from __future__ import annotations

import numpy as np
import pytest

from prrt.dosimetry.voxel.backends import DEVICE_ENV_VAR, select_backend, torch_available
from prrt.dosimetry.voxel.convolution import convolve_kernel
from prrt.dosimetry.voxel.tia import fit_tia_curves, fit_voxel_tia
from prrt.errors import InvalidInputError

LAMBDA_LU177_PER_S = np.log(2) / (
    6.647 * 86400
)  # ICRP-107 half-life 6.647 d (dosimetry-reference §1.2)
TIMES_S = np.array([4.0, 24.0, 96.0, 168.0]) * 3600.0


def _torch_devices() -> list[object]:
    """torch on the CPU always; CUDA too where a GPU is visible (marker 'gpu')."""
    devices: list[object] = ["torch-cpu"]
    if torch_available():
        import torch

        if torch.cuda.is_available():
            devices.append(pytest.param("cuda", marks=pytest.mark.gpu))
    return devices


TORCH_DEVICES = _torch_devices()


def test_cpu_is_numpy() -> None:
    """'cpu' always means NumPy/SciPy on the CPU."""
    backend = select_backend("cpu")
    assert (backend.library, backend.device, backend.label) == ("numpy", "cpu", "numpy-cpu")
    assert not backend.uses_torch


def test_environment_variable_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """PRRT_DEVICE selects the device when no keyword is given; the keyword wins."""
    monkeypatch.setenv(DEVICE_ENV_VAR, "cpu")
    assert select_backend(None).library == "numpy"
    monkeypatch.setenv(DEVICE_ENV_VAR, "quantum")
    with pytest.raises(InvalidInputError, match="PRRT_DEVICE: got 'quantum'"):
        select_backend(None)
    assert select_backend("CPU").label == "numpy-cpu"


def test_unknown_device_is_refused() -> None:
    """A device name outside the closed list is an input error naming the field."""
    with pytest.raises(InvalidInputError, match="device: got 'tpu'"):
        select_backend("tpu")


def test_auto_picks_cuda_only_when_present() -> None:
    """auto → torch on CUDA when a GPU is visible, NumPy otherwise."""
    backend = select_backend("auto")
    cuda = False
    if torch_available():
        import torch

        cuda = bool(torch.cuda.is_available())
    assert backend.label == ("torch-cuda" if cuda else "numpy-cpu")


def test_cuda_without_gpu_is_refused_or_used() -> None:
    """Forcing 'cuda' without a GPU is a clear error; with one it is used."""
    cuda = False
    if torch_available():
        import torch

        cuda = bool(torch.cuda.is_available())
    if cuda:
        assert select_backend("cuda").label == "torch-cuda"
    else:
        with pytest.raises(InvalidInputError, match="device"):
            select_backend("cuda")


@pytest.mark.parametrize("device", TORCH_DEVICES)
def test_torch_convolution_equals_numpy_within_float32(device: str) -> None:
    """The torch FFT path equals the NumPy path within float32 tolerance (1e-5 of the maximum)."""
    pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    tia = np.zeros((18, 20, 16))
    tia[4:14, 3:17, 2:12] = rng.random((10, 14, 10)) * 1e7
    z = np.arange(-3, 4)
    kernel = np.exp(-(z[:, None, None] ** 2 + z[None, :, None] ** 2 + z[None, None, :] ** 2) / 3.0)
    reference = convolve_kernel(tia, kernel, device="cpu", precision="float64")
    torch_dose = convolve_kernel(tia, kernel, device=device)
    assert isinstance(torch_dose, np.ndarray)
    assert np.max(np.abs(torch_dose - reference)) / reference.max() < 1e-5


def test_torch_tensor_in_tensor_out() -> None:
    """A tensor input stays a tensor (on its device) and matches the array path."""
    torch = pytest.importorskip("torch")
    tia = np.zeros((9, 9, 9), dtype=np.float32)
    tia[4, 4, 4] = 5.0
    kernel = np.ones((3, 3, 3))
    out = convolve_kernel(torch.from_numpy(tia), kernel)
    assert isinstance(out, torch.Tensor)
    assert float(out[4, 4, 5]) == pytest.approx(5.0, rel=1e-6)
    assert float(out.sum()) == pytest.approx(5.0 * 27, rel=1e-6)


@pytest.mark.parametrize("device", TORCH_DEVICES)
def test_torch_voxel_tia_equals_numpy_within_float32(device: str) -> None:
    """The torch fit path gives the NumPy TIA within float32 tolerance and the same methods."""
    pytest.importorskip("torch")
    rng = np.random.default_rng(5)
    n = 400
    lam_s = LAMBDA_LU177_PER_S + rng.uniform(0.05, 0.5, n) / 86400.0
    lam_f = lam_s + rng.uniform(0.1, 0.4, n) / 3600.0
    a_s = rng.uniform(1e3, 1e5, n)
    a_f = a_s * rng.uniform(-0.9, 0.9, n)
    curves = a_f * np.exp(-lam_f * TIMES_S[:, None]) + a_s * np.exp(-lam_s * TIMES_S[:, None])
    maps = curves.reshape(4, 4, 10, 10)
    cpu = fit_voxel_tia(
        maps, times_s=TIMES_S, decay_constant_per_s=LAMBDA_LU177_PER_S, device="cpu"
    )
    tch = fit_voxel_tia(
        maps, times_s=TIMES_S, decay_constant_per_s=LAMBDA_LU177_PER_S, device=device
    )
    assert tch.backend == ("torch-cpu" if device == "torch-cpu" else "torch-cuda")
    np.testing.assert_allclose(tch.tia_bq_s, cpu.tia_bq_s, rtol=2e-4)
    assert np.mean(tch.method_map == cpu.method_map) > 0.99
    truth = a_f / lam_f + a_s / lam_s
    error = np.abs(tch.tia_bq_s.ravel() / truth - 1.0)
    # Exact bi-exponential data: the float32 fit recovers A1/λ1 + A2/λ2 (20 iterations).
    assert np.median(error) < 1e-3
    assert np.percentile(error, 95) < 1e-2


def test_torch_curve_fit_keeps_tensor() -> None:
    """fit_tia_curves on a tensor returns tensors (GPU-resident use in the benchmark)."""
    torch = pytest.importorskip("torch")
    lam = LAMBDA_LU177_PER_S + 0.3 / 86400.0
    curve = torch.tensor((1e6 * np.exp(-lam * TIMES_S))[:, None], dtype=torch.float32)
    tia, code = fit_tia_curves(
        curve, times_s=TIMES_S, decay_constant_per_s=LAMBDA_LU177_PER_S, model="mono"
    )
    assert isinstance(tia, torch.Tensor)
    assert float(tia[0]) == pytest.approx(1e6 / lam, rel=1e-5)
    assert int(code[0]) == 2


@pytest.mark.parametrize("device", TORCH_DEVICES)
def test_torch_organ_tia_on_noisy_phantom_equals_numpy(device: str) -> None:
    """Noisy, blurred synthetic patient: organ TIA sums agree within 5e-4 (torch vs NumPy).

    Per voxel, 4-point bi-exponential fits of noisy curves are ill-conditioned, so the
    iterative fits may end at different points for a few voxels (rounding differs between
    libraries); what the dose depends on — the organ totals — agrees.
    """
    pytest.importorskip("torch")
    from prrt.dosimetry.voxel.pipeline import compute_voxel_tia
    from prrt.imaging.phantoms import make_synthetic_patient

    patient = make_synthetic_patient(fwhm_mm=10.0, poisson_noise=True)
    results = {
        dev: compute_voxel_tia(
            patient.activity_maps_bq,
            injection_time=patient.injection_time,
            nuclide=patient.nuclide,
            masks=patient.masks,
            device=dev,
        )
        for dev in ("cpu", device)
    }
    for organ in ("kidneys", "liver", "spleen", "tumour_1", "tumour_2"):
        ratio = results[device].region_tia_bq_s[organ] / results["cpu"].region_tia_bq_s[organ]
        assert abs(ratio - 1.0) < 5e-4, organ
