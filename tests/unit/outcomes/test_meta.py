"""Inverse-variance pooling, proportion transforms and the study CSV reader."""

from __future__ import annotations

import math

import numpy as np
import pytest
from statsmodels.stats.meta_analysis import combine_effects as sm_combine

from prrt.errors import InvalidInputError, NonConformingInputWarning
from prrt.outcomes.meta import (
    BackTransformWarning,
    ProportionTransform,
    StudyProportion,
    TauMethod,
    combine_effects,
    freeman_tukey,
    inverse_freeman_tukey,
    pool_proportions,
    read_studies_csv,
)


def test_two_studies_by_hand() -> None:
    """y = 0, 1; v = 0.1, 0.1: FE 0.5, Q = 5, C = 10, τ² = (5 − 1)/10 = 0.4, RE 0.5."""
    res = combine_effects([0.0, 1.0], [0.1, 0.1])
    assert res.fixed.estimate == pytest.approx(0.5)
    assert res.q == pytest.approx(5.0)
    assert res.tau2 == pytest.approx(0.4)
    assert res.random.se == pytest.approx(math.sqrt(1 / (2 / 0.5)))
    assert res.i2_percent == pytest.approx(80.0)
    assert res.h2 == pytest.approx(5.0)
    # prediction interval: μ ± z √(τ² + SE²)
    half = 1.959963984540054 * math.sqrt(0.4 + 0.25)
    assert res.prediction_upper - res.random.estimate == pytest.approx(half, rel=1e-9)


def test_dl_tau2_is_truncated_at_zero() -> None:
    """Q < df: DerSimonian–Laird τ² = max(0, ...); statsmodels 0.15 returns it negative."""
    y, v = np.array([0.10, 0.11, 0.09]), np.array([0.01, 0.02, 0.03])
    with np.errstate(invalid="ignore"):
        raw = sm_combine(y, v, method_re="dl")
    assert raw.tau2 < 0
    res = combine_effects(y, v)
    assert res.tau2 == 0.0
    assert res.i2_percent == 0.0
    assert res.random.estimate == res.fixed.estimate
    assert res.random.se == res.fixed.se


def test_hartung_knapp_uses_t_and_the_wls_scale() -> None:
    y, v = np.array([0.1, 0.3, -0.2, 0.4]), np.array([0.01, 0.02, 0.03, 0.02])
    res = combine_effects(y, v, hartung_knapp=True)
    sm = sm_combine(y, v, method_re="dl")
    assert res.random.se == pytest.approx(math.sqrt(sm.var_hksj_re))
    ci_re_wls = sm.conf_int(use_t=True)[3]
    assert (res.random.lower, res.random.upper) == pytest.approx(tuple(ci_re_wls))


def test_paule_mandel_option() -> None:
    y, v = np.array([0.1, 0.3, -0.2, 0.4]), np.array([0.01, 0.02, 0.03, 0.02])
    res = combine_effects(y, v, tau_method=TauMethod.PAULE_MANDEL)
    # PM solves Q(τ²) = k − 1 (DerSimonian & Kacker 2007)
    w = 1 / (v + res.tau2)
    mu = np.sum(w * y) / np.sum(w)
    assert np.sum(w * (y - mu) ** 2) == pytest.approx(3.0, abs=1e-3)


@pytest.mark.parametrize(
    ("effects", "variances", "match"),
    [
        ([1.0], [0.1], "two studies"),
        ([1, 2], [0.1, 0], r"variances\[1\]"),
        ([1, np.nan], [1, 1], "effects"),
    ],
)
def test_bad_effects(effects, variances, match) -> None:
    with pytest.raises(InvalidInputError, match=match):
        combine_effects(effects, variances)


def test_logit_continuity_correction_only_for_zero_or_all() -> None:
    """x = 0 of n = 10: logit((0.5)/(10.5)) and var 1/0.5 + 1/10.5 (metafor to='only0')."""
    studies = [StudyProportion("A", 0, 10), StudyProportion("B", 5, 10)]
    res = pool_proportions(studies)
    assert res.analysis.effects[0] == pytest.approx(math.log(0.5 / 10.5))
    assert res.analysis.variances[0] == pytest.approx(1 / 0.5 + 1 / 10.5)
    assert res.analysis.effects[1] == pytest.approx(0.0)
    assert res.analysis.variances[1] == pytest.approx(0.4)


def test_identical_proportions_pool_to_that_proportion() -> None:
    studies = [
        StudyProportion("A", 6, 20),
        StudyProportion("B", 12, 40),
        StudyProportion("C", 3, 10),
    ]
    for transform in (ProportionTransform.LOGIT, ProportionTransform.ARCSINE):
        res = pool_proportions(studies, transform=transform)
        assert res.random[0] == pytest.approx(0.3, abs=1e-9)
        assert res.analysis.tau2 == 0.0


def test_freeman_tukey_always_warns_about_the_back_transformation() -> None:
    studies = [StudyProportion("A", 3, 11), StudyProportion("B", 60, 170)]
    with pytest.warns(BackTransformWarning, match="Schwarzer"):
        res = pool_proportions(studies, transform=ProportionTransform.FREEMAN_TUKEY)
    assert res.harmonic_mean_n == pytest.approx(2 / (1 / 11 + 1 / 170))
    assert "harmonic" in res.back_transform
    assert res.notes


def test_inverse_freeman_tukey_is_exact_with_each_studys_own_n() -> None:
    x = np.array([0, 1, 7, 19, 20])
    n = np.array([20, 20, 20, 20, 20])
    t, _ = freeman_tukey(x, n)
    assert inverse_freeman_tukey(t, n) == pytest.approx(x / n, abs=1e-12)


def test_study_validation() -> None:
    with pytest.raises(InvalidInputError, match="between 0 and n"):
        StudyProportion("A", 11, 10)
    with pytest.raises(InvalidInputError, match="at least two"):
        pool_proportions([StudyProportion("A", 1, 10)])


def test_read_studies_csv_events_and_proportions() -> None:
    assert read_studies_csv("# c\nstudy,events,n\nA,3,11\nB,6,17\n")[0] == StudyProportion(
        "A", 3, 11
    )
    got = read_studies_csv("study,proportion,n\nA,0.25,20\n")
    assert got[0].events == 5
    with pytest.warns(NonConformingInputWarning, match="rounded to 7"):
        read_studies_csv("study,proportion,n\nWang,0.33,22\n")


@pytest.mark.parametrize(
    ("text", "match"),
    [
        (
            "study,proportion,n\nA,0.2,10\nB,35,20\n",
            r"row 2, column proportion: got '35'.*percentage",
        ),
        ("study,proportion,n\nA,1.2,10\n", r"row 1, column proportion"),
        ("study,events,n\nA,12,10\n", r"row 1, column events: got '12'"),
        ("study,events,n\nA,1,0\n", r"row 1, column n"),
        ("study,events,n\nA,x,10\n", r"row 1, column events"),
        ("study,events\nA,1\n", "'n' column"),
        ("study,events,proportion,n\nA,1,0.1,10\n", "exactly one"),
    ],
)
def test_read_studies_csv_errors_name_row_and_column(text: str, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        read_studies_csv(text)
