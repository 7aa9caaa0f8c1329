"""Tests of prrt.clinical.imaging_scores: Krenning (SSTR-1/2), NETPET-1, MISMATCH-1, HET-1..3."""

from __future__ import annotations

import pytest

from prrt.clinical.imaging_scores import (
    FdgIntensity,
    FdgStatus,
    ImagingLesion,
    LiverSpleenUptake,
    NetpetGrade,
    SstrExpression,
    krenning_score,
    mismatch_lesions,
    netpet_grade,
    sstr_expression,
    sstr_positive,
    suggest_score_from_suv,
)
from prrt.errors import InvalidInputError

POS, NEG = FdgStatus.POSITIVE, FdgStatus.NEGATIVE


def lesion(
    lid: str,
    score: int | None,
    fdg: FdgStatus | None = None,
    vs: FdgIntensity | None = None,
    *,
    target: bool = False,
    size_mm: float | None = 20.0,
) -> ImagingLesion:
    return ImagingLesion(lid, target, size_mm, score, fdg, vs)


@pytest.mark.parametrize(
    ("uptake", "score"),
    [
        (LiverSpleenUptake.NONE, 0),
        (LiverSpleenUptake.BELOW_LIVER, 1),
        (LiverSpleenUptake.EQUAL_LIVER, 2),
        (LiverSpleenUptake.ABOVE_LIVER, 3),
        (LiverSpleenUptake.ABOVE_SPLEEN, 4),
    ],
)
def test_sstr1_krenning_scale(uptake: LiverSpleenUptake, score: int) -> None:
    assert krenning_score(uptake) == score


def test_netpet_positivity_threshold_at_score_2() -> None:
    assert [sstr_positive(s) for s in (1, 2, 3)] == [False, True, True]


def test_sstr2_suv_proxy_only_suggests() -> None:
    # ratio lesion/liver just above 1 suggests >= 3; exactly 1 suggests nothing; spleen ratio > 1 suggests 4.
    assert suggest_score_from_suv(lesion_suvmax=6.01, liver_suvmean=6.0) == 3
    assert suggest_score_from_suv(lesion_suvmax=6.0, liver_suvmean=6.0) is None
    assert suggest_score_from_suv(lesion_suvmax=25.0, liver_suvmean=6.0, spleen_suvmean=20.0) == 4
    with pytest.raises(InvalidInputError, match="liver_suvmean"):
        suggest_score_from_suv(lesion_suvmax=6.0, liver_suvmean=0.0)


def test_lesion_score_out_of_range_is_refused() -> None:
    with pytest.raises(InvalidInputError, match=r"lesions\[L1\]\.sstr_score: got 5"):
        ImagingLesion("L1", True, 10.0, 5)


@pytest.mark.parametrize(
    ("lesions", "grade"),
    [
        ([lesion("a", 0, NEG), lesion("b", 1, NEG)], NetpetGrade.P0),
        ([lesion("a", 3, NEG), lesion("b", 2, NEG)], NetpetGrade.P1),
        ([lesion("a", 3, POS, FdgIntensity.LESS), lesion("b", 4, NEG)], NetpetGrade.P2),
        (
            [lesion("a", 3, POS, FdgIntensity.LESS), lesion("b", 3, POS, FdgIntensity.EQUAL)],
            NetpetGrade.P3,
        ),
        (
            [lesion("a", 3, POS, FdgIntensity.EQUAL), lesion("b", 2, POS, FdgIntensity.GREATER)],
            NetpetGrade.P4,
        ),
        ([lesion("a", 4, POS, FdgIntensity.GREATER), lesion("b", 1, POS)], NetpetGrade.P5),
        ([lesion("a", 0, NEG), lesion("b", 0, POS)], NetpetGrade.P5),
    ],
)
def test_netpet1_grades(lesions: list[ImagingLesion], grade: NetpetGrade) -> None:
    res = netpet_grade(lesions, fdg_pet_done=True)
    assert res.grade is grade
    assert res.label == grade.name


def test_netpet1_not_assessable_without_fdg() -> None:
    res = netpet_grade([lesion("a", 3)], fdg_pet_done=False)
    assert res.label == "NOT_ASSESSABLE"
    assert res.grade is None


def test_netpet_missing_reading_keeps_possible_grades() -> None:
    # Dual positive without the intensity comparison: P2, P3 or P4.
    res = netpet_grade([lesion("a", 3, POS)], fdg_pet_done=True)
    assert res.grade is None
    assert res.possible == {NetpetGrade.P2, NetpetGrade.P3, NetpetGrade.P4}
    # Unknown SSTR score on an FDG-positive lesion: P5 cannot be excluded.
    res = netpet_grade([lesion("a", 3, NEG), lesion("b", None, POS)], fdg_pet_done=True)
    assert NetpetGrade.P5 in res.possible
    assert res.grade is None
    # A known P5 lesion decides whatever else is missing.
    res = netpet_grade([lesion("a", None, None), lesion("b", 1, POS)], fdg_pet_done=True)
    assert res.grade is NetpetGrade.P5
    assert res.deciding_lesions == ("b",)


def test_netpet_p4_counts_lesions() -> None:
    les = [lesion(str(i), 3, POS, FdgIntensity.GREATER) for i in range(3)]
    res = netpet_grade(les, fdg_pet_done=True)
    assert res.grade is NetpetGrade.P4
    assert res.p4_lesion_count == 3


def test_mismatch1_fdg_positive_sstr_score_le_1() -> None:
    les = [lesion("m", 1, POS), lesion("d", 2, POS, FdgIntensity.GREATER), lesion("n", 0, NEG)]
    assert mismatch_lesions(les) == ("m",)


def test_het1_homogeneous() -> None:
    res = sstr_expression([lesion("t", 3, target=True), lesion("n", 2, size_mm=30.0)], min_score=2)
    assert res.pattern is SstrExpression.HOMOGENEOUS


@pytest.mark.parametrize(
    ("size_mm", "pattern"),
    [
        (9.9, SstrExpression.HETEROGENEOUS_MINOR),  # HET-3 below the 10 mm floor
        (10.0, SstrExpression.HETEROGENEOUS_SIGNIFICANT),  # HET-2 at the floor (>= 10 mm)
        (10.1, SstrExpression.HETEROGENEOUS_SIGNIFICANT),
    ],
)
def test_het2_het3_size_floor(size_mm: float, pattern: SstrExpression) -> None:
    les = [lesion("t", 3, target=True), lesion("n", 1, NEG, size_mm=size_mm)]
    assert sstr_expression(les, min_score=2).pattern is pattern


def test_het_fdg_positive_sstr_negative_is_left_to_netpet() -> None:
    les = [lesion("t", 3, target=True), lesion("n", 1, POS, size_mm=40.0)]
    res = sstr_expression(les, min_score=2)
    assert res.pattern is SstrExpression.HOMOGENEOUS
    assert res.significant_lesions == ()


def test_het_pet_strict_threshold_counts_score_2_as_below() -> None:
    les = [lesion("t", 3, target=True), lesion("n", 2, NEG, size_mm=15.0)]
    assert sstr_expression(les, min_score=3).pattern is SstrExpression.HETEROGENEOUS_SIGNIFICANT
    assert sstr_expression(les, min_score=2).pattern is SstrExpression.HOMOGENEOUS


def test_het_missing_size_or_score_is_indeterminate() -> None:
    res = sstr_expression([lesion("n", 1, NEG, size_mm=None)], min_score=2)
    assert res.pattern is SstrExpression.INDETERMINATE
    assert res.possibly_significant_lesions == ("n",)
    res = sstr_expression([lesion("n", None, NEG, size_mm=5.0)], min_score=2)
    assert res.pattern is SstrExpression.INDETERMINATE
    assert res.possibly_small_lesions == ("n",)
