"""Property tests of prrt.clinical.labs and renal: unit conversions round-trip (style guide §8)."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from prrt.clinical.labs import (
    Analyte,
    from_canonical_lab,
    known_lab_units,
    parse_lab,
    plausible_range,
    to_canonical_lab,
)
from prrt.clinical.renal import (
    Sex,
    creatinine_clearance_cockcroft_gault,
    egfr_ckd_epi_2021,
    round_half_up,
)


@st.composite
def analyte_unit_value(draw):
    analyte = draw(st.sampled_from(list(Analyte)))
    unit = draw(st.sampled_from(known_lab_units(analyte)))
    rng = plausible_range(analyte)
    canonical = draw(st.floats(min_value=rng.low, max_value=rng.high, allow_nan=False))
    return analyte, unit, canonical


def _convert_back(analyte, in_unit, unit, canonical):
    try:
        return to_canonical_lab(analyte, in_unit, unit, field="f")
    except ValueError:
        # only a value within one rounding step of a plausibility bound may be refused
        rng = plausible_range(analyte)
        assert min(abs(canonical - rng.low), abs(canonical - rng.high)) <= 1e-9 * max(1.0, rng.high)
        return canonical


@given(analyte_unit_value())
def test_canonical_to_unit_and_back_is_identity(case):
    analyte, unit, canonical = case
    in_unit = from_canonical_lab(analyte, canonical, unit)
    back = _convert_back(analyte, in_unit, unit, canonical)
    assert math.isclose(back, canonical, rel_tol=1e-12, abs_tol=1e-12)


@given(analyte_unit_value())
def test_unit_to_canonical_and_back_is_identity(case):
    analyte, unit, canonical = case
    in_unit = from_canonical_lab(analyte, canonical, unit)
    back = from_canonical_lab(analyte, _convert_back(analyte, in_unit, unit, canonical), unit)
    assert math.isclose(back, in_unit, rel_tol=1e-12, abs_tol=1e-12)


@given(analyte_unit_value())
def test_parse_lab_agrees_with_to_canonical_lab(case):
    analyte, unit, canonical = case
    in_unit = from_canonical_lab(analyte, canonical, unit)
    text = f"{in_unit!r} {unit}"
    try:
        expected = to_canonical_lab(analyte, in_unit, unit, field="f")
    except ValueError:
        # rounding at the edge of the plausible range: both paths must refuse
        with pytest.raises(ValueError):
            parse_lab(analyte, text, field="f")
        return
    assert parse_lab(analyte, text, field="f") == expected


@given(st.floats(min_value=-1e6, max_value=1e6, allow_nan=False))
def test_round_half_up_is_within_half_a_step_and_idempotent(x):
    r = round_half_up(x)
    assert abs(r - x) <= 0.05 + 1e-9 * max(1.0, abs(x))
    assert round_half_up(r) == r


@given(
    st.floats(min_value=20.0, max_value=1500.0),
    st.floats(min_value=20.0, max_value=1500.0),
    st.integers(min_value=18, max_value=100),
    st.sampled_from(list(Sex)),
)
def test_renal_estimates_never_rise_when_creatinine_rises(scr1, scr2, age, sex):
    low, high = sorted((scr1, scr2))
    assert egfr_ckd_epi_2021(
        creatinine_umol_per_l=high, age_years=age, sex=sex
    ) <= egfr_ckd_epi_2021(creatinine_umol_per_l=low, age_years=age, sex=sex)
    kw = {"age_years": age, "weight_kg": 70.0, "sex": sex}
    assert creatinine_clearance_cockcroft_gault(creatinine_umol_per_l=high, **kw) <= (
        creatinine_clearance_cockcroft_gault(creatinine_umol_per_l=low, **kw)
    )
