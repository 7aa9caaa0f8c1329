"""Tumour response: RECIST 1.1 (complete) and PERCIST 1.0 basics.

Implements clinical-rules.md §7:

* §7.1 RECIST 1.1 (Eisenhauer EA et al., Eur J Cancer 2009;45:228–247,
  doi:10.1016/j.ejca.2008.10.026): measurability at baseline (REC-MEAS), target
  and non-target selection with at most 5 targets and 2 per organ, lymph-node
  short axes in the sum (REC-TARGET), target response CR/PR/SD/PD with the
  nadir and the 5 mm absolute rule, non-target response (REC-NT), new lesions
  (REC-NEW), the time-point table (REC-OVERALL) and the best overall response
  with or without confirmation (REC-BOR);
* §7.2 PERCIST 1.0 (Wahl RL et al., J Nucl Med 2009;50 Suppl 1:122S–150S,
  doi:10.2967/jnumed.108.057307; O JH, Lodge MA, Wahl RL, Radiology 2016;280:576–584):
  measurability (PER-2), technical consistency between scans (PER-2) and the
  CMR/PMR/SMD/PMD categories (PER-3).

Sizes are in mm, SUL values are dimensionless; dates are :class:`datetime.date`.
Comparisons use exact decimal arithmetic on the values as entered, so that a
value exactly on a threshold (a 30.0 % fall, a 20.0 % rise) lands where the rule
puts it.  PERCIST is an FDG method: SSTR PET changes are to be reported
descriptively (clinical-rules.md §7.2).

Modules
-------
``recist_categories``
    Enumerations and constants of RECIST 1.1 (§7.1, §10).
``recist_baseline``
    :class:`BaselineLesion`, :func:`classify_lesion`, :class:`RecistBaseline`,
    :func:`select_baseline` (REC-MEAS, REC-TARGET).
``recist_followup``
    :class:`TargetMeasurement`, :class:`NonTargetObservation`, :class:`TimePoint`,
    :class:`TimePointResponse`, :func:`new_lesion_from_fdg_pet` (REC-NT, REC-NEW).
``recist_timepoint``
    :func:`assess_time_point`, :func:`assess_time_points` (REC-OVERALL).
``recist_best``
    :class:`BestOverallResponse`, :func:`best_overall_response` (REC-BOR).
``percist``
    PERCIST 1.0 measurability, consistency and categories (§7.2).

Every name is re-exported here: import from :mod:`prrt.clinical.response`.
"""

from __future__ import annotations

# Public names are listed in __all__.  Private helpers and the names the former single
# module imported are re-exported with ``as`` so that code written against the single
# module keeps working.
import calendar as calendar
import math as math
from collections.abc import Sequence as Sequence
from dataclasses import dataclass as dataclass
from dataclasses import replace as replace
from datetime import date as date
from datetime import datetime as datetime
from decimal import Decimal as Decimal
from enum import Enum as Enum
from typing import Any as Any

from prrt.clinical.response._validation import _dec as _dec
from prrt.clinical.response._validation import _size as _size
from prrt.clinical.response._validation import _text as _text
from prrt.clinical.response._validation import _to_date as _to_date
from prrt.clinical.response.percist import (
    PercistAssessment,
    PercistConsistency,
    PercistResponse,
    percist_consistency,
    percist_measurability_threshold,
    percist_response,
)
from prrt.clinical.response.percist import _sul as _sul
from prrt.clinical.response.recist_baseline import (
    BaselineLesion,
    RecistBaseline,
    classify_lesion,
    select_baseline,
)
from prrt.clinical.response.recist_best import BestOverallResponse, best_overall_response
from prrt.clinical.response.recist_best import _add_months as _add_months
from prrt.clinical.response.recist_categories import _SOURCE as _SOURCE
from prrt.clinical.response.recist_categories import (
    LYMPH_NODE_ORGAN,
    TOO_SMALL_TO_MEASURE_MM,
    LesionClass,
    Modality,
    NewLesions,
    NonTargetState,
    RecistResponse,
    TargetState,
)
from prrt.clinical.response.recist_followup import (
    NonTargetObservation,
    TargetMeasurement,
    TimePoint,
    TimePointResponse,
    new_lesion_from_fdg_pet,
)
from prrt.clinical.response.recist_timepoint import _non_target as _non_target
from prrt.clinical.response.recist_timepoint import _overall as _overall
from prrt.clinical.response.recist_timepoint import _pct as _pct
from prrt.clinical.response.recist_timepoint import _target_sizes as _target_sizes
from prrt.clinical.response.recist_timepoint import assess_time_point, assess_time_points
from prrt.errors import InvalidInputError as InvalidInputError

__all__ = [
    "LYMPH_NODE_ORGAN",
    "TOO_SMALL_TO_MEASURE_MM",
    "BaselineLesion",
    "BestOverallResponse",
    "LesionClass",
    "Modality",
    "NewLesions",
    "NonTargetObservation",
    "NonTargetState",
    "PercistAssessment",
    "PercistConsistency",
    "PercistResponse",
    "RecistBaseline",
    "RecistResponse",
    "TargetMeasurement",
    "TargetState",
    "TimePoint",
    "TimePointResponse",
    "assess_time_point",
    "assess_time_points",
    "best_overall_response",
    "classify_lesion",
    "new_lesion_from_fdg_pet",
    "percist_consistency",
    "percist_measurability_threshold",
    "percist_response",
    "select_baseline",
]
