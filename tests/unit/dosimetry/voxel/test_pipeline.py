"""Tests of prrt.dosimetry.voxel.pipeline: Volume-level TIA and dose, provenance, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from prrt.dosimetry.voxel.kernels import voxel_kernel
from prrt.dosimetry.voxel.pipeline import (
    DoseMethod,
    TiaApproach,
    compute_voxel_dose,
    compute_voxel_tia,
    voxel_dosimetry,
)
from prrt.errors import GeometryMismatchError, InvalidInputError
from prrt.imaging.volume import Volume, VoxelQuantity
from prrt.physics import get_nuclide
from prrt.units import J_PER_MEV

INJECTION = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
TIMES_H = (4.0, 24.0, 96.0, 168.0)
SPACING_MM = (4.42, 4.42, 4.42)
LAMBDA_PHYS = get_nuclide("Lu-177").decay_constant_per_s
LAMBDA_EFF = LAMBDA_PHYS + np.log(2) / (60.0 * 3600)  # biological half-life 60 h


def _maps(
    shape: tuple[int, int, int] = (12, 12, 12),
) -> tuple[list[Volume], dict[str, Volume], float]:
    """A cube of uniform mono-exponential activity in the middle of the grid."""
    organ = np.zeros(shape, bool)
    organ[4:8, 4:8, 4:8] = True
    a0_bq = 1e6
    maps = [
        Volume.from_spacing(
            np.where(organ, a0_bq * np.exp(-LAMBDA_EFF * h * 3600), 0.0),
            spacing_mm=SPACING_MM,
            quantity=VoxelQuantity.ACTIVITY_BQ,
            acquisition_time=INJECTION + timedelta(hours=h),
        )
        for h in TIMES_H
    ]
    masks = {
        "organ": Volume.from_spacing(organ, spacing_mm=SPACING_MM, quantity=VoxelQuantity.MASK)
    }
    return maps, masks, a0_bq / LAMBDA_EFF


@pytest.mark.parametrize("approach", ["fit", "hybrid"])
def test_mono_exponential_organ_tia(approach: str) -> None:
    """Each organ voxel integrates to A0/λ (analytic, §4.1) with both approaches; provenance recorded."""
    maps, masks, tia_voxel = _maps()
    result = compute_voxel_tia(
        maps,
        injection_time=INJECTION,
        nuclide="Lu-177",
        masks=masks,
        approach=approach,
        device="cpu",
    )
    assert result.approach is TiaApproach(approach)
    assert result.tia.quantity is VoxelQuantity.TIA_BQ_S
    assert result.region_tia_bq_s["organ"] == pytest.approx(64 * tia_voxel, rel=2e-3)
    assert result.tia.array[5, 5, 5] == pytest.approx(tia_voxel, rel=2e-3)
    assert result.tia.history.steps[-1].name == "voxel_tia"
    assert result.times_s == pytest.approx(tuple(h * 3600 for h in TIMES_H))


def test_maps_in_any_order_are_sorted_by_time() -> None:
    """The series is ordered by acquisition time, whatever the input order."""
    maps, _, tia_voxel = _maps()
    result = compute_voxel_tia(maps[::-1], injection_time=INJECTION, nuclide="Lu-177", device="cpu")
    assert result.tia.array[5, 5, 5] == pytest.approx(tia_voxel, rel=2e-3)


def test_led_dose_energy_balance() -> None:
    """LED: Σ D·m equals Δ_e·ΣÃ (energy conservation), Δ_e = ICRP-107 Lu-177 electron energy."""
    maps, masks, _ = _maps()
    result = voxel_dosimetry(
        maps,
        injection_time=INJECTION,
        nuclide="Lu-177",
        masks=masks,
        dose_method="led",
        device="cpu",
    )
    mass_kg = 1.04 * maps[0].voxel_volume_ml * 1e-3
    deposited_j = float(result.dose.array.sum()) * mass_kg
    delta_j = get_nuclide("Lu-177").chain_emissions.non_penetrating_mev * J_PER_MEV
    assert deposited_j == pytest.approx(delta_j * float(result.tia.array.sum()), rel=1e-9)
    assert result.dose_method is DoseMethod.LED
    assert result.kernel is None


def test_convolution_dose_summary_and_history() -> None:
    """Convolution with the kernel helper: kernel provenance, VOI stats and history in the result."""
    maps, masks, _ = _maps()
    result = voxel_dosimetry(
        maps, injection_time=INJECTION, nuclide="Lu-177", masks=masks, device="cpu"
    )
    organ = result.region("organ")
    assert organ.n_voxels == 64
    assert organ.min_gy <= organ.d98_gy <= organ.d50_gy <= organ.d2_gy <= organ.max_gy
    summary = result.summary()
    assert summary["kernel"]["nuclide"] == "Lu-177"
    assert summary["regions"][0]["name"] == "organ"
    assert summary["tia_method"] == "fit"
    dvh = summary["dvh"]["organ"]
    assert dvh["volume_fraction"][0] == 1.0
    assert dvh["dose_gy"][-1] == pytest.approx(organ.max_gy)
    assert [s.name for s in result.dose.history.steps][-2:] == [
        "voxel_tia",
        "voxel_dose_convolution",
    ]
    # Organ mean dose ≈ Ã·Σ S inside a 4-voxel cube: between the self-voxel and the full kernel sum.
    kernel = voxel_kernel(nuclide="Lu-177", spacing_mm=SPACING_MM)
    tia_voxel = float(result.tia.array[5, 5, 5])
    assert (
        tia_voxel * kernel.centre_gy_per_bq_s
        < organ.mean_gy
        < tia_voxel * kernel.kernel_sum_gy_per_bq_s
    )
    with pytest.raises(InvalidInputError, match="region: got 'spleen'"):
        result.region("spleen")


def test_density_correction_in_air_stays_finite() -> None:
    """With a density map containing air, doses are finite and 0 in air; a warning is recorded."""
    maps, masks, _ = _maps()
    density = np.full(maps[0].shape, 1.04)
    density[:, :, 6:] = 0.0012
    density_volume = Volume.from_spacing(
        density, spacing_mm=SPACING_MM, quantity=VoxelQuantity.DENSITY_G_PER_ML
    )
    result = voxel_dosimetry(
        maps,
        injection_time=INJECTION,
        nuclide="Lu-177",
        masks=masks,
        density=density_volume,
        device="cpu",
    )
    assert np.all(np.isfinite(result.dose.array))
    assert result.dose.array[:, :, 6:].max() == 0.0
    assert result.voxels_outside_tissue == 12 * 12 * 6
    assert result.density_corrected
    assert "below 0.1 g/mL" in result.warnings[0]


def test_mismatched_grids_are_refused() -> None:
    """A map on another grid names the map that differs."""
    maps, _, _ = _maps()
    other = Volume.from_spacing(
        np.ones((12, 12, 12)),
        spacing_mm=(4.0, 4.0, 4.0),
        quantity=VoxelQuantity.ACTIVITY_BQ,
        acquisition_time=INJECTION + timedelta(hours=200),
    )
    with pytest.raises(GeometryMismatchError, match=r"activity_maps\[4\]"):
        compute_voxel_tia([*maps, other], injection_time=INJECTION, nuclide="Lu-177")


def test_missing_time_stamp_is_refused() -> None:
    """A map without acquisition time is refused, naming it."""
    maps, _, _ = _maps()
    undated = Volume.from_spacing(
        maps[1].array, spacing_mm=SPACING_MM, quantity=VoxelQuantity.ACTIVITY_BQ
    )
    with pytest.raises(InvalidInputError, match=r"activity_maps\[1\]\.acquisition_time: got None"):
        compute_voxel_tia([maps[0], undated, *maps[2:]], injection_time=INJECTION, nuclide="Lu-177")


def test_mask_outside_the_image_is_refused() -> None:
    """A mask on a shifted grid (partly outside the image) is a geometry mismatch naming the mask."""
    maps, _, _ = _maps()
    shifted = Volume.from_spacing(
        np.ones((12, 12, 12), bool),
        spacing_mm=SPACING_MM,
        origin_mm=(50.0, 0.0, 0.0),
        quantity=VoxelQuantity.MASK,
    )
    with pytest.raises(GeometryMismatchError, match=r"masks\[liver\]"):
        compute_voxel_tia(
            maps, injection_time=INJECTION, nuclide="Lu-177", masks={"liver": shifted}
        )


def test_empty_voi_is_refused() -> None:
    """An empty mask is refused, naming the VOI."""
    maps, _, _ = _maps()
    empty = Volume.from_spacing(
        np.zeros((12, 12, 12), bool), spacing_mm=SPACING_MM, quantity=VoxelQuantity.MASK
    )
    with pytest.raises(InvalidInputError, match=r"masks\[tumour_1\]: got 'an empty VOI"):
        compute_voxel_tia(
            maps, injection_time=INJECTION, nuclide="Lu-177", masks={"tumour_1": empty}
        )


def test_nan_in_image_is_refused() -> None:
    """NaN in an activity map cannot even become a Volume: the error names the array and index."""
    values = np.ones((4, 4, 4))
    values[1, 2, 3] = np.nan
    with pytest.raises(InvalidInputError, match=r"array: got '1 non-finite voxel\(s\)"):
        Volume.from_spacing(values, spacing_mm=SPACING_MM, quantity=VoxelQuantity.ACTIVITY_BQ)


def test_counts_instead_of_activity_is_refused() -> None:
    """Uncalibrated counts are refused with a hint to calibrate."""
    maps, _, _ = _maps()
    counts = Volume.from_spacing(
        maps[0].array,
        spacing_mm=SPACING_MM,
        quantity=VoxelQuantity.COUNTS,
        acquisition_time=maps[0].acquisition_time,
    )
    with pytest.raises(InvalidInputError, match=r"activity_maps\[0\]: got 'counts'"):
        compute_voxel_tia([counts, *maps[1:]], injection_time=INJECTION, nuclide="Lu-177")


def test_other_bad_inputs() -> None:
    """Naive injection time, a map before the injection, hybrid without masks, unknown options."""
    maps, _, _ = _maps()
    with pytest.raises(InvalidInputError, match="injection_time"):
        compute_voxel_tia(maps, injection_time=datetime(2025, 3, 1, 9), nuclide="Lu-177")
    with pytest.raises(InvalidInputError, match="acquisitions after the injection"):
        compute_voxel_tia(maps, injection_time=INJECTION + timedelta(hours=10), nuclide="Lu-177")
    with pytest.raises(InvalidInputError, match="masks: got None"):
        compute_voxel_tia(maps, injection_time=INJECTION, nuclide="Lu-177", approach="hybrid")
    with pytest.raises(InvalidInputError, match="approach: got 'magic'"):
        compute_voxel_tia(maps, injection_time=INJECTION, nuclide="Lu-177", approach="magic")
    with pytest.raises(InvalidInputError, match="activity_maps: got '1 map"):
        compute_voxel_tia(maps[:1], injection_time=INJECTION, nuclide="Lu-177")
    tia = compute_voxel_tia(maps, injection_time=INJECTION, nuclide="Lu-177", device="cpu")
    with pytest.raises(InvalidInputError, match="dose_method: got 'mc'"):
        compute_voxel_dose(tia, nuclide="Lu-177", dose_method="mc")
    with pytest.raises(InvalidInputError, match="tia: got 'activity_bq'"):
        compute_voxel_dose(maps[0], nuclide="Lu-177")


def test_kernel_of_another_voxel_size_is_refused() -> None:
    """§3.1: the kernel voxel size must equal the image voxel size."""
    maps, masks, _ = _maps()
    tia = compute_voxel_tia(maps, injection_time=INJECTION, nuclide="Lu-177", device="cpu")
    kernel = voxel_kernel(nuclide="Lu-177", spacing_mm=2.21)
    with pytest.raises(GeometryMismatchError, match=r"kernel\.spacing_mm"):
        compute_voxel_dose(tia, nuclide="Lu-177", masks=masks, kernel=kernel)


def test_hybrid_with_kinetics_fit_best() -> None:
    """region_fit='fit_best': prrt.kinetics selects the mono-exponential; TIA = A0/λ per voxel."""
    maps, masks, tia_voxel = _maps()
    result = compute_voxel_tia(
        maps,
        injection_time=INJECTION,
        nuclide="Lu-177",
        masks=masks,
        approach="hybrid",
        region_fit="fit_best",
        device="cpu",
    )
    assert result.region_methods["organ"].startswith("fit_best:mono")
    assert result.region_tia_bq_s["organ"] == pytest.approx(64 * tia_voxel, rel=1e-3)
    assert result.method_counts[result.region_methods["organ"]] == 64
    with pytest.raises(InvalidInputError, match="region_fit: got 'spline'"):
        compute_voxel_tia(
            maps, injection_time=INJECTION, nuclide="Lu-177", masks=masks, region_fit="spline"
        )


def _zero_start_area(activity_bq: list[float], times_s: list[float]) -> float:
    t = [0.0, *times_s]
    a = [0.0, *activity_bq]
    return sum(0.5 * (a[i] + a[i + 1]) * (t[i + 1] - t[i]) for i in range(len(times_s)))


@pytest.mark.parametrize("approach", ["fit", "hybrid"])
def test_extrapolated_share_after_an_early_last_time_point_is_warned(approach: str) -> None:
    """Only 4 h and 24 h: the TIA A0/λ (analytic) mostly lies after 24 h; warning names the organ."""
    maps, masks, tia_voxel = _maps()
    early = maps[:2]
    result = compute_voxel_tia(
        early, injection_time=INJECTION, nuclide="Lu-177", masks=masks, approach=approach
    )
    n = int(masks["organ"].array.sum())
    times_s = [h * 3600 for h in TIMES_H[:2]]
    measured = _zero_start_area([n * 1e6 * np.exp(-LAMBDA_EFF * t) for t in times_s], times_s)
    expected = 1 - measured / (n * tia_voxel)  # 0.71 (true share after 24 h: e^-λ·24h = 0.68)
    assert result.region_extrapolated_fraction["organ"] == pytest.approx(expected, rel=1e-3)
    assert expected == pytest.approx(0.71, abs=0.01)
    notes = [w for w in result.warnings if "after the last time point" in w]
    assert notes == [
        f"{100 * expected:.0f} % of the TIA of organ lies after the last time point (24 h), "
        "outside the measured interval, and is extrapolated by the fit; consider a later time point"
    ]


def test_extrapolated_share_with_a_late_last_time_point_is_not_warned() -> None:
    """Up to 168 h the share after the last point is e^-λ·168h ≈ 7 % (analytic): no warning."""
    maps, masks, tia_voxel = _maps()
    result = compute_voxel_tia(maps, injection_time=INJECTION, nuclide="Lu-177", masks=masks)
    times_s = [h * 3600 for h in TIMES_H]
    measured = _zero_start_area([1e6 * np.exp(-LAMBDA_EFF * t) for t in times_s], times_s)
    share = result.region_extrapolated_fraction["organ"]
    assert share == pytest.approx(1 - measured / tia_voxel, rel=1e-3)
    assert share < 0.1
    assert not any("after the last time point" in w for w in result.warnings)
    # the organ's 64 voxels: 4 points → bi-exponential (or mono); empty voxels are no fit
    assert result.most_used_method in {"mono", "biexp"}
    counts = {k: v for k, v in result.method_counts.items() if k not in ("zero", "outside")}
    assert counts[result.most_used_method] == max(counts.values()) > 0
