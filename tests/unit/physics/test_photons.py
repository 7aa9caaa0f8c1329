"""Unit tests of prrt.physics.photons (photon lines, Lu-177 dose-rate constants)."""

from __future__ import annotations

from pathlib import Path

import pytest

from prrt.errors import InvalidInputError
from prrt.physics.photons import (
    dose_rate_constant,
    photon_lines,
    point_source_air_kerma_rate_gy_per_s,
)
from prrt.units import J_PER_MEV


def test_lu177_main_lines_sorted_by_yield() -> None:
    lines = photon_lines("Lu-177")
    assert [p.energy_kev for p in lines[:2]] == [208.37, 112.95]
    assert len(lines) == 5
    assert lines[0].energy_j == pytest.approx(0.20837 * J_PER_MEV, rel=1e-15)
    assert lines[0].energy_per_decay_mev == pytest.approx(0.11 * 0.20837, rel=1e-15)


def test_min_yield_filters_minor_lines() -> None:
    assert len(photon_lines("Lu-177", min_yield=0.01)) == 2


def test_pure_beta_emitter_has_no_tabulated_line() -> None:
    assert photon_lines("Y-90") == ()


def test_tabulated_lines_do_not_exceed_the_photon_energy_per_decay() -> None:
    # Energy conservation: Σ yield × E over a subset of lines ≤ photon energy per decay (ICRP-107 total).
    from prrt.physics.nuclides import get_nuclide

    for name in ("Lu-177", "In-111", "Tb-161", "Bi-213", "Tl-208", "Pb-212"):
        carried = sum(p.energy_per_decay_mev for p in photon_lines(name))
        assert carried <= get_nuclide(name).emissions.photon_mev * 1.001


def test_canonical_air_kerma_constant_converts_the_published_value() -> None:
    # 4.29 µGy·m²/(GBq·h) = 4.29e-6 Gy · 1e6 mm² / (1e9 Bq · 3600 s)
    c = dose_rate_constant("Lu-177")
    assert c.air_kerma_rate_constant_gy_mm2_per_bq_s == pytest.approx(
        4.29e-6 * 1e6 / 3.6e12, rel=1e-12
    )
    assert c.ambient_dose_equivalent_rate_constant_sv_mm2_per_bq_s == pytest.approx(
        6.29 / 3.6e12, rel=1e-12
    )
    assert c.patient_dose_rate_at_1m_sv_per_s_per_bq == pytest.approx(3.7e-6 / 3.6e12, rel=1e-12)
    low, high = c.patient_dose_rate_at_1m_interval_sv_per_s_per_bq
    assert low < c.patient_dose_rate_at_1m_sv_per_s_per_bq < high


def test_point_source_rate_follows_inverse_square_law() -> None:
    at_1m = point_source_air_kerma_rate_gy_per_s("Lu-177", activity_bq=7.4e9, distance_mm=1000.0)
    at_2m = point_source_air_kerma_rate_gy_per_s("Lu-177", activity_bq=7.4e9, distance_mm=2000.0)
    assert at_1m / at_2m == pytest.approx(4.0, rel=1e-15)
    # 4.29 µGy·m²/(GBq·h) × 7.4 GBq at 1 m = 31.746 µGy/h
    assert at_1m * 3600 * 1e6 == pytest.approx(4.29 * 7.4, rel=1e-12)


def test_bad_input_names_the_field() -> None:
    with pytest.raises(InvalidInputError, match="distance_mm"):
        point_source_air_kerma_rate_gy_per_s("Lu-177", activity_bq=1.0, distance_mm=0.0)
    with pytest.raises(InvalidInputError, match="activity_bq"):
        point_source_air_kerma_rate_gy_per_s("Lu-177", activity_bq=-1.0, distance_mm=1.0)
    with pytest.raises(InvalidInputError, match="nuclide"):
        dose_rate_constant("Y-90")
    with pytest.raises(InvalidInputError, match="min_yield"):
        photon_lines("Lu-177", min_yield=-1.0)


def test_a_configurable_ensdf_yield_table_can_replace_icrp107(tmp_path: Path) -> None:
    # dosimetry-reference.md §1.4: ENSDF (2023) 10.41 % at 208.366 keV and 6.23 % at 112.950 keV.
    from prrt.physics.photons import PhotonLineTable

    path = tmp_path / "ensdf.csv"
    path.write_text(
        "nuclide,energy_kev,yield_per_decay,use,source\n"
        "Lu-177,208.366,0.1041,main,ENSDF 2023\n"
        "Lu-177,112.950,0.0623,secondary,ENSDF 2023\n",
        encoding="utf-8",
    )
    table = PhotonLineTable.from_csv(path)
    lines = photon_lines("Lu-177", table=table)
    assert [(p.energy_kev, p.yield_per_decay) for p in lines] == [
        (208.366, 0.1041),
        (112.95, 0.0623),
    ]
    # The two conventions differ by ~6 % at 208 keV (0.110 vs 0.1041), as §1.4 states.
    assert photon_lines("Lu-177")[0].yield_per_decay / lines[
        0
    ].yield_per_decay - 1 == pytest.approx(0.057, abs=0.002)


def test_photon_table_without_source_is_refused(tmp_path: Path) -> None:
    from prrt.errors import DataSourceError
    from prrt.physics.photons import PhotonLineTable

    path = tmp_path / "nosource.csv"
    path.write_text(
        "nuclide,energy_kev,yield_per_decay,use,source\nLu-177,208.4,0.11,main,\n", encoding="utf-8"
    )
    with pytest.raises(DataSourceError, match="source required"):
        PhotonLineTable.from_csv(path)
