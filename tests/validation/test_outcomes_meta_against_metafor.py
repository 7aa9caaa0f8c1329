"""DerSimonian–Laird and Freeman–Tukey pooling against R metafor.

BCG vaccine data (13 trials): Colditz GA et al. JAMA 1994;271:698-702, as distributed
with metafor (``dat.bcg``: tpos, tneg, cpos, cneg). Reference values (evidence.md §5:
metafor ``rma(yi, vi, method = "DL")`` on the log risk ratios, identical in Stata and
statsmodels): τ² 0.3088, μ −0.7141 (SE 0.1787), fixed effect −0.4303, Q 152.23,
I² 92.1 %.

Freeman–Tukey: metafor's test suite, ``tests/testthat/test_analysis_example_miller1978.r``
(Miller JJ, Am Stat 1978;32:138, p. 138): four studies x = 3, 6, 10, 1 of n = 11, 17,
21, 6 — double-arcsine values 1.1391, 1.2888, 1.5253, 0.9515, variances 0.0870, 0.0571,
0.0465, 0.1538 (×4 of metafor's "PFT" scale); weighted fixed-effect estimate 1.3093 on
the double-arcsine scale, back-transformed with the harmonic-mean n: 0.3595.  Second
data set of that file: x = 0, 4, 9, 16, 20 of n = 10, 10, 15, 20, 20 — individual
back-transforms exactly 0, .4, .6, .8, 1; FE pooled 0.6886 (0.5734, 0.7943).
Tolerances: half a unit of the last printed digit.
"""

from __future__ import annotations

import numpy as np
import pytest

from prrt.outcomes.meta import (
    BackTransformWarning,
    ProportionTransform,
    StudyProportion,
    combine_effects,
    freeman_tukey,
    inverse_freeman_tukey,
    pool_proportions,
)

pytestmark = pytest.mark.validation

# dat.bcg (metafor): trial, author, year, tpos, tneg, cpos, cneg
BCG = [
    (1, "Aronson", 1948, 4, 119, 11, 128),
    (2, "Ferguson & Simes", 1949, 6, 300, 29, 274),
    (3, "Rosenthal et al", 1960, 3, 228, 11, 209),
    (4, "Hart & Sutherland", 1977, 62, 13536, 248, 12619),
    (5, "Frimodt-Moller et al", 1973, 33, 5036, 47, 5761),
    (6, "Stein & Aronson", 1953, 180, 1361, 372, 1079),
    (7, "Vandiviere et al", 1973, 8, 2537, 10, 619),
    (8, "TPT Madras", 1980, 505, 87886, 499, 87892),
    (9, "Coetzee & Berjak", 1968, 29, 7470, 45, 7232),
    (10, "Rosenthal et al", 1961, 17, 1699, 65, 1600),
    (11, "Comstock et al", 1974, 186, 50448, 141, 27197),
    (12, "Comstock & Webster", 1969, 5, 2493, 3, 2338),
    (13, "Comstock et al", 1976, 27, 16886, 29, 17825),
]


def _log_rr() -> tuple[np.ndarray, np.ndarray, list[str]]:
    a = np.array([r[3] for r in BCG], dtype=float)
    b = np.array([r[4] for r in BCG], dtype=float)
    c = np.array([r[5] for r in BCG], dtype=float)
    d = np.array([r[6] for r in BCG], dtype=float)
    # metafor escalc(measure = "RR"): log((a/(a+b)) / (c/(c+d))), var 1/a − 1/(a+b) + 1/c − 1/(c+d)
    yi = np.log((a / (a + b)) / (c / (c + d)))
    vi = 1 / a - 1 / (a + b) + 1 / c - 1 / (c + d)
    return yi, vi, [f"{r[1]} {r[2]}" for r in BCG]


def test_dersimonian_laird_on_bcg_against_metafor() -> None:
    yi, vi, labels = _log_rr()
    res = combine_effects(yi, vi, labels=labels)
    assert res.k == 13
    assert res.tau2 == pytest.approx(0.3088, abs=5e-5)
    assert res.random.estimate == pytest.approx(-0.7141, abs=5e-5)
    assert res.random.se == pytest.approx(0.1787, abs=5e-5)
    assert res.fixed.estimate == pytest.approx(-0.4303, abs=5e-5)
    assert res.q == pytest.approx(152.23, abs=5e-3)
    assert res.i2_percent == pytest.approx(92.1, abs=0.05)


def test_freeman_tukey_values_against_miller_1978() -> None:
    t, v = freeman_tukey([3, 6, 10, 1], [11, 17, 21, 6])
    assert 2 * t == pytest.approx([1.1391, 1.2888, 1.5253, 0.9515], abs=5e-5)
    assert 4 * v == pytest.approx([0.0870, 0.0571, 0.0465, 0.1538], abs=5e-5)


def test_freeman_tukey_fixed_effect_against_metafor_miller_1978() -> None:
    studies = [
        StudyProportion(f"S{i}", x, n)
        for i, (x, n) in enumerate(zip((3, 6, 10, 1), (11, 17, 21, 6), strict=True))
    ]
    with pytest.warns(BackTransformWarning):
        res = pool_proportions(studies, transform=ProportionTransform.FREEMAN_TUKEY)
    assert 2 * res.analysis.fixed.estimate == pytest.approx(1.3093, abs=5e-5)
    assert res.fixed[0] == pytest.approx(0.3595, abs=5e-5)


def test_freeman_tukey_back_transformations_against_metafor() -> None:
    x, n = [0, 4, 9, 16, 20], [10, 10, 15, 20, 20]
    t, _ = freeman_tukey(x, n)
    assert inverse_freeman_tukey(t, n) == pytest.approx([0.0, 0.4, 0.6, 0.8, 1.0], abs=1e-12)
    studies = [StudyProportion(f"S{i}", a, b) for i, (a, b) in enumerate(zip(x, n, strict=True))]
    with pytest.warns(BackTransformWarning):
        res = pool_proportions(studies, transform=ProportionTransform.FREEMAN_TUKEY)
    assert res.fixed == pytest.approx((0.6886, 0.5734, 0.7943), abs=5e-5)
