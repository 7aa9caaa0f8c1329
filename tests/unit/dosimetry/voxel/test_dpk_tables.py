"""Integrity of the packaged dose-point-kernel tables (prrt.dosimetry.voxel.dpk_tables)."""

from __future__ import annotations

import numpy as np
import pytest

from prrt.dosimetry.voxel.dpk_tables import (
    EMISSION_CLASSES,
    dose_point_kernel,
    kernel_manifest,
    kernel_nuclide,
    supported_kernel_nuclides,
)
from prrt.errors import InvalidInputError

# ICRP-107 energy per decay by class (dosimetry-reference.md §1.2 and §3.6.3), MeV:
# 177Lu beta 0.13327, CE 0.01352 + Auger 0.00113, photons 0.03510 (γ 0.03156 + X 0.00354);
# 90Y beta 0.93290, CE 0.00020.
EMITTED = {
    ("Lu-177", "beta"): (0.13327, 1e-4),
    ("Lu-177", "electron"): (0.01352 + 0.00113, 1e-3),
    ("Lu-177", "photon"): (0.03510, 1e-3),
    ("Y-90", "beta"): (0.93290, 1e-4),
    ("Y-90", "electron"): (0.00020, 0.01),
}


@pytest.mark.parametrize(("key", "expected"), sorted(EMITTED.items()))
def test_emitted_energy_per_class_is_icrp107(
    key: tuple[str, str], expected: tuple[float, float]
) -> None:
    dpk = dose_point_kernel(nuclide=key[0], emission_class=key[1])
    value, rel = expected
    assert dpk.emitted_energy_mev == pytest.approx(value, rel=rel)


@pytest.mark.parametrize("nuclide", ["Lu-177", "Y-90"])
@pytest.mark.parametrize("emission_class", EMISSION_CLASSES)
def test_energy_bookkeeping_closes(nuclide: str, emission_class: str) -> None:
    # Emitted = in the table + beyond it + bremsstrahlung (electrons) or escaped +
    # untransported lines (photons); the table agrees with the manifest.
    dpk = dose_point_kernel(nuclide=nuclide, emission_class=emission_class)
    entry = kernel_manifest()["tables"][f"{nuclide}/{emission_class}"]
    in_table = float(dpk.energy_mev.sum())
    assert in_table == pytest.approx(entry["deposited_in_table_mev_per_decay"], rel=1e-5)
    lost = sum(
        float(entry.get(k, 0.0))
        for k in (
            "beyond_table_mev_per_decay",
            "bremsstrahlung_mev_per_decay",
            "escaped_mev_per_decay",
            "photon_lines_not_transported_mev_per_decay",
        )
    )
    emitted_all = float(entry["emitted_energy_mev_per_decay"]) + float(
        entry.get("photon_lines_not_transported_mev_per_decay", 0.0)
    )
    assert in_table + lost == pytest.approx(emitted_all, rel=1e-4)


def test_shells_are_contiguous_and_non_negative() -> None:
    for nuclide in supported_kernel_nuclides():
        for emission_class in EMISSION_CLASSES:
            dpk = dose_point_kernel(nuclide=nuclide, emission_class=emission_class)
            assert dpk.r_inner_mm[0] == 0.0
            np.testing.assert_allclose(dpk.r_inner_mm[1:], dpk.r_outer_mm[:-1], atol=1e-9)
            assert np.all(dpk.r_outer_mm > dpk.r_inner_mm)
            assert np.all(dpk.energy_mev >= 0.0)


def test_bremsstrahlung_loss_is_small() -> None:
    # Radiative yield of the 90Y betas in water is a few tenths of a per cent (§3.6.2: the
    # Graves file holds 99.6 % of the emitted energy within 11 mm).
    entry = kernel_manifest()["tables"]["Y-90/beta"]
    fraction = entry["bremsstrahlung_mev_per_decay"] / entry["emitted_energy_mev_per_decay"]
    assert 0.002 < fraction < 0.006


def test_unknown_nuclide_and_class_are_refused() -> None:
    with pytest.raises(InvalidInputError) as info:
        kernel_nuclide("I-131")
    assert info.value.field == "nuclide"
    with pytest.raises(InvalidInputError) as info:
        dose_point_kernel(nuclide="Lu-177", emission_class="alpha")
    assert info.value.field == "emission_class"
    with pytest.raises(InvalidInputError) as info:
        dose_point_kernel(nuclide="Lu-177", emission_class="beta").radius_containing_mm(1.5)
    assert info.value.field == "fraction"
