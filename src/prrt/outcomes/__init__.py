"""Outcomes and evidence: cohort survival, response rates, meta-analysis, IPD reconstruction, evidence base, trial matching.

Modules
-------
:mod:`~prrt.outcomes.cohort`
    Cohort records from CSV or plain records/data frames (documented columns, units in names).
:mod:`~prrt.outcomes.survival`, :mod:`~prrt.outcomes.cox`
    Kaplan–Meier with confidence intervals, medians, landmark rates, reverse-KM follow-up,
    RMST, log-rank test; Cox models (lifelines).
:mod:`~prrt.outcomes.rates`
    ORR/DCR with exact Clopper–Pearson intervals.
:mod:`~prrt.outcomes.meta`
    Fixed/random-effects pooling (statsmodels), single proportions on the logit,
    Freeman–Tukey or arcsine scale.
:mod:`~prrt.outcomes.ipd`
    Guyot et al. (2012) reconstruction of patient data from digitised KM curves.
:mod:`~prrt.outcomes.evidence`
    The seed review's results, its Table 1 trials with later results, and flags.
:mod:`~prrt.outcomes.trial_matching`
    Criteria of every trial met, failed or undecided for a patient case.
:mod:`~prrt.outcomes.analysis`
    Everything ``prrt cohort analyze`` reports, as one result object.

The names below are re-exported lazily (importing :mod:`prrt.outcomes` does not load
lifelines or statsmodels until a name that needs them is used).  User documentation:
``docs/outcomes.md``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from prrt.outcomes.analysis import CohortAnalysis, ReferenceCurve, analyze_cohort
    from prrt.outcomes.cohort import (
        Cohort,
        CohortPatient,
        Endpoint,
        cohort_from_frame,
        cohort_from_records,
        read_cohort_csv,
    )
    from prrt.outcomes.cox import CoxResult, cox_model
    from prrt.outcomes.evidence import EvidenceBase, load_evidence
    from prrt.outcomes.ipd import ReconstructedIpd, reconstruct_ipd
    from prrt.outcomes.meta import (
        BackTransformWarning,
        ProportionTransform,
        StudyProportion,
        combine_effects,
        pool_proportions,
    )
    from prrt.outcomes.rates import clopper_pearson, response_rates
    from prrt.outcomes.survival import (
        ConfidenceMethod,
        SurvivalCurve,
        kaplan_meier,
        log_rank_test,
        median_follow_up,
        restricted_mean_survival_time,
    )
    from prrt.outcomes.trial_matching import match_trials

_EXPORTS: dict[str, str] = {
    "CohortAnalysis": "analysis",
    "ReferenceCurve": "analysis",
    "analyze_cohort": "analysis",
    "Cohort": "cohort",
    "CohortPatient": "cohort",
    "Endpoint": "cohort",
    "cohort_from_frame": "cohort",
    "cohort_from_records": "cohort",
    "read_cohort_csv": "cohort",
    "CoxResult": "cox",
    "cox_model": "cox",
    "EvidenceBase": "evidence",
    "load_evidence": "evidence",
    "ReconstructedIpd": "ipd",
    "reconstruct_ipd": "ipd",
    "BackTransformWarning": "meta",
    "ProportionTransform": "meta",
    "StudyProportion": "meta",
    "combine_effects": "meta",
    "pool_proportions": "meta",
    "clopper_pearson": "rates",
    "response_rates": "rates",
    "ConfidenceMethod": "survival",
    "SurvivalCurve": "survival",
    "kaplan_meier": "survival",
    "log_rank_test": "survival",
    "median_follow_up": "survival",
    "restricted_mean_survival_time": "survival",
    "match_trials": "trial_matching",
}

__all__ = [
    "BackTransformWarning",
    "Cohort",
    "CohortAnalysis",
    "CohortPatient",
    "ConfidenceMethod",
    "CoxResult",
    "Endpoint",
    "EvidenceBase",
    "ProportionTransform",
    "ReconstructedIpd",
    "ReferenceCurve",
    "StudyProportion",
    "SurvivalCurve",
    "analyze_cohort",
    "clopper_pearson",
    "cohort_from_frame",
    "cohort_from_records",
    "combine_effects",
    "cox_model",
    "kaplan_meier",
    "load_evidence",
    "log_rank_test",
    "match_trials",
    "median_follow_up",
    "pool_proportions",
    "read_cohort_csv",
    "reconstruct_ipd",
    "response_rates",
    "restricted_mean_survival_time",
]


def __getattr__(name: str) -> Any:
    """Import a re-exported name from its module on first use."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'prrt.outcomes' has no attribute {name!r}")
    return getattr(importlib.import_module(f"prrt.outcomes.{module}"), name)


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
