"""Dose-modifying toxicity categories and next-cycle decisions (clinical-rules.md §4.3, §4.4, §10).

:class:`DmtCategory` lists the categories of the US label table (DMT-TABLE-US,
§4.3); :class:`Decision` the outcomes of the next-cycle algorithm (CYC-ALGO, §4.4)
in the vocabulary of §10, plus INDETERMINATE when data are missing.
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "Decision",
    "DmtCategory",
]


class DmtCategory(str, Enum):
    """Dose-modifying toxicity categories of the label table (clinical-rules.md §4.3, §10)."""

    THROMBOCYTOPENIA = "THROMBOCYTOPENIA"
    ANAEMIA_NEUTROPENIA = "ANAEMIA_NEUTROPENIA"
    RENAL = "RENAL"
    HEPATIC = "HEPATIC"
    OTHER_NONHAEMATOLOGICAL = "OTHER_NONHAEMATOLOGICAL"


class Decision(str, Enum):
    """Next-cycle decisions of clinical-rules.md §10, plus INDETERMINATE for missing data."""

    FULL = "FULL_7.4_GBQ"
    REDUCE = "REDUCE_3.7_GBQ"
    WITHHOLD = "WITHHOLD"
    STOP = "STOP"
    COURSE_COMPLETE = "COURSE_COMPLETE"
    #: Data are missing: no dose can be decided (never a full dose); see ``missing``.
    INDETERMINATE = "INDETERMINATE_DATA_MISSING"
