"""RECIST 1.1 vocabulary: lesion classes, lesion states and responses (clinical-rules.md §7.1, §10).

The measurement modality and baseline class of a lesion (REC-MEAS), the states of
target and non-target lesions at follow-up (REC-TARGET, REC-NT), new lesions
(REC-NEW) and the responses CR/PR/SD/PD/NE/Non-CR-Non-PD of §10; with the 5 mm
default of a target too small to measure and the single lymph-node organ.
"""

from __future__ import annotations

from enum import Enum

__all__ = [
    "LYMPH_NODE_ORGAN",
    "TOO_SMALL_TO_MEASURE_MM",
    "LesionClass",
    "Modality",
    "NewLesions",
    "NonTargetState",
    "RecistResponse",
    "TargetState",
]


#: Default size of a target too small to measure but still visible (RECIST 1.1 §3.3) [R].
TOO_SMALL_TO_MEASURE_MM = 5.0
#: All lymph nodes together count as one organ for target selection (RECIST 1.1).
LYMPH_NODE_ORGAN = "lymph node"
_SOURCE = "RECIST 1.1 (Eisenhauer et al., Eur J Cancer 2009;45:228-247), clinical-rules.md §7.1"


class Modality(str, Enum):
    """How a baseline lesion was measured (REC-MEAS)."""

    CT_MRI = "ct_mri"
    CHEST_XRAY = "chest_xray"
    CALLIPER = "calliper"


class LesionClass(str, Enum):
    """Baseline class of a lesion (REC-MEAS)."""

    MEASURABLE = "measurable"
    NON_MEASURABLE = "non_measurable"  # followed as non-target (includes nodes 10 to < 15 mm)
    NORMAL_NODE = "normal_node"  # node < 10 mm short axis: not recorded


class RecistResponse(str, Enum):
    """RECIST 1.1 responses (clinical-rules.md §10)."""

    CR = "CR"
    PR = "PR"
    SD = "SD"
    PD = "PD"
    NE = "NE"
    NON_CR_NON_PD = "NON_CR_NON_PD"


class NewLesions(str, Enum):
    """New lesions at a time point (REC-NEW)."""

    NONE = "none"
    EQUIVOCAL = "equivocal"  # keep assessing; PD dates from this scan if confirmed later
    UNEQUIVOCAL = "unequivocal"


class TargetState(str, Enum):
    """State of a target lesion at follow-up."""

    MEASURED = "measured"
    TOO_SMALL_TO_MEASURE = "too_small_to_measure"  # counts 5 mm
    DISAPPEARED = "disappeared"  # counts 0 mm
    NOT_EVALUATED = "not_evaluated"


class NonTargetState(str, Enum):
    """State of a non-target lesion at follow-up (REC-NT)."""

    ABSENT = "absent"
    PRESENT = "present"
    UNEQUIVOCAL_PROGRESSION = "unequivocal_progression"
    NOT_EVALUATED = "not_evaluated"
