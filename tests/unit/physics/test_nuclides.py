"""Unit tests of prrt.physics.nuclides: names, emission records, chains."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import pytest

from prrt.errors import InvalidInputError
from prrt.physics.nuclides import (
    EmissionEnergies,
    canonical_nuclide_name,
    get_nuclide,
    supported_nuclides,
)
from prrt.units import J_PER_MEV

ISSUE_CATALOGUE = (
    "Lu-177", "Y-90", "In-111", "Ga-68", "F-18", "Tb-161",
    "Ac-225", "Fr-221", "At-217", "Bi-213", "Po-213", "Tl-209", "Pb-209",
    "Pb-212", "Bi-212", "Po-212", "Tl-208",
)  # fmt: skip


def test_catalogue_holds_every_nuclide_of_the_issue() -> None:
    assert set(supported_nuclides()) == set(ISSUE_CATALOGUE)


@pytest.mark.parametrize(
    "spelling", ["Lu-177", "177Lu", "Lu177", "lu-177", "LU-177", " 177-Lu ", "Lu 177"]
)
def test_spellings_resolve_to_canonical_name(spelling: str) -> None:
    assert get_nuclide(spelling).name == "Lu-177"


def test_canonical_name_keeps_metastable_suffix() -> None:
    assert canonical_nuclide_name("99mTc") == "Tc-99m"


@pytest.mark.parametrize("bad", ["Lu-178", "Xx-1", "lutetium", "", "177"])
def test_unknown_nuclide_names_field_value_and_supported_list(bad: str) -> None:
    with pytest.raises(InvalidInputError, match=r"nuclide: got") as info:
        get_nuclide(bad)
    assert info.value.field == "nuclide"
    assert info.value.value == bad
    assert "Lu-177" in str(info.value)
    assert "Ac-225" in str(info.value)


def test_decay_constant_is_ln2_over_half_life() -> None:
    lu = get_nuclide("Lu-177")
    assert lu.decay_constant_per_s == pytest.approx(math.log(2) / lu.half_life_s, rel=1e-15)
    assert lu.mean_life_s == pytest.approx(lu.half_life_s / math.log(2), rel=1e-15)


def test_nuclide_is_frozen() -> None:
    lu = get_nuclide("Lu-177")
    with pytest.raises(dataclasses.FrozenInstanceError):
        lu.half_life_s = 1.0  # type: ignore[misc]


def test_emission_energies_convert_to_joule() -> None:
    e = EmissionEnergies(electron_mev=1.0, photon_mev=2.0, alpha_mev=3.0, alpha_recoil_mev=0.5)
    assert e.electron_j == J_PER_MEV
    assert e.photon_j == 2.0 * J_PER_MEV
    assert e.alpha_j == 3.0 * J_PER_MEV
    assert e.total_mev == 6.5
    assert e.total_j == pytest.approx(6.5 * J_PER_MEV, rel=1e-15)
    assert e.non_penetrating_mev == 4.5


def test_emission_energies_add_and_scale_class_by_class() -> None:
    a = EmissionEnergies(electron_mev=1.0, photon_mev=2.0, alpha_mev=0.0, alpha_recoil_mev=0.0)
    b = EmissionEnergies(electron_mev=0.5, photon_mev=0.0, alpha_mev=4.0, alpha_recoil_mev=0.1)
    total = a + b.scaled(2.0)
    assert (total.electron_mev, total.photon_mev, total.alpha_mev, total.alpha_recoil_mev) == (
        2.0,
        2.0,
        8.0,
        0.2,
    )


@pytest.mark.parametrize("bad", [-0.1, math.nan, math.inf])
def test_emission_energies_refuse_negative_or_non_finite(bad: float) -> None:
    with pytest.raises(InvalidInputError, match="photon_mev"):
        EmissionEnergies(electron_mev=0.1, photon_mev=bad, alpha_mev=0.0, alpha_recoil_mev=0.0)


@pytest.mark.parametrize("name", ISSUE_CATALOGUE)
def test_electron_components_add_up_to_electron_total(name: str) -> None:
    # The table rounds each column to 1e-5 MeV, so the sum may differ by 2e-5 MeV.
    nuclide = get_nuclide(name)
    c = nuclide.electron_components
    assert c is not None
    assert c.beta_mev + c.conversion_electron_mev + c.auger_mev == pytest.approx(
        nuclide.emissions.electron_mev, abs=2e-5
    )


@pytest.mark.parametrize("name", ["Lu-177", "Y-90", "Ga-68", "F-18", "Tb-161", "Tl-208", "Po-212"])
def test_single_nuclide_chain_emissions_equal_own_emissions(name: str) -> None:
    nuclide = get_nuclide(name)
    assert nuclide.chain_names == (name,)
    assert nuclide.chain_emissions == nuclide.emissions


def test_chain_members_in_decay_order() -> None:
    assert get_nuclide("Ac-225").chain_names == (
        "Ac-225", "Fr-221", "At-217", "Bi-213", "Po-213", "Tl-209", "Pb-209",
    )  # fmt: skip
    assert get_nuclide("Bi-213").chain_names == ("Bi-213", "Po-213", "Tl-209", "Pb-209")


def test_branches_rejoin_with_unit_weight() -> None:
    # Bi-213 → Po-213 (0.9791) and → Tl-209 (0.0209) both end in Pb-209: weight 1 (analytic).
    weights = {m.name: m.decays_per_parent_decay for m in get_nuclide("Bi-213").chain}
    assert weights["Po-213"] + weights["Tl-209"] == pytest.approx(1.0, abs=1e-12)
    assert weights["Pb-209"] == pytest.approx(1.0, abs=1e-12)


def test_tiny_branch_without_emission_data_is_listed_not_summed() -> None:
    in111 = get_nuclide("In-111")
    assert [m.name for m in in111.neglected_branches] == ["Cd-111m"]
    assert in111.neglected_branches[0].decays_per_parent_decay < 1e-3
    assert in111.chain_emissions == in111.emissions


def test_data_sources_name_the_decay_data_set() -> None:
    sources = " ".join(get_nuclide("Lu-177").data_sources)
    assert "icrp107_ame2020_nubase2020" in sources
    assert "ICRP-107" in sources


def test_injected_emission_table_replaces_energies_not_half_lives(tmp_path: Path) -> None:
    from prrt.physics.nuclides import NuclideData

    path = tmp_path / "alt.csv"
    path.write_text(
        "nuclide,beta_mean_mev,conversion_electron_mev,auger_mev,electron_total_mev,"
        "photon_total_mev,alpha_mev,alpha_recoil_mev,source\n"
        "177Lu,0.1333,0.0135,0.0011,0.1479,0.0351,0,0,test table\n",
        encoding="utf-8",
    )
    data = NuclideData.from_csv(path)
    lu = get_nuclide("Lu-177", data=data)
    assert lu.emissions.electron_mev == 0.1479
    assert lu.half_life_s == get_nuclide("Lu-177").half_life_s
    assert "test table" in lu.data_sources
    with pytest.raises(InvalidInputError, match="supported: Lu-177"):
        get_nuclide("Y-90", data=data)


def test_injected_emission_table_must_cover_the_chain(tmp_path: Path) -> None:
    from prrt.errors import DataSourceError
    from prrt.physics.nuclides import NuclideData

    path = tmp_path / "partial.csv"
    path.write_text(
        "nuclide,beta_mean_mev,conversion_electron_mev,auger_mev,electron_total_mev,"
        "photon_total_mev,alpha_mev,alpha_recoil_mev,source\n"
        "Pb-212,0.1,0.07,0.005,0.17663,0.14503,0,0,test\n",
        encoding="utf-8",
    )
    with pytest.raises(DataSourceError, match="lacks Bi-212"):
        get_nuclide("Pb-212", data=NuclideData.from_csv(path))


def test_malformed_emission_table_is_a_data_source_error(tmp_path: Path) -> None:
    from prrt.errors import DataSourceError
    from prrt.physics.nuclides import NuclideData

    path = tmp_path / "bad.csv"
    path.write_text("nuclide,electron_total_mev\nLu-177,abc\n", encoding="utf-8")
    with pytest.raises(DataSourceError, match="electron_total_mev"):
        NuclideData.from_csv(path)
    with pytest.raises(DataSourceError, match="could not be read"):
        NuclideData.from_csv(tmp_path / "missing.csv")
