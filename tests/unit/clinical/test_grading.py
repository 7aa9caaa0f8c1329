"""Tests of prrt.clinical.grading: WHO-1 to WHO-5 and the edge cases of clinical-rules.md §1."""

from __future__ import annotations

import pytest

from prrt.clinical.grading import (
    Differentiation,
    PrimarySite,
    TumourCategory,
    grade_from_ki67,
    grade_from_mitoses,
    who_grade,
)
from prrt.errors import InvalidInputError

WELL = Differentiation.WELL
POOR = Differentiation.POOR


# WHO-1 thresholds, each just below, at and just above (§1 edge cases list the same values).
@pytest.mark.parametrize(
    ("ki67", "expected"),
    [
        (0.0, 1),
        (2.9, 1),
        (2.99, 1),
        (3.0, 2),
        (3.1, 2),
        (19.9, 2),
        (20.0, 2),
        (20.1, 3),
        (100.0, 3),
    ],
)
def test_who1_ki67_thresholds(ki67: float, expected: int) -> None:
    assert grade_from_ki67(ki67) == expected


@pytest.mark.parametrize(
    ("mitoses", "expected"),
    [(0, 1), (1, 1), (1.9, 1), (2, 2), (2.1, 2), (19, 2), (20, 2), (20.1, 3), (21, 3)],
)
def test_who1_mitoses_thresholds(mitoses: float, expected: int) -> None:
    assert grade_from_mitoses(mitoses) == expected


@pytest.mark.parametrize(
    ("ki67", "mitoses", "category"),
    [
        (3.0, 1, TumourCategory.NET_G2),  # edge: Ki-67 3.0 -> G2
        (2.9, 1, TumourCategory.NET_G1),  # edge: 2.9 -> G1
        (20.0, 1, TumourCategory.NET_G2),  # edge: 20.0 -> G2
        (20.1, 1, TumourCategory.NET_G3),  # edge: 20.1 -> G3
        (1.0, 2, TumourCategory.NET_G2),  # edge: mitoses 2 -> G2
        (1.0, 20, TumourCategory.NET_G2),  # edge: mitoses 20 -> G2
        (1.0, 21, TumourCategory.NET_G3),  # edge: mitoses 21 -> G3
    ],
)
def test_section1_edge_cases(ki67: float, mitoses: float, category: TumourCategory) -> None:
    assert (
        who_grade(ki67_percent=ki67, mitoses_per_2mm2=mitoses, differentiation=WELL).category
        is category
    )


def test_who2_discordant_indices_take_the_higher_grade() -> None:
    # §1 edge case: Ki-67 2.9 % with 2 mitoses/2 mm² -> G2.
    res = who_grade(ki67_percent=2.9, mitoses_per_2mm2=2, differentiation=WELL)
    assert res.category is TumourCategory.NET_G2
    assert (res.grade_by_ki67, res.grade_by_mitoses) == (1, 2)
    assert any("discordant" in n for n in res.notes)
    assert res.high_grade is False


def test_who2_single_index_is_flagged_and_g3_not_excluded() -> None:
    res = who_grade(ki67_percent=5.0, mitoses_per_2mm2=None, differentiation=WELL)
    assert res.category is TumourCategory.NET_G2
    assert res.single_index is True
    assert res.high_grade is None  # the missing mitotic count could still give G3
    g3 = who_grade(ki67_percent=None, mitoses_per_2mm2=25, differentiation=WELL)
    assert g3.category is TumourCategory.NET_G3
    assert g3.single_index
    assert g3.high_grade is True


def test_who3_nec_from_differentiation_not_from_ki67() -> None:
    nec = who_grade(ki67_percent=15.0, mitoses_per_2mm2=3, differentiation=POOR)
    assert nec.category is TumourCategory.NEC
    assert nec.high_grade is True
    net = who_grade(ki67_percent=80.0, mitoses_per_2mm2=40, differentiation=WELL)
    assert net.category is TumourCategory.NET_G3  # high Ki-67 alone never makes NEC


def test_who3_missing_differentiation() -> None:
    high = who_grade(ki67_percent=40.0, mitoses_per_2mm2=None, differentiation=None)
    assert high.category is TumourCategory.HIGH_GRADE_UNSPECIFIED
    assert high.high_grade is True
    low = who_grade(ki67_percent=4.0, mitoses_per_2mm2=3, differentiation=None)
    assert low.category is TumourCategory.UNDETERMINED
    assert low.high_grade is None


def test_no_index_is_undetermined() -> None:
    res = who_grade(ki67_percent=None, mitoses_per_2mm2=None, differentiation=WELL)
    assert res.category is TumourCategory.UNDETERMINED
    assert res.high_grade is None


def test_legacy_who2010_ki67_between_2_and_3_is_g1_now() -> None:
    res = who_grade(ki67_percent=2.5, mitoses_per_2mm2=1, differentiation=WELL)
    assert res.category is TumourCategory.NET_G1
    assert any("WHO 2010" in n for n in res.notes)


@pytest.mark.parametrize(
    ("mitoses", "necrosis", "category"),
    [
        (1.9, False, TumourCategory.TYPICAL_CARCINOID),
        (2, False, TumourCategory.ATYPICAL_CARCINOID),
        (10, False, TumourCategory.ATYPICAL_CARCINOID),
        (1, True, TumourCategory.ATYPICAL_CARCINOID),
        (1, None, TumourCategory.CARCINOID_UNSPECIFIED),
        (None, False, TumourCategory.CARCINOID_UNSPECIFIED),
    ],
)
def test_who5_thoracic_carcinoids(
    mitoses: float | None, necrosis: bool | None, category: TumourCategory
) -> None:
    # Ki-67 45 % would be G3 under WHO-1; for lung it is not a grading criterion.
    res = who_grade(
        ki67_percent=45.0,
        mitoses_per_2mm2=mitoses,
        differentiation=WELL,
        primary_site=PrimarySite.LUNG,
        necrosis=necrosis,
    )
    assert res.category is category
    assert res.high_grade is False
    assert res.grade_by_ki67 is None


@pytest.mark.parametrize(("mitoses", "flagged"), [(9.9, False), (10.0, False), (10.1, True)])
def test_who5_atypical_upper_limit_10(mitoses: float, flagged: bool) -> None:
    res = who_grade(
        ki67_percent=None,
        mitoses_per_2mm2=mitoses,
        differentiation=WELL,
        primary_site=PrimarySite.LUNG,
    )
    assert res.category is TumourCategory.ATYPICAL_CARCINOID
    assert any("exceeds" in n for n in res.notes) is flagged


def test_who5_thoracic_above_atypical_range_is_flagged() -> None:
    res = who_grade(
        ki67_percent=None,
        mitoses_per_2mm2=11,
        differentiation=WELL,
        primary_site=PrimarySite.THYMUS,
    )
    assert res.category is TumourCategory.ATYPICAL_CARCINOID
    assert any("exceeds" in n for n in res.notes)


@pytest.mark.parametrize(
    ("ki67", "mitoses"), [(140.0, 1), (-1.0, 1), (float("nan"), 1), (5.0, -2), (5.0, 5000)]
)
def test_implausible_indices_are_refused(ki67: float, mitoses: float) -> None:
    with pytest.raises(InvalidInputError, match=r"(ki67_percent|mitoses_per_2mm2): got"):
        who_grade(ki67_percent=ki67, mitoses_per_2mm2=mitoses, differentiation=WELL)


def test_gep_sites() -> None:
    assert PrimarySite.PANCREAS.is_gep
    assert PrimarySite.RECTUM.is_gep
    assert not PrimarySite.LUNG.is_gep
    assert not PrimarySite.UNKNOWN_PRIMARY.is_gep
