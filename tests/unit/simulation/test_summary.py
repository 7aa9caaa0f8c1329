"""Mergeable summaries: histogram quantiles against analytic distributions, merge = concatenation."""

from __future__ import annotations

import numpy as np
import pytest

from prrt.errors import InvalidInputError
from prrt.simulation.population import draw_patients, load_population_model
from prrt.simulation.strategies import (
    BED_REGIONS,
    dosimetry_guided_course,
    fixed_course,
    simulate_course,
)
from prrt.simulation.summary import HistogramSpec, histogram_specs, summarise_outcome


def test_histogram_quantiles_of_a_uniform_sample() -> None:
    # 0, 0.01, ..., 99.99 on [0, 100): the q-quantile is 100·q within one bin (0.025).
    values = np.arange(10_000) / 100.0
    spec = HistogramSpec("x", 100.0)
    counts = spec.counts(values)
    assert counts.sum() == 10_000
    assert counts[-1] == 0
    for q in (0.05, 0.25, 0.5, 0.75, 0.95):
        assert spec.quantile(counts, q, 0.0, 99.99) == pytest.approx(100.0 * q, abs=spec.bin_width)
    assert spec.quantile(counts, 0.0, 0.0, 99.99) == 0.0
    assert spec.quantile(counts, 1.0, 0.0, 99.99) == 99.99


def test_values_above_the_range_go_to_the_overflow_bin() -> None:
    spec = HistogramSpec("x", 10.0, bins=10)
    counts = spec.counts(np.array([-1.0, 0.5, 9.99, 10.0, 250.0]))
    assert counts.tolist() == [2, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2]
    # the median lies in the overflow: the exact maximum is returned
    assert spec.quantile(np.array([0] * 10 + [5]), 0.5, 10.0, 250.0) == 250.0


def test_lognormal_median_from_histogram() -> None:
    # Median of a log-normal with μ = ln 12: 12 (analytic), read within one bin.
    rng = np.random.default_rng(1)
    x = np.exp(np.log(12.0) + 0.3 * rng.standard_normal(200_000))
    spec = HistogramSpec("x", 100.0)
    assert spec.quantile(spec.counts(x), 0.5, x.min(), x.max()) == pytest.approx(
        np.median(x), abs=spec.bin_width
    )
    assert np.median(x) == pytest.approx(12.0, rel=0.01)


def test_merge_equals_the_summary_of_all_patients() -> None:
    model = load_population_model()
    p = draw_patients(model, 3000, max_cycles=8, rng=np.random.default_rng(4))
    strategy = dosimetry_guided_course()
    out = simulate_course(p, strategy)
    specs = histogram_specs(out.regions, BED_REGIONS, 8 * 7.4e9)
    whole = summarise_outcome(out, specs, 8)
    idx = np.arange(3000)
    from prrt.simulation.population import VirtualPatients

    def part(sel: np.ndarray) -> VirtualPatients:
        return VirtualPatients(
            regions=p.regions,
            mass_kg=p.mass_kg[sel],
            uptake_fraction=p.uptake_fraction[sel],
            effective_half_life_s=p.effective_half_life_s[sel],
            dose_per_activity_gy_per_bq=p.dose_per_activity_gy_per_bq[sel],
            true_dose_per_activity_gy_per_bq=p.true_dose_per_activity_gy_per_bq[sel],
            measured_dose_per_activity_gy_per_bq=p.measured_dose_per_activity_gy_per_bq[sel],
            renal_risk_factors=p.renal_risk_factors[sel],
        )

    a = summarise_outcome(simulate_course(part(idx[:1000]), strategy), specs, 8)
    b = summarise_outcome(simulate_course(part(idx[1000:]), strategy), specs, 8)
    merged = a.merge(b)
    assert merged.n_patients == 3000
    np.testing.assert_array_equal(merged.cycle_counts, whole.cycle_counts)
    assert merged.stop_counts == whole.stop_counts
    assert merged.over_limit_counts == whole.over_limit_counts
    for q in whole.histograms:
        np.testing.assert_array_equal(merged.histograms[q], whole.histograms[q])
        assert merged.sums[q] == pytest.approx(whole.sums[q], rel=1e-12)
        assert merged.minima[q] == whole.minima[q]
        assert merged.maxima[q] == whole.maxima[q]
    assert merged.cycles_median == whole.cycles_median
    with pytest.raises(InvalidInputError, match="other"):
        a.merge(summarise_outcome(simulate_course(part(idx[:10]), fixed_course()), specs, 8))


def test_summary_statistics_of_the_fixed_course() -> None:
    # Fixed course: every patient 4 × 7.4 GBq = 29.6 GBq; kidney dose = Σ true D/A × 7.4 GBq.
    model = load_population_model()
    p = draw_patients(model, 2000, max_cycles=8, rng=np.random.default_rng(8))
    out = simulate_course(p, fixed_course())
    specs = histogram_specs(out.regions, BED_REGIONS, 8 * 7.4e9)
    s = summarise_outcome(out, specs, 8)
    d = s.to_dict()
    assert d["cycles"]["counts"] == {"4": 2000}
    assert d["stopped_by_limits_fraction"] == 0.0
    assert d["quantities"]["total_activity_bq"]["mean"] == pytest.approx(29.6e9, rel=1e-12)
    k = p.region_index("kidneys")
    kidney = (p.true_dose_per_activity_gy_per_bq[:, :4, k] * 7.4e9).sum(axis=1)
    assert d["quantities"]["kidneys_absorbed_dose_gy"]["mean"] == pytest.approx(
        kidney.mean(), rel=1e-12
    )
    assert d["quantities"]["kidneys_absorbed_dose_gy"]["sd"] == pytest.approx(
        kidney.std(ddof=1), rel=1e-9
    )
    assert d["true_dose_over_limit_fractions"]["kidneys.absorbed_dose"] == pytest.approx(
        (kidney > 23.0).mean()
    )
