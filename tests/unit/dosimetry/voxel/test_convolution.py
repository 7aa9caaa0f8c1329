"""Tests of prrt.dosimetry.voxel.convolution (MIRD Pamphlet 17 convolution by FFT)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal

from prrt.dosimetry.voxel.convolution import check_kernel, clear_kernel_cache, convolve_kernel
from prrt.errors import InvalidInputError


def _gaussian_kernel(half_width: int = 3, sigma: float = 1.2) -> np.ndarray:
    z = np.arange(-half_width, half_width + 1, dtype=np.float64)
    r2 = z[:, None, None] ** 2 + z[None, :, None] ** 2 + z[None, None, :] ** 2
    kernel = np.exp(-r2 / (2 * sigma**2))
    return kernel / kernel.sum() * 1e-12


def test_point_source_reproduces_kernel_analytic() -> None:
    """A unit TIA in one voxel gives exactly the kernel around it (definition of S(v-u))."""
    kernel = _gaussian_kernel()
    kernel[3, 3, 4] *= 3.0  # break the symmetry so orientation errors would show
    tia = np.zeros((15, 16, 17))
    tia[7, 8, 6] = 1.0
    dose = convolve_kernel(tia, kernel, device="cpu", precision="float64")
    np.testing.assert_allclose(dose[4:11, 5:12, 3:10], kernel, rtol=1e-9, atol=1e-24)
    assert dose.sum() == pytest.approx(kernel.sum(), rel=1e-9)


@pytest.mark.parametrize("crop", [True, False])
@pytest.mark.parametrize("precision", ["float32", "float64"])
def test_equals_scipy_fftconvolve_float64(crop: bool, precision: str) -> None:
    """Same result as scipy.signal.fftconvolve(mode='same') in float64 within 1e-5 of the maximum."""
    rng = np.random.default_rng(7)
    tia = np.zeros((20, 24, 22))
    tia[3:15, 5:20, 4:9] = rng.random((12, 15, 5)) * 1e6
    kernel = _gaussian_kernel(4, 1.7)
    reference = signal.fftconvolve(tia, kernel, mode="same")
    dose = convolve_kernel(tia, kernel, device="cpu", precision=precision, crop_to_support=crop)  # type: ignore[arg-type]
    assert np.max(np.abs(dose - reference)) / reference.max() < 1e-5


def test_no_wrap_around_at_edges() -> None:
    """Zero padding: a source at one face deposits nothing on the opposite face."""
    kernel = np.ones((5, 5, 5))
    tia = np.zeros((8, 8, 8))
    tia[0, 4, 4] = 1.0
    dose = convolve_kernel(tia, kernel, device="cpu", precision="float64")
    assert dose[-1].max() == 0.0
    assert dose[:3, 2:7, 2:7].sum() == pytest.approx(3 * 25)


def test_dose_is_linear_in_activity() -> None:
    """D(a·A1 + A2) = a·D(A1) + D(A2) (the convolution is linear)."""
    rng = np.random.default_rng(3)
    a1, a2 = rng.random((2, 9, 9, 9))
    kernel = _gaussian_kernel(2, 1.0)
    lhs = convolve_kernel(2.5 * a1 + a2, kernel, device="cpu", precision="float64")
    rhs = 2.5 * convolve_kernel(a1, kernel, device="cpu", precision="float64") + convolve_kernel(
        a2, kernel, device="cpu", precision="float64"
    )
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-24)


def test_cached_kernel_transform_gives_same_result() -> None:
    """A second call (cached kernel FFT) equals the first; clearing the cache changes nothing."""
    kernel = _gaussian_kernel()
    tia = np.zeros((10, 10, 10))
    tia[5, 5, 5] = 2.0
    first = convolve_kernel(tia, kernel, device="cpu")
    second = convolve_kernel(tia, kernel, device="cpu")
    clear_kernel_cache()
    third = convolve_kernel(tia, kernel, device="cpu")
    assert np.array_equal(first, second)
    assert np.array_equal(first, third)
    assert first[5, 5, 5] == pytest.approx(2.0 * kernel[3, 3, 3], rel=1e-6)


def test_all_zero_activity_gives_zero_dose() -> None:
    """No activity, no dose."""
    dose = convolve_kernel(np.zeros((4, 4, 4)), _gaussian_kernel(1), device="cpu")
    assert dose.shape == (4, 4, 4)
    assert not dose.any()


def test_non_negative_dose_from_non_negative_input() -> None:
    """FFT round-off never produces negative doses (the Volume would refuse them)."""
    tia = np.zeros((12, 12, 12))
    tia[6, 6, 6] = 1e9
    dose = convolve_kernel(tia, _gaussian_kernel(2, 0.6), device="cpu")
    assert dose.min() >= 0.0


@pytest.mark.parametrize(
    ("kernel", "message"),
    [
        (np.ones((2, 3, 3)), "odd number of voxels"),
        (np.ones((3, 3)), "odd number of voxels"),
        (-np.ones((3, 3, 3)), "non-negative"),
        (np.zeros((3, 3, 3)), "non-negative"),
        (np.full((3, 3, 3), np.nan), "finite"),
    ],
)
def test_bad_kernel_is_refused(kernel: np.ndarray, message: str) -> None:
    """Even-sized, 2-D, negative, all-zero or NaN kernels are refused, naming the kernel."""
    with pytest.raises(InvalidInputError, match=rf"kernel: .*{message}"):
        check_kernel(kernel)


def test_nan_activity_is_refused() -> None:
    """NaN in the TIA map is an error naming the map."""
    tia = np.zeros((4, 4, 4))
    tia[1, 1, 1] = np.nan
    with pytest.raises(InvalidInputError, match="tia: got 'NaN or infinite values'"):
        convolve_kernel(tia, np.ones((3, 3, 3)), device="cpu")


def test_two_dimensional_activity_is_refused() -> None:
    """A 2-D map is not a volume."""
    with pytest.raises(InvalidInputError, match="tia: got 'shape"):
        convolve_kernel(np.ones((4, 4)), np.ones((3, 3, 3)), device="cpu")


def test_unknown_precision_is_refused() -> None:
    """Only float32 and float64 FFTs exist."""
    with pytest.raises(InvalidInputError, match="precision"):
        convolve_kernel(np.ones((4, 4, 4)), np.ones((3, 3, 3)), device="cpu", precision="half")  # type: ignore[arg-type]


def test_kernel_changed_in_place_is_not_served_from_cache() -> None:
    """A writeable kernel edited between calls gives the new result (cache keyed by content)."""
    kernel = np.zeros((3, 3, 3))
    kernel[1, 1, 1] = 1.0
    tia = np.zeros((5, 5, 5))
    tia[2, 2, 2] = 1.0
    first = convolve_kernel(tia, kernel, device="cpu")
    kernel[1, 1, 1] = 3.0
    second = convolve_kernel(tia, kernel, device="cpu")
    assert first[2, 2, 2] == pytest.approx(1.0, rel=1e-6)
    assert second[2, 2, 2] == pytest.approx(3.0, rel=1e-6)


def test_read_only_kernel_is_validated_once_and_reused() -> None:
    """A read-only kernel (as VoxelKernel arrays) gives identical results on repeated calls."""
    kernel = _gaussian_kernel(2, 0.8)
    kernel.flags.writeable = False
    tia = np.zeros((9, 9, 9))
    tia[4, 4, 4] = 1.0
    first = convolve_kernel(tia, kernel, device="cpu", precision="float64")
    second = convolve_kernel(tia, kernel, device="cpu", precision="float64")
    np.testing.assert_array_equal(first, second)
    np.testing.assert_allclose(first[2:7, 2:7, 2:7], kernel, rtol=1e-9, atol=1e-24)
