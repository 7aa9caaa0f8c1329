"""Treatment planning: regimens, dated schedules, next-cycle decisions and radiation protection.

Modules
-------
``regimens``
    :class:`Regimen` and :data:`REGIMENS` (label, dosimetry-guided, re-treatment,
    tandem 90Y/177Lu, CAPTEM-PRRT, capecitabine, sandwich CAPTEM, 225Ac, 212Pb).
``schedule``
    :func:`plan_course`: dated cycles with premedication, supportive care, labs and imaging.
``next_cycle``
    :func:`decide_next_cycle`: the label's dose modification with the cumulative dose limits.
``contact``
    Dose-rate clearance and close-contact restriction periods.
``release``
    Patient release (10 CFR 35.75 / NUREG-1556; dose-rate limit) and the instruction sheet.
"""

from prrt.planning.contact import (
    ContactPattern,
    DoseRateClearance,
    Restriction,
    contact_restrictions,
    load_contact_patterns,
    restriction_period,
)
from prrt.planning.next_cycle import Action, NextCycleDecision, Reason, decide_next_cycle
from prrt.planning.regimens import REGIMENS, Intent, Regimen, body_surface_area_m2, get_regimen
from prrt.planning.release import (
    ARPANSA_DISCHARGE_LIMIT,
    DoseRateLimit,
    InstructionSheet,
    ReleaseAssessment,
    assess_release,
    instruction_sheet,
)
from prrt.planning.schedule import (
    AminoAcidProtocol,
    CoursePlan,
    EventKind,
    PatientFactors,
    PlannedCycle,
    ScheduledEvent,
    plan_course,
)

__all__ = [
    "ARPANSA_DISCHARGE_LIMIT",
    "REGIMENS",
    "Action",
    "AminoAcidProtocol",
    "ContactPattern",
    "CoursePlan",
    "DoseRateClearance",
    "DoseRateLimit",
    "EventKind",
    "InstructionSheet",
    "Intent",
    "NextCycleDecision",
    "PatientFactors",
    "PlannedCycle",
    "Reason",
    "Regimen",
    "ReleaseAssessment",
    "Restriction",
    "ScheduledEvent",
    "assess_release",
    "body_surface_area_m2",
    "contact_restrictions",
    "decide_next_cycle",
    "get_regimen",
    "instruction_sheet",
    "load_contact_patterns",
    "plan_course",
    "restriction_period",
]
