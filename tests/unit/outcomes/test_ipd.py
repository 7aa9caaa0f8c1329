"""Guyot reconstruction: exact recovery without censoring, cleaning, and input errors."""

from __future__ import annotations

import numpy as np
import pytest

from prrt.errors import InvalidInputError, NonConformingInputWarning
from prrt.outcomes.ipd import (
    clean_digitised_curve,
    read_at_risk_csv,
    read_digitised_curve_csv,
    reconstruct_ipd,
)
from prrt.outcomes.survival import kaplan_meier


def _corners(km):  # type: ignore[no-untyped-def]
    t, s = [0.0], [1.0]
    for k in range(1, len(km.time_months)):
        if km.observed[k]:
            t += [km.time_months[k]] * 2
            s += [km.survival[k - 1], km.survival[k]]
    return np.array(t), np.array(s)


def test_uncensored_data_are_recovered_exactly() -> None:
    """Analytic truth: without censoring each KM drop of 1/n is one event at that time."""
    times = np.array([1.0, 2.0, 2.0, 3.5, 5.0, 6.0, 7.5, 9.0])
    km = kaplan_meier(times, np.ones_like(times))
    ct, cs = _corners(km)
    risk_t = np.array([0.0, 3.0, 6.0])
    risk_n = np.array([km.number_at_risk(x) for x in risk_t])
    ipd = reconstruct_ipd(ct, cs, risk_t, risk_n)
    assert ipd.n == 8
    assert ipd.n_events == 8
    assert sorted(ipd.time_months) == pytest.approx(sorted(times))
    assert ipd.n_at_risk_reconstructed == ipd.n_at_risk_published


def test_censoring_is_placed_to_match_the_at_risk_table() -> None:
    rng = np.random.default_rng(4)
    t = rng.exponential(10, 80)
    c = rng.uniform(2, 30, 80)
    time, event = np.minimum(t, c), (t <= c).astype(float)
    km = kaplan_meier(time, event)
    ct, cs = _corners(km)
    risk_t = np.arange(0, km.max_time_months, 4.0)
    risk_n = [km.number_at_risk(x) for x in risk_t]
    ipd = reconstruct_ipd(ct, cs, risk_t, risk_n, total_events=int(event.sum()))
    assert ipd.n == 80
    # Guyot et al. use the total only in the last interval: earlier rounding can leave it off by 1-2
    assert abs(ipd.n_events - int(event.sum())) <= 2
    assert ipd.n_at_risk_reconstructed == tuple(risk_n)
    assert ipd.to_dict(with_rows=True)["rows"][0].keys() == {"time_months", "event"}


def test_cleaning_sorts_clips_and_makes_monotone() -> None:
    t, s = clean_digitised_curve([4, 0, 2, 2, 6], [0.62, 1.01, 0.8, 0.7, 0.65])
    assert t.tolist() == [0.0, 2.0, 4.0, 6.0]
    assert s.tolist() == [1.0, 0.7, 0.62, 0.62]


@pytest.mark.parametrize(
    ("curve_s", "match"),
    [([1.0, 65.2], r"survival\[1\].*percentage"), ([1.0, -0.1], r"survival\[1\]")],
)
def test_survival_outside_zero_one_is_refused(curve_s, match) -> None:
    with pytest.raises(InvalidInputError, match=match):
        clean_digitised_curve([0, 1], curve_s)


def test_negative_digitised_time() -> None:
    with pytest.raises(InvalidInputError, match=r"time_months\[1\]"):
        clean_digitised_curve([0, -1], [1, 0.9])


@pytest.mark.parametrize(
    ("risk_t", "risk_n", "match"),
    [
        ([1, 2], [10, 8], "starts with the patients"),
        ([0, 2], [10, 12], "at most the previous"),
        ([0, 2, 2], [10, 8, 7], "a time after"),
        ([0, 2], [10, 7.5], "whole number"),
    ],
)
def test_bad_at_risk_tables(risk_t, risk_n, match) -> None:
    with pytest.raises(InvalidInputError, match=match):
        reconstruct_ipd([0, 1, 2, 3], [1, 0.9, 0.8, 0.7], risk_t, risk_n)


def test_total_events_above_n() -> None:
    with pytest.raises(InvalidInputError, match="total_events"):
        reconstruct_ipd([0, 1], [1, 0.5], [0], [10], total_events=11)


def test_at_risk_times_after_the_curve_are_dropped_with_a_warning() -> None:
    with pytest.warns(NonConformingInputWarning, match="ignored"):
        ipd = reconstruct_ipd([0, 1, 2], [1, 0.9, 0.8], [0, 1, 5], [10, 9, 2])
    assert ipd.risk_time_months == (0.0, 1.0)


def test_csv_readers_units_and_errors() -> None:
    t, s = read_digitised_curve_csv("# d\ntime_weeks,survival\n0,1\n4.348214,0.9\n")
    assert t[1] == pytest.approx(1.0, rel=1e-6)
    assert s.tolist() == [1.0, 0.9]
    with pytest.raises(
        InvalidInputError, match=r"row 2, column survival: got '90'.*survival_percent"
    ):
        read_digitised_curve_csv("time_months,survival\n0,1\n3,90\n")
    with pytest.raises(InvalidInputError, match=r"row 1, column time_months"):
        read_digitised_curve_csv("time_months,survival\n-2,1\n")
    with pytest.raises(InvalidInputError, match="one time column"):
        read_digitised_curve_csv("time,survival\n0,1\n")
    with pytest.raises(InvalidInputError, match=r"row 2, column n_at_risk"):
        read_at_risk_csv("time_months,n_at_risk\n0,10\n3,8.5\n")
    with pytest.raises(InvalidInputError, match="n_at_risk"):
        read_at_risk_csv("time_months,count\n0,10\n")
