"""Unit tests of prrt.clinical.labs (clinical-rules.md §0.2 conversions, bad input refused)."""

from __future__ import annotations

import pytest

from prrt.clinical.labs import (
    CANONICAL_LAB_UNIT,
    Analyte,
    from_canonical_lab,
    known_lab_units,
    parse_lab,
    plausible_range,
    to_canonical_lab,
)
from prrt.errors import InvalidInputError, UnitError


@pytest.mark.parametrize(
    ("analyte", "value", "unit", "expected"),
    [
        (Analyte.HAEMOGLOBIN, 8.0, "g/dL", 80.0),  # §0.2: g/dL x 10
        (Analyte.HAEMOGLOBIN, 80.0, "g/L", 80.0),
        (Analyte.HAEMOGLOBIN, 6.2, "mmol/L", 6.2 * 16.11),  # §0.2: x 16.11
        (Analyte.PLATELETS, 75000.0, "/mm³", 75.0),  # §0.2: 75,000/mm³ = 75 x10^9/L
        (Analyte.PLATELETS, 75000.0, "/µL", 75.0),
        (Analyte.PLATELETS, 75000.0, "/uL", 75.0),
        (Analyte.PLATELETS, 75.0, "10^3/µL", 75.0),
        (Analyte.PLATELETS, 75.0, "x10^9/L", 75.0),
        (Analyte.PLATELETS, 75.0, "×10⁹/L", 75.0),
        (Analyte.NEUTROPHILS, 1500.0, "cells/mm3", 1.5),
        (Analyte.CREATININE, 1.0, "mg/dL", 88.4),  # §0.2: exactly 88.4
        (Analyte.CREATININE, 150.0, "umol/L", 150.0),
        (Analyte.CREATININE, 150.0, "μmol/L", 150.0),  # Greek mu
        (Analyte.BILIRUBIN, 1.0, "mg/dL", 17.1),  # §0.2: x 17.1
        (Analyte.ALBUMIN, 3.0, "g/dL", 30.0),
        (Analyte.AST, 1.0, "µkat/L", 60.0),  # 1 U = 1 µmol/min
        (Analyte.ALT, 40.0, "IU/L", 40.0),
        (Analyte.INR, 1.5, "1", 1.5),
        (Analyte.PROTHROMBIN_PERCENT, 70.0, "%", 70.0),
    ],
)
def test_to_canonical_lab_uses_the_factors_of_section_0_2(analyte, value, unit, expected):
    assert to_canonical_lab(analyte, value, unit, field="f") == pytest.approx(expected, rel=1e-12)


def test_canonical_units_match_section_0_2():
    assert CANONICAL_LAB_UNIT[Analyte.HAEMOGLOBIN] == "g/L"
    assert CANONICAL_LAB_UNIT[Analyte.PLATELETS] == "10^9/L"
    assert CANONICAL_LAB_UNIT[Analyte.CREATININE] == "µmol/L"
    assert CANONICAL_LAB_UNIT[Analyte.INR] == "1"
    assert set(CANONICAL_LAB_UNIT) == set(Analyte)
    for analyte in Analyte:
        assert known_lab_units(analyte)[0] == CANONICAL_LAB_UNIT[analyte]


def test_hb_ctcae_mmol_equivalents_within_one_percent():
    # CTCAE quotes 6.2 mmol/L ≈ 10.0 g/dL and 4.9 mmol/L ≈ 8.0 g/dL (§0.2).
    assert to_canonical_lab(Analyte.HAEMOGLOBIN, 6.2, "mmol/L", field="hb") == pytest.approx(
        100.0, rel=0.01
    )
    assert to_canonical_lab(Analyte.HAEMOGLOBIN, 4.9, "mmol/L", field="hb") == pytest.approx(
        80.0, rel=0.015
    )


@pytest.mark.parametrize(
    ("analyte", "text", "expected"),
    [
        (Analyte.HAEMOGLOBIN, "9.8 g/dL", 98.0),
        (Analyte.HAEMOGLOBIN, "98g/L", 98.0),
        (Analyte.PLATELETS, "75000 /mm3", 75.0),
        (Analyte.LYMPHOCYTES, "0.4 x10^9/L", 0.4),
        (Analyte.WHITE_CELLS, "2.0 G/L", 2.0),
        (Analyte.CREATININE, "1.2 mg/dL", 1.2 * 88.4),
        (Analyte.INR, "1.3", 1.3),
        (Analyte.INR, "1.3 INR", 1.3),
    ],
)
def test_parse_lab_reads_number_and_unit(analyte, text, expected):
    assert parse_lab(analyte, text, field="f") == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize(
    ("analyte", "value", "unit"),
    [
        (Analyte.PLATELETS, 5000.0, "10^9/L"),  # brief: implausible
        (Analyte.CREATININE, -1.0, "µmol/L"),  # negative creatinine
        (Analyte.HAEMOGLOBIN, 900.0, "g/L"),  # g/L vs g/dL slip the other way
        (Analyte.HAEMOGLOBIN, 9.8, "g/L"),  # 9.8 g/dL entered as g/L
        (Analyte.ALBUMIN, 300.0, "g/L"),
        (Analyte.INR, 0.0, "1"),
    ],
)
def test_implausible_value_is_refused_naming_field_value_expected(analyte, value, unit):
    with pytest.raises(InvalidInputError) as info:
        to_canonical_lab(analyte, value, unit, field="labs.x")
    assert info.value.field == "labs.x"
    assert str(value) in str(info.value.value)
    assert "plausible range" in info.value.expected


@pytest.mark.parametrize(
    ("analyte", "unit"),
    [
        (Analyte.HAEMOGLOBIN, "mg/dL"),
        (Analyte.PLATELETS, "g/dL"),
        (Analyte.CREATININE, "mmol/L"),
        (Analyte.ALBUMIN, "µmol/L"),
        (Analyte.AST, "%"),
        (Analyte.HAEMOGLOBIN, "furlong"),
        (Analyte.HAEMOGLOBIN, ""),
    ],
)
def test_unknown_unit_is_refused(analyte, unit):
    with pytest.raises(UnitError, match=r"labs\.hb: got"):
        to_canonical_lab(analyte, 10.0, unit, field="labs.hb")


@pytest.mark.parametrize("value", ["9.8", None, True, float("nan"), float("inf"), [9.8]])
def test_wrong_type_or_non_finite_value_is_refused(value):
    with pytest.raises(InvalidInputError) as info:
        to_canonical_lab(Analyte.HAEMOGLOBIN, value, "g/dL", field="labs.hb")
    assert info.value.field == "labs.hb"
    assert "g/dL" in info.value.expected


@pytest.mark.parametrize("text", ["9.8", "9,8 g/dL", "75,000 /mm3", "nine g/dL", "", "g/dL 9.8"])
def test_parse_lab_refuses_bare_number_commas_and_garbage(text):
    with pytest.raises(InvalidInputError, match=r"labs\.hb"):
        parse_lab(
            Analyte.HAEMOGLOBIN if "mm" not in text else Analyte.PLATELETS, text, field="labs.hb"
        )


def test_parse_lab_refuses_non_text():
    with pytest.raises(InvalidInputError, match=r"labs\.hb: got 9\.8"):
        parse_lab(Analyte.HAEMOGLOBIN, 9.8, field="labs.hb")  # type: ignore[arg-type]


def test_unknown_analyte_is_refused():
    with pytest.raises(InvalidInputError, match="sodium"):
        to_canonical_lab("sodium", 140.0, "mmol/L", field="labs.na")  # type: ignore[arg-type]


def test_analyte_accepts_its_string_value():
    assert to_canonical_lab("albumin", 3.5, "g/dL", field="alb") == 35.0  # type: ignore[arg-type]


def test_from_canonical_lab_inverts_and_refuses_unknown_unit():
    assert from_canonical_lab(Analyte.PLATELETS, 75.0, "/mm³") == pytest.approx(75000.0)
    assert from_canonical_lab(Analyte.BILIRUBIN, 17.1, "mg/dL") == pytest.approx(1.0)
    with pytest.raises(UnitError):
        from_canonical_lab(Analyte.BILIRUBIN, 17.1, "g/L")


def test_plausible_range_bounds_are_inclusive():
    rng = plausible_range(Analyte.PLATELETS)
    assert rng.contains(rng.high)
    assert to_canonical_lab(Analyte.PLATELETS, rng.high, "10^9/L", field="p") == rng.high
    assert to_canonical_lab(Analyte.PLATELETS, 0.0, "10^9/L", field="p") == 0.0
    with pytest.raises(InvalidInputError):
        to_canonical_lab(Analyte.PLATELETS, rng.high + 0.1, "10^9/L", field="p")


def test_gram_per_litre_is_not_giga_per_litre_for_counts() -> None:
    """'g/L' typed for platelets must not be read as G/L (10^9/L): a unit slip is refused."""
    with pytest.raises(UnitError, match="platelets"):
        to_canonical_lab(Analyte.PLATELETS, 200.0, "g/L", field="labs.platelets")
    assert to_canonical_lab(Analyte.PLATELETS, 200.0, "G/L", field="labs.platelets") == 200.0


def test_all_capitals_lab_units_are_understood() -> None:
    """All-capitals lab systems print 'MG/DL'; 1 mg/dL creatinine = 88.4 µmol/L (§0.2)."""
    assert to_canonical_lab(Analyte.CREATININE, 1.0, "MG/DL", field="c") == pytest.approx(88.4)
