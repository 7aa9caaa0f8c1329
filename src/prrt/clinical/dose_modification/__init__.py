"""Lutathera dose modification across a course: the label's table as a state machine over cycles.

Implements clinical-rules.md §4.1–§4.4 (DOSE-1..3, MON-1, DMT-TABLE-US, CYC-ALGO)
with the reason codes of §10 and the ambiguities of §11 (1, 2, 3, 4, 8, 11) as
fields of :class:`DoseModificationSettings`:

* give 7.4 GBq every 8 (± 1) weeks, 4 administrations (DOSE-1);
* a dose-modifying toxicity (DMT) withholds the next dose until it resolves, the
  next dose is then 3.7 GBq (DOSE-2, CYC-2, CYC-3); after a reduced dose that did
  not reproduce a DMT the dose goes back to 7.4 GBq (CYC-4);
* stop permanently on a recurrent DMT of the same category, on a DMT still
  unresolved 16 weeks after the last dose, or on an interval beyond 16 weeks
  after a DMT (CYC-1); grade ≥ 3 hypersensitivity, pregnancy and MDS/AML stop the
  course as program policy (CYC-1);
* grade 3–4 lymphopenia alone is not dose-modifying;
* categories are tested with the numeric limits of the US label table taken from
  CTCAE v5.0 (§5.3), so that a CTCAE version switch cannot change dosing:

  ======================  =====================================================================
  THROMBOCYTOPENIA        platelets < 75 ×10^9/L
  ANAEMIA_NEUTROPENIA     Hb < 80 g/L or ANC < 1.0 ×10^9/L (+ WBC < 2.0 under ``EU_SMPC_2017``)
  RENAL                   Cockcroft–Gault CrCl (actual weight, rounded, §0.3) < 40.0 mL/min,
                          or creatinine ≥ 1.40 × baseline, or CrCl ≤ 0.60 × baseline CrCl
  HEPATIC                 bilirubin > 3 × ULN, or albumin < 30 g/L and prothrombin abnormal
                          (PT activity < 70 %, else INR > 1.5 when only the INR is known)
  OTHER_NONHAEMATOLOGICAL any other possibly related CTCAE grade ≥ 3 (clinician-graded
                          toxicities, and AST/ALT grade ≥ 3 graded from the laboratory values)
  ======================  =====================================================================

Missing data never gives a full dose.  Every criterion is evaluated in
three-valued (Kleene) logic; the rules are applied in order of severity (STOP,
WITHHOLD, REDUCE, FULL) and a level whose condition cannot be decided because an
input is missing stops the evaluation with :attr:`Decision.INDETERMINATE` and
the list of missing inputs.  A decision reached with missing inputs is therefore
the decision that every completion of the missing inputs would give.

Dates are :class:`datetime.date` (a timezone-aware :class:`datetime.datetime` is
converted to its UTC date; a naive one is refused); intervals are reported in
weeks (days ÷ 7, §0.2).

This is decision support, not clinical advice: a clinician must sign off every
threshold before clinical use.

Modules
-------
``categories``
    :class:`DmtCategory` and :class:`Decision` (§4.3, §10).
``limits``
    :data:`DMT_LIMITS`, the numeric limits from ``criteria/dmt_us_label.csv`` (§4.4).
``settings``
    :class:`DoseModificationSettings` and the readings of the ambiguity register (§11).
``lab_panel``
    :class:`LabPanel` (MON-1, §4.2).
``course``
    :class:`CourseBaseline`, :class:`Administration`, :class:`Episode`, :class:`CourseHistory`.
``assessment``
    :class:`Toxicity` and :class:`CycleAssessment` (MON-1, §4.2).
``cycle_decision``
    :class:`CycleDecision`, the result with its reason codes (§10).
``three_valued``
    Kleene logic and rule levels (internal).
``category_tests``
    The DMT category tests on laboratory values and toxicities (§4.3–§4.4, internal).
``decision``
    :func:`next_cycle_decision` (CYC-ALGO, §4.4).
``replay``
    :func:`replay_course` and :class:`CourseReplay`.

Every name is re-exported here: import from :mod:`prrt.clinical.dose_modification`.
"""

from __future__ import annotations

# Public names are listed in __all__.  Private helpers and the names the former single
# module imported (csv, Sex, ...) are re-exported with ``as`` so that code written
# against the single module keeps working.
import csv as csv
import math as math
from collections.abc import Callable as Callable
from collections.abc import Iterable as Iterable
from collections.abc import Mapping as Mapping
from collections.abc import Sequence as Sequence
from dataclasses import dataclass as dataclass
from dataclasses import fields as fields
from dataclasses import replace as replace
from datetime import UTC as UTC
from datetime import date as date
from datetime import datetime as datetime
from decimal import Decimal as Decimal
from enum import Enum as Enum
from importlib import resources as resources
from types import MappingProxyType as MappingProxyType
from typing import Any as Any

from prrt.clinical import ctcae as ctcae
from prrt.clinical.dose_modification._validation import _check_optional_bool as _check_optional_bool
from prrt.clinical.dose_modification._validation import (
    _check_optional_range as _check_optional_range,
)
from prrt.clinical.dose_modification._validation import _check_positive as _check_positive
from prrt.clinical.dose_modification._validation import _to_date as _to_date
from prrt.clinical.dose_modification.assessment import CycleAssessment, Toxicity
from prrt.clinical.dose_modification.assessment import _normalise_term as _normalise_term
from prrt.clinical.dose_modification.categories import Decision, DmtCategory
from prrt.clinical.dose_modification.category_tests import (
    _ANAEMIA_NEUTROPENIA_TERMS as _ANAEMIA_NEUTROPENIA_TERMS,
)
from prrt.clinical.dose_modification.category_tests import (
    _HYPERSENSITIVITY_TERMS as _HYPERSENSITIVITY_TERMS,
)
from prrt.clinical.dose_modification.category_tests import _LYMPHOCYTE_TERMS as _LYMPHOCYTE_TERMS
from prrt.clinical.dose_modification.category_tests import _PLATELET_TERMS as _PLATELET_TERMS
from prrt.clinical.dose_modification.category_tests import _WBC_TERMS as _WBC_TERMS
from prrt.clinical.dose_modification.category_tests import (
    _categories_from_panel as _categories_from_panel,
)
from prrt.clinical.dose_modification.category_tests import _Context as _Context
from prrt.clinical.dose_modification.category_tests import _crcl as _crcl
from prrt.clinical.dose_modification.category_tests import _Evaluator as _Evaluator
from prrt.clinical.dose_modification.category_tests import (
    _toxicity_categories as _toxicity_categories,
)
from prrt.clinical.dose_modification.category_tests import _transaminase as _transaminase
from prrt.clinical.dose_modification.course import (
    Administration,
    CourseBaseline,
    CourseHistory,
    Episode,
)
from prrt.clinical.dose_modification.cycle_decision import CycleDecision
from prrt.clinical.dose_modification.decision import DAYS_PER_WEEK, next_cycle_decision
from prrt.clinical.dose_modification.decision import _finish as _finish
from prrt.clinical.dose_modification.decision import _ge as _ge
from prrt.clinical.dose_modification.decision import _gt as _gt
from prrt.clinical.dose_modification.decision import _is_reduced as _is_reduced
from prrt.clinical.dose_modification.decision import _weeks_between as _weeks_between
from prrt.clinical.dose_modification.lab_panel import _PANEL_ANALYTE as _PANEL_ANALYTE
from prrt.clinical.dose_modification.lab_panel import _PANEL_TEXT_KEY as _PANEL_TEXT_KEY
from prrt.clinical.dose_modification.lab_panel import LabPanel
from prrt.clinical.dose_modification.limits import _DMT_FILE as _DMT_FILE
from prrt.clinical.dose_modification.limits import _DMT_ROWS as _DMT_ROWS
from prrt.clinical.dose_modification.limits import _SOURCE_ALGO as _SOURCE_ALGO
from prrt.clinical.dose_modification.limits import _SOURCE_TABLE as _SOURCE_TABLE
from prrt.clinical.dose_modification.limits import DMT_LIMITS, DmtLimits
from prrt.clinical.dose_modification.limits import _load_limits as _load_limits
from prrt.clinical.dose_modification.replay import CourseReplay, replay_course
from prrt.clinical.dose_modification.settings import (
    DEFAULT_SETTINGS,
    DoseModificationSettings,
    HypersensitivityAction,
    RecurrentReading,
    RenalResolution,
    SixteenWeekReading,
)
from prrt.clinical.dose_modification.three_valued import _FALSE as _FALSE
from prrt.clinical.dose_modification.three_valued import _OPS as _OPS
from prrt.clinical.dose_modification.three_valued import _all as _all
from prrt.clinical.dose_modification.three_valued import _any as _any
from prrt.clinical.dose_modification.three_valued import _dec as _dec
from prrt.clinical.dose_modification.three_valued import _fmt as _fmt
from prrt.clinical.dose_modification.three_valued import _level as _level
from prrt.clinical.dose_modification.three_valued import _merge as _merge
from prrt.clinical.dose_modification.three_valued import _policy as _policy
from prrt.clinical.dose_modification.three_valued import _Tri as _Tri
from prrt.clinical.dose_modification.three_valued import _Verdict as _Verdict
from prrt.clinical.dose_modification.three_valued import _with_fact as _with_fact
from prrt.clinical.labs import Analyte as Analyte
from prrt.clinical.labs import parse_lab as parse_lab
from prrt.clinical.labs import plausible_range as plausible_range
from prrt.clinical.outcome import RuleOutcome as RuleOutcome
from prrt.clinical.outcome import Status as Status
from prrt.clinical.renal import Sex as Sex
from prrt.clinical.renal import (
    creatinine_clearance_cockcroft_gault as creatinine_clearance_cockcroft_gault,
)
from prrt.errors import DataSourceError as DataSourceError
from prrt.errors import InvalidInputError as InvalidInputError
from prrt.errors import RuleError as RuleError

__all__ = [
    "DAYS_PER_WEEK",
    "DEFAULT_SETTINGS",
    "DMT_LIMITS",
    "Administration",
    "CourseBaseline",
    "CourseHistory",
    "CourseReplay",
    "CycleAssessment",
    "CycleDecision",
    "Decision",
    "DmtCategory",
    "DmtLimits",
    "DoseModificationSettings",
    "Episode",
    "HypersensitivityAction",
    "LabPanel",
    "RecurrentReading",
    "RenalResolution",
    "SixteenWeekReading",
    "Toxicity",
    "next_cycle_decision",
    "replay_course",
]
