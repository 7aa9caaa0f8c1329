"""Property tests of prrt.clinical.dose_modification.

* Removing an input never turns a STOP, WITHHOLD or INDETERMINATE into a dose, and never changes a
  decision into another definite one: a decision reached with missing data is the decision every
  completion of the data gives (three-valued logic, clinical-rules.md §4.4).
* A worse laboratory value never gives a milder decision.
"""

from __future__ import annotations

from dataclasses import fields, replace
from datetime import date, timedelta

from hypothesis import given
from hypothesis import strategies as st

from prrt.clinical.dose_modification import (
    Administration,
    CourseBaseline,
    CourseHistory,
    CycleAssessment,
    Decision,
    DmtCategory,
    Episode,
    LabPanel,
    Toxicity,
    next_cycle_decision,
)
from prrt.clinical.renal import Sex

DAY0 = date(2026, 1, 5)
SEVERITY = {Decision.FULL: 0, Decision.REDUCE: 1, Decision.WITHHOLD: 2, Decision.STOP: 3}


def _near(*edges, low, high):
    """Values close to the rule edges plus the whole range."""
    return st.one_of(
        st.sampled_from(edges),
        st.floats(min_value=low, max_value=high, allow_nan=False),
    )


@st.composite
def panels(draw):
    return LabPanel(
        haemoglobin_g_per_l=draw(_near(79.9, 80.0, 80.1, low=50.0, high=160.0)),
        platelets_10e9_per_l=draw(_near(74.9, 75.0, 75.1, low=10.0, high=400.0)),
        neutrophils_10e9_per_l=draw(_near(0.99, 1.0, 1.01, low=0.2, high=8.0)),
        lymphocytes_10e9_per_l=draw(_near(0.1, 0.5, low=0.05, high=4.0)),
        white_cells_10e9_per_l=draw(_near(1.9, 2.0, low=0.5, high=12.0)),
        creatinine_umol_per_l=draw(_near(88.4, 123.76, 176.8, low=40.0, high=300.0)),
        bilirubin_umol_per_l=draw(_near(59.9, 60.0, 60.1, low=2.0, high=120.0)),
        bilirubin_uln_umol_per_l=20.0,
        albumin_g_per_l=draw(_near(29.9, 30.0, low=15.0, high=50.0)),
        prothrombin_percent=draw(st.one_of(st.none(), _near(69.9, 70.0, low=30.0, high=120.0))),
        inr=draw(_near(1.5, 1.51, low=0.8, high=3.0)),
        ast_u_per_l=draw(_near(200.0, 200.1, low=10.0, high=400.0)),
        ast_uln_u_per_l=40.0,
        alt_u_per_l=draw(_near(200.0, 200.1, low=10.0, high=400.0)),
        alt_uln_u_per_l=40.0,
    )


@st.composite
def situations(draw):
    baseline = CourseBaseline(
        draw(st.sampled_from(list(Sex))),
        LabPanel(
            creatinine_umol_per_l=draw(st.floats(min_value=50.0, max_value=130.0)), ast_u_per_l=25.0
        ),
        weight_kg=70.0,
        age_years=60.0,
    )
    doses = draw(st.integers(min_value=1, max_value=3))
    gaps = [draw(st.integers(min_value=49, max_value=120)) for _ in range(doses - 1)]
    days = [0]
    for gap in gaps:
        days.append(days[-1] + gap)
    activities = [draw(st.sampled_from([7.4e9, 3.7e9])) for _ in range(doses)]
    admins = tuple(
        Administration(i + 1, DAY0 + timedelta(days=d), a)
        for i, (d, a) in enumerate(zip(days, activities, strict=True))
    )
    episodes = tuple(
        Episode(c, k)
        for k in range(1, doses)
        for c in draw(st.sets(st.sampled_from(list(DmtCategory)), max_size=2))
    )
    history = CourseHistory(baseline, admins, episodes)
    toxicities = tuple(
        Toxicity(term, worst, draw(st.integers(min_value=0, max_value=worst)))
        for term, worst in draw(
            st.lists(
                st.tuples(
                    st.sampled_from(
                        ["vomiting", "nausea", "anaphylaxis", "lymphopenia", "fatigue"]
                    ),
                    st.integers(min_value=0, max_value=4),
                ),
                max_size=2,
            )
        )
    )
    worst = draw(panels())
    current = draw(panels())
    day = days[-1] + draw(st.integers(min_value=45, max_value=130))
    assessment = CycleAssessment(
        DAY0 + timedelta(days=day),
        current,
        worst_since_last_dose=worst,
        weight_kg=draw(st.floats(min_value=40.0, max_value=110.0)),
        age_years=60.0,
        toxicities=toxicities,
        pregnant=draw(st.sampled_from([False, False, False, True])),
        mds_or_aml=draw(st.sampled_from([False, False, False, True])),
    )
    return history, assessment


LAB_FIELDS = [f.name for f in fields(LabPanel) if "_uln_" not in f.name]
TOP_FIELDS = ["worst_since_last_dose", "weight_kg", "toxicities", "pregnant", "mds_or_aml"]


@st.composite
def removals(draw):
    return (
        draw(st.sets(st.sampled_from(LAB_FIELDS), max_size=4)),
        draw(st.sets(st.sampled_from(LAB_FIELDS), max_size=4)),
        draw(st.sets(st.sampled_from(TOP_FIELDS), max_size=2)),
    )


def _remove(assessment, removal):
    from_current, from_worst, top = removal
    labs = replace(assessment.labs, **dict.fromkeys(from_current))
    worst = replace(assessment.worst_since_last_dose, **dict.fromkeys(from_worst))
    result = replace(assessment, labs=labs, worst_since_last_dose=worst)
    return replace(result, **dict.fromkeys(top))


BASELINE_FIELDS = ["creatinine_umol_per_l", "ast_u_per_l", "weight_kg", "age_years"]


def _remove_baseline(history, names):
    baseline = history.baseline
    labs = replace(
        baseline.labs, **{n: None for n in names if n in ("creatinine_umol_per_l", "ast_u_per_l")}
    )
    baseline = replace(
        baseline, labs=labs, **{n: None for n in names if n in ("weight_kg", "age_years")}
    )
    return replace(history, baseline=baseline)


@given(situations(), removals(), st.sets(st.sampled_from(BASELINE_FIELDS), max_size=2))
def test_removing_inputs_never_turns_a_decision_into_a_different_definite_one(
    situation, removal, dropped
):
    history, assessment = situation
    full = next_cycle_decision(history, assessment)
    partial = next_cycle_decision(_remove_baseline(history, dropped), _remove(assessment, removal))
    if partial.decision is not Decision.INDETERMINATE:
        assert partial.decision is full.decision
        assert partial.activity_bq == full.activity_bq
    if not full.gives_dose:
        assert not partial.gives_dose
    if partial.decision is Decision.INDETERMINATE:
        assert partial.missing
        assert partial.activity_bq is None


@given(
    situations(),
    st.floats(min_value=10.0, max_value=400.0),
    st.floats(min_value=10.0, max_value=400.0),
)
def test_lower_platelets_never_give_a_milder_decision(situation, a, b):
    history, assessment = situation
    high, low = max(a, b), min(a, b)
    decisions = []
    for value in (high, low):
        current = replace(assessment, labs=replace(assessment.labs, platelets_10e9_per_l=value))
        decisions.append(next_cycle_decision(history, current).decision)
    if all(d in SEVERITY for d in decisions):
        assert SEVERITY[decisions[1]] >= SEVERITY[decisions[0]]
