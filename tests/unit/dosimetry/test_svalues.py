"""Unit tests of prrt.dosimetry.svalues (tables, names, mass scaling, remainder of body)."""

from __future__ import annotations

import pytest

from prrt.dosimetry.svalues import (
    MassScaling,
    Phantom,
    Sex,
    canonical_region,
    load_svalue_table,
    scale_self_s_value,
)
from prrt.errors import InvalidInputError
from prrt.physics import get_nuclide


def test_full_matrices_are_loaded() -> None:
    """The OLINDA tables are 25 × 27 (AM) and 26 × 28 (AF) targets × sources."""
    am, af = load_svalue_table(Phantom.ICRP89_AM), load_svalue_table(Phantom.ICRP89_AF)
    assert (len(am.targets), len(am.sources)) == (25, 27)
    assert (len(af.targets), len(af.sources)) == (26, 28)
    assert "prostate" in am.targets
    assert "prostate" not in af.targets
    assert "uterus" in af.sources
    assert "uterus" not in am.sources


def test_phantom_for_sex() -> None:
    assert Phantom.for_sex(Sex.MALE) is Phantom.ICRP89_AM
    assert Phantom.for_sex(Sex.FEMALE) is Phantom.ICRP89_AF


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Kidneys", "kidneys"),
        ("kidney", "kidneys"),
        ("Left Kidney", "left_kidney"),
        ("Red Marrow", "red_marrow"),
        ("bone marrow", "red_marrow"),
        ("whole-body", "total_body"),
        ("rest of body", "remainder_of_body"),
    ],
)
def test_canonical_region_spellings(text: str, expected: str) -> None:
    assert canonical_region(text) == expected


def test_unknown_region_names_field_and_lists_known() -> None:
    table = load_svalue_table(Phantom.ICRP89_AM)
    with pytest.raises(InvalidInputError, match=r"^source: got 'pituitary'.*known: adrenals"):
        table.s_gy_per_bq_s(target="kidneys", source="pituitary")
    with pytest.raises(InvalidInputError, match=r"^target: got 'uterus'"):
        table.s_gy_per_bq_s(target="uterus", source="kidneys")


def test_empty_region_name_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"^region: got ''"):
        canonical_region("")


def test_unknown_nuclide_refused_with_field() -> None:
    with pytest.raises(InvalidInputError, match=r"^nuclide: got 'Y-90'.*local deposition"):
        load_svalue_table(Phantom.ICRP89_AM, "Y-90")
    with pytest.raises(InvalidInputError, match=r"^nuclide"):
        load_svalue_table(Phantom.ICRP89_AM, "unobtainium")


def test_mass_of_contents_is_not_tabulated() -> None:
    with pytest.raises(InvalidInputError, match=r"gallbladder_contents"):
        load_svalue_table(Phantom.ICRP89_AM).mass_kg("gallbladder_contents")


def test_linear_scaling_is_inverse_mass_ratio() -> None:
    """Analytic: halving the mass doubles the self S value."""
    s = scale_self_s_value(s_phantom_gy_per_bq_s=1e-13, phantom_mass_kg=0.3, patient_mass_kg=0.15)
    assert s == pytest.approx(2e-13, rel=1e-12)


def test_split_scaling_falls_back_to_linear_when_electrons_escape() -> None:
    """Adrenals (14 g AM): table S is below Δ_e/m, so no negative photon part is formed."""
    am = load_svalue_table(Phantom.ICRP89_AM)
    s_ph = am.s_gy_per_bq_s(target="adrenals", source="adrenals")
    e = get_nuclide("Lu-177").emissions.electron_j
    assert s_ph < e / am.mass_kg("adrenals")
    split = scale_self_s_value(
        s_phantom_gy_per_bq_s=s_ph,
        phantom_mass_kg=0.014,
        patient_mass_kg=0.010,
        method=MassScaling.ELECTRON_PHOTON_SPLIT,
        electron_energy_j=e,
    )
    assert split == pytest.approx(s_ph * 1.4, rel=1e-12)


@pytest.mark.parametrize("mass", [0.0, -0.3, float("nan"), float("inf")])
def test_zero_or_bad_mass_refused(mass: float) -> None:
    with pytest.raises(InvalidInputError, match=r"^patient_mass_kg"):
        scale_self_s_value(s_phantom_gy_per_bq_s=1e-13, phantom_mass_kg=0.3, patient_mass_kg=mass)


def test_split_needs_electron_energy() -> None:
    with pytest.raises(InvalidInputError, match=r"^electron_energy_j"):
        scale_self_s_value(
            s_phantom_gy_per_bq_s=1e-13,
            phantom_mass_kg=0.3,
            patient_mass_kg=0.2,
            method=MassScaling.ELECTRON_PHOTON_SPLIT,
        )


def test_remainder_refuses_total_body_and_duplicates() -> None:
    am = load_svalue_table(Phantom.ICRP89_AM)
    with pytest.raises(InvalidInputError, match=r"total body itself"):
        am.remainder_of_body_s_gy_per_bq_s(target="kidneys", sources=["total_body"])
    with pytest.raises(InvalidInputError, match=r"once"):
        am.remainder_of_body_s_gy_per_bq_s(target="kidneys", sources=["liver", "liver"])


def test_remainder_with_no_segmented_source_is_total_body() -> None:
    """Analytic: with nothing segmented S(t←RB) = S(t←TB)."""
    am = load_svalue_table(Phantom.ICRP89_AM)
    assert am.remainder_of_body_s_gy_per_bq_s(target="liver", sources=[]) == pytest.approx(
        am.s_gy_per_bq_s(target="liver", source="total_body"), rel=1e-12
    )
