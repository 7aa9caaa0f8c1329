"""Whole-cohort analysis on the shipped synthetic demo cohort and on small constructed cohorts."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from prrt.errors import InvalidInputError
from prrt.outcomes.analysis import ReferenceCurve, analyze_cohort
from prrt.outcomes.cohort import Endpoint, cohort_from_records, read_cohort_csv
from prrt.outcomes.ipd import read_at_risk_csv, read_digitised_curve_csv, reconstruct_ipd
from prrt.outcomes.survival import kaplan_meier

ROOT = Path(__file__).resolve().parents[3]
DEMO = ROOT / "examples" / "cohort" / "demo_cohort.csv"


@pytest.fixture(scope="module")
def demo():  # type: ignore[no-untyped-def]
    return read_cohort_csv(DEMO.read_text(encoding="utf-8"), source="demo_cohort.csv")


@pytest.fixture(scope="module")
def analysis(demo):  # type: ignore[no-untyped-def]
    return analyze_cohort(demo, covariates=("ki67_percent",))


def test_demo_cohort_shape(demo) -> None:  # type: ignore[no-untyped-def]
    assert len(demo) == 100
    assert demo.arms == ("lu177_dotatate", "octreotide_lar")
    assert "primary_site" in demo.covariate_names
    assert "ki67_percent" in demo.numeric_covariates


def test_survival_results_agree_with_direct_estimates(demo, analysis) -> None:  # type: ignore[no-untyped-def]
    pfs = analysis.endpoint(Endpoint.PFS)
    t, e, _ = demo.endpoint_data(Endpoint.PFS, "lu177_dotatate")
    direct = kaplan_meier(t, e)
    assert pfs.curve("lu177_dotatate").median_months == direct.median_months
    assert pfs.log_rank is not None
    assert pfs.log_rank.df == 1
    assert pfs.cox_reference_arm == "octreotide_lar"
    assert [t.name for t in pfs.cox.terms] == ["arm[lu177_dotatate]", "ki67_percent"]
    # default τ: the shortest of the arms' last follow-up times
    assert pfs.rmst[0].tau_months == min(c.max_time_months for c in pfs.curves)
    assert pfs.rmst_difference.first.label == "lu177_dotatate"
    landmarks = dict(pfs.landmarks)
    assert [r.time_months for r in landmarks["lu177_dotatate"]] == [12.0, 20.0, 24.0]


def test_response_and_plots_data(analysis) -> None:  # type: ignore[no-untyped-def]
    lu = next(r for r in analysis.response if r.label == "lu177_dotatate")
    assert lu.n_assessed == 60
    assert lu.orr is not None
    changes = [r["best_percent_change"] for r in analysis.waterfall]
    assert changes == sorted(changes, reverse=True)
    assert len(analysis.swimmer) == 100
    retreated = [s for s in analysis.swimmer if s["retreatment_start_months"] is not None]
    assert retreated
    assert all(s["arm"] == "lu177_dotatate" for s in retreated)


def test_benchmarks_carry_values_sources_and_flags(analysis) -> None:  # type: ignore[no-untyped-def]
    rows = {(b["trial"], b["endpoint"], b["measure"]): b for b in analysis.benchmarks}
    netter1 = rows[("NETTER-1", "pfs", "rate_percent_at_20")]
    assert netter1["published"] == 65.2
    assert netter1["published_ci"] == [50.0, 76.8]
    assert "ref [10]" in netter1["source"]
    assert rows[("NETTER-2", "pfs", "median_months")]["published"] == 22.8
    assert "F12" in rows[("COMPETE", "pfs", "median_months")]["flags"]  # secondary reporting
    occ = rows[("OCCLURANDOM", "pfs", "rate_percent_at_12")]
    assert occ["published_ci_level"] == 0.90
    assert occ["published_ci"] == [67.5, 89.9]
    assert netter1["local_arm"] == "lu177_dotatate"
    assert netter1["local"] is not None


def test_json_is_strict(analysis) -> None:  # type: ignore[no-untyped-def]
    from prrt.adapters.reports.cohort_report import jsonable

    text = json.dumps(jsonable(analysis.to_dict()), allow_nan=False)
    assert json.loads(text)["n_patients"] == 100


def test_reference_curve_overlay(demo) -> None:  # type: ignore[no-untyped-def]
    folder = ROOT / "examples" / "cohort"
    ct, cs = read_digitised_curve_csv((folder / "synthetic_published_pfs_curve.csv").read_text())
    rt, nr = read_at_risk_csv((folder / "synthetic_published_pfs_at_risk.csv").read_text())
    ipd = reconstruct_ipd(ct, cs, rt, nr, label="synthetic")
    res = analyze_cohort(demo, references=[ReferenceCurve(Endpoint.PFS, ipd)])
    (ref,) = res.references
    assert ref.curve.n == 116
    assert ref.local_arm == "lu177_dotatate"
    assert ref.cox is not None
    assert ref.log_rank.groups == ("local lu177_dotatate", "synthetic")


def test_single_arm_cohort_has_no_comparison() -> None:
    rng = np.random.default_rng(2)
    rows = [
        {"patient_id": f"p{i}", "os_months": float(t), "os_event": 1}
        for i, t in enumerate(rng.exponential(20, 25))
    ]
    res = analyze_cohort(cohort_from_records(rows))
    os_ = res.endpoint(Endpoint.OS)
    assert os_.log_rank is None
    assert os_.cox is None
    assert os_.rmst_difference is None
    assert res.endpoint(Endpoint.PFS) is None
    assert res.response[0].orr is None


def test_bad_options(demo) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InvalidInputError, match="one of the arms"):
        analyze_cohort(demo, reference_arm="placebo")
    with pytest.raises(InvalidInputError, match="numeric covariate"):
        analyze_cohort(demo, covariates=("primary_site",))
    with pytest.raises(InvalidInputError, match="landmark"):
        analyze_cohort(demo, landmarks_months=(0.0,))
