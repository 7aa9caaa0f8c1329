"""Kaplan–Meier, log-rank and Cox on the NCCTG lung data against R's survival package.

Data: ``lifelines.datasets.load_lung`` (228 rows, status 0/1), the same data as R
``survival::lung`` (status 1/2) — evidence.md §3b.

Reference values
----------------
* evidence.md §3b ("checked against R outputs"): KM median 310 days; lifelines'
  log(−log) interval 284–361, R's default ``conf.type = "log"`` 285–363; sex log-rank
  χ² 10.3; Cox age/sex coefficients 0.0170/−0.5132.
* R ``print(survfit(Surv(time, status) ~ sex, data = lung))`` (survival 3.x; conf.type
  "log"): sex=1 n 138, events 112, median 270 (212, 310); sex=2 n 90, events 53,
  median 426 (348, 550).
* R ``survdiff(Surv(time, status) ~ sex, data = lung)``: observed 112/53, expected
  91.6/73.4, Chisq = 10.3 on 1 df, p = 0.001.
* R ``coxph(Surv(time, status) ~ age + sex, data = lung)``: coef 0.017045 / −0.513219,
  se(coef) 0.009223 / 0.167458, likelihood ratio test 14.12 on 2 df, n = 228, events 165.

Tolerances: medians and their limits are event times (exact); printed R values are
compared to the number of digits R prints.
"""

from __future__ import annotations

import pytest
from lifelines.datasets import load_lung

from prrt.outcomes.cox import cox_model
from prrt.outcomes.survival import ConfidenceMethod, kaplan_meier, log_rank_test

pytestmark = pytest.mark.validation


@pytest.fixture(scope="module")
def lung():  # type: ignore[no-untyped-def]
    return load_lung()


def test_km_median_against_r_survival(lung) -> None:  # type: ignore[no-untyped-def]
    km = kaplan_meier(lung.time, lung.status, ci_method=ConfidenceMethod.LOG)
    assert (km.n, km.events) == (228, 165)
    assert km.median_months == 310.0  # evidence.md §3b (R and lifelines)
    assert (km.median_lower_months, km.median_upper_months) == (285.0, 363.0)  # R conf.type="log"


def test_km_median_interval_log_log_against_lifelines(lung) -> None:  # type: ignore[no-untyped-def]
    km = kaplan_meier(lung.time, lung.status, ci_method=ConfidenceMethod.LOG_LOG)
    assert (km.median_lower_months, km.median_upper_months) == (284.0, 361.0)  # evidence.md §3b


@pytest.mark.parametrize(
    ("sex", "n", "events", "median", "lower", "upper"),
    [(1, 138, 112, 270.0, 212.0, 310.0), (2, 90, 53, 426.0, 348.0, 550.0)],
)
def test_km_by_sex_against_r_survfit(lung, sex, n, events, median, lower, upper) -> None:  # type: ignore[no-untyped-def]
    group = lung[lung.sex == sex]
    km = kaplan_meier(group.time, group.status, ci_method=ConfidenceMethod.LOG)
    assert (km.n, km.events) == (n, events)
    assert (km.median_months, km.median_lower_months, km.median_upper_months) == (
        median,
        lower,
        upper,
    )


def test_logrank_by_sex_against_r_survdiff(lung) -> None:  # type: ignore[no-untyped-def]
    res = log_rank_test(lung.time, lung.status, [str(s) for s in lung.sex])
    assert res.chi2 == pytest.approx(10.3, abs=0.05)  # evidence.md §3b; R prints 10.3
    assert res.df == 1
    assert res.observed == (112, 53)
    assert res.expected == pytest.approx((91.6, 73.4), abs=0.05)  # R prints 1 decimal
    assert round(res.p_value, 3) == 0.001


def test_cox_age_sex_against_r_coxph(lung) -> None:  # type: ignore[no-untyped-def]
    res = cox_model(lung.time, lung.status, {"age": lung.age, "sex": lung.sex})
    age, sex = res.term("age"), res.term("sex")
    assert round(age.coef, 4) == 0.0170
    assert round(sex.coef, 4) == -0.5132
    assert age.coef == pytest.approx(0.017045, abs=5e-7)  # R coxph, 6 decimals
    assert sex.coef == pytest.approx(
        -0.513219, abs=5e-6
    )  # R 6 decimals; lifelines' Newton tolerance
    assert age.se == pytest.approx(0.009223, abs=5e-7)
    assert sex.se == pytest.approx(0.167458, abs=5e-7)
    assert res.log_likelihood_ratio == pytest.approx(14.12, abs=0.005)
    assert (res.n, res.events, res.df) == (228, 165, 2)
