"""Release of the patient after a therapy cycle, and the patient's instruction sheet.

US NRC (10 CFR 35.75, NUREG-1556 Vol. 9 Appendix U / RG 8.39 point-source
method, clinical-rules.md REL-1..REL-3): the dose to the most exposed
individual is D(∞) = 24 h/d × 1.44 × T½(d) × E × Ḋ(1 m) with occupancy
E = 0.25 for T½ > 1 day (1.0 otherwise).  Releasable when D(∞) ≤ 5 mSv;
written instructions when D(∞) > 1 mSv (for 177Lu: 87 and 17.4 µSv/h at 1 m).
A patient-specific variant integrates the fitted clearance instead of the
physical half-life (REL-1: the basis is recorded).

EU-style (REL-4, REL-6): a configurable dose-rate limit at a distance (the
default, 25 µSv/h at 1 m, is the discharge level coded in ``dorn``, attributed
to ARPANSA RPS 4); other distances are converted by (1 m/d)^1.5.

The instruction sheet (:func:`instruction_sheet`) lists the restriction periods
with their end dates and the label's rules (RP-2..RP-5).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from prrt.errors import InvalidInputError
from prrt.physics import get_nuclide
from prrt.planning.contact import DoseRateClearance, Restriction

__all__ = [
    "ARPANSA_DISCHARGE_LIMIT",
    "NRC_INSTRUCTION_LIMIT_MSV",
    "NRC_RELEASE_LIMIT_MSV",
    "DoseRateLimit",
    "InstructionSheet",
    "ReleaseAssessment",
    "assess_release",
    "instruction_sheet",
]

NRC_RELEASE_LIMIT_MSV = 5.0
NRC_INSTRUCTION_LIMIT_MSV = 1.0
_NRC_SOURCE = (
    "10 CFR 35.75; NUREG-1556 Vol. 9 App. U / RG 8.39 eq. 1 (clinical-rules.md REL-1..REL-3)"
)


@dataclass(frozen=True, slots=True)
class DoseRateLimit:
    """A release limit on the dose rate at a distance from the patient."""

    name: str
    limit_usv_per_h: float
    distance_m: float
    source: str

    def __post_init__(self) -> None:
        if not (math.isfinite(self.limit_usv_per_h) and self.limit_usv_per_h > 0):
            raise InvalidInputError(
                "release_limit.limit_usv_per_h", self.limit_usv_per_h, "a positive dose rate"
            )
        if not (0.5 <= self.distance_m <= 5.0):
            raise InvalidInputError(
                "release_limit.distance_m", self.distance_m, "a distance in m between 0.5 and 5"
            )

    @property
    def at_1m_usv_per_h(self) -> float:
        """The equivalent limit on the dose rate at 1 m (inverse 1.5 power of distance)."""
        return float(self.limit_usv_per_h * self.distance_m**1.5)


#: Discharge when the dose rate at 1 m is ≤ 25 µSv/h (dorn / ARPANSA RPS 4, clinical-rules.md REL-6).
ARPANSA_DISCHARGE_LIMIT = DoseRateLimit(
    "ARPANSA RPS 4 (as coded in dorn)",
    25.0,
    1.0,
    "clinical-rules.md REL-6 [V in code, R for RPS 4]",
)


@dataclass(frozen=True, slots=True)
class ReleaseAssessment:
    """Release decision of one cycle.

    Attributes
    ----------
    measured_at
        Time of the dose-rate reading (or of the prediction).
    dose_rate_1m_usv_per_h
        Dose rate at 1 m at that time.
    nrc_dose_msv
        NUREG point-source dose to the most exposed individual (physical half-life).
    patient_specific_dose_msv
        Same with the clearance curve (occupancy E) instead of the physical half-life.
    releasable_nrc, instructions_required
        10 CFR 35.75(a) and (b).
    dose_rate_limit, releasable_dose_rate, release_time
        The configured dose-rate limit, whether met at ``measured_at``, and when
        the clearance curve meets it.
    basis
        What the decision rests on (recorded per 10 CFR 35.2075).
    """

    measured_at: datetime
    dose_rate_1m_usv_per_h: float
    nrc_dose_msv: float
    patient_specific_dose_msv: float
    releasable_nrc: bool
    instructions_required: bool
    dose_rate_limit: DoseRateLimit
    releasable_dose_rate: bool
    release_time: datetime
    occupancy: float
    basis: str
    source: str = _NRC_SOURCE

    @property
    def releasable(self) -> bool:
        """Releasable under both the NRC criterion and the configured dose-rate limit."""
        return self.releasable_nrc and self.releasable_dose_rate

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "measured_at": self.measured_at.isoformat(),
            "dose_rate_1m_usv_per_h": self.dose_rate_1m_usv_per_h,
            "nrc_dose_msv": self.nrc_dose_msv,
            "patient_specific_dose_msv": self.patient_specific_dose_msv,
            "releasable_nrc": self.releasable_nrc,
            "instructions_required": self.instructions_required,
            "dose_rate_limit": {
                "name": self.dose_rate_limit.name,
                "limit_usv_per_h": self.dose_rate_limit.limit_usv_per_h,
                "distance_m": self.dose_rate_limit.distance_m,
                "source": self.dose_rate_limit.source,
            },
            "releasable_dose_rate": self.releasable_dose_rate,
            "release_time": self.release_time.isoformat(),
            "releasable": self.releasable,
            "occupancy": self.occupancy,
            "basis": self.basis,
            "source": self.source,
        }


def assess_release(
    clearance: DoseRateClearance,
    administered_at: datetime,
    measured_at: datetime,
    *,
    nuclide: str = "Lu-177",
    dose_rate_limit: DoseRateLimit = ARPANSA_DISCHARGE_LIMIT,
) -> ReleaseAssessment:
    """Assess release at ``measured_at`` from the clearance curve (measured or predicted).

    Examples
    --------
    7.4 GBq predicted at 3.7 µSv/h/GBq: NUREG dose ≈ 57.5 h × 27.4 µSv/h ≈ 1.57 mSv:
    releasable, instructions required (REL-3).

    >>> from datetime import datetime, timezone
    >>> t0 = datetime(2026, 3, 2, 9, tzinfo=timezone.utc)
    >>> r = assess_release(DoseRateClearance.from_activity(7.4e9), t0, t0)
    >>> round(r.nrc_dose_msv, 2), r.releasable_nrc, r.instructions_required
    (1.57, True, True)
    """
    for name, value in (("administered_at", administered_at), ("measured_at", measured_at)):
        if not isinstance(value, datetime) or value.utcoffset() is None:
            raise InvalidInputError(name, value, "a date and time with a UTC offset")
    t_h = (measured_at - administered_at).total_seconds() / 3600.0
    if t_h < 0:
        raise InvalidInputError(
            "measured_at",
            measured_at.isoformat(),
            f"a time on or after the administration ({administered_at.isoformat()})",
        )
    half_life_d = get_nuclide(nuclide).half_life_s / 86400.0
    occupancy = 0.25 if half_life_d > 1.0 else 1.0
    rate = clearance.dose_rate_usv_per_h(t_h)
    nrc_usv = 24.0 * 1.44 * half_life_d * occupancy * rate
    specific_usv = occupancy * clearance.dose_usv(t_h, math.inf)
    release_h = max(t_h, clearance.time_to_dose_rate_h(dose_rate_limit.at_1m_usv_per_h))
    return ReleaseAssessment(
        measured_at=measured_at,
        dose_rate_1m_usv_per_h=rate,
        nrc_dose_msv=nrc_usv / 1000.0,
        patient_specific_dose_msv=specific_usv / 1000.0,
        releasable_nrc=nrc_usv / 1000.0 <= NRC_RELEASE_LIMIT_MSV,
        instructions_required=nrc_usv / 1000.0 > NRC_INSTRUCTION_LIMIT_MSV,
        dose_rate_limit=dose_rate_limit,
        releasable_dose_rate=rate <= dose_rate_limit.at_1m_usv_per_h,
        release_time=administered_at + timedelta(hours=release_h),
        occupancy=occupancy,
        basis=clearance.basis,
    )


@dataclass(frozen=True, slots=True)
class InstructionSheet:
    """A printable patient instruction sheet: a title and sections of items."""

    title: str
    sections: tuple[tuple[str, tuple[str, ...]], ...]

    def to_text(self) -> str:
        """Plain text with headings and bullets."""
        lines = [self.title, "=" * len(self.title)]
        for heading, items in self.sections:
            lines += ["", heading, "-" * len(heading)]
            lines += [f"* {item}" for item in items]
        return "\n".join(lines) + "\n"

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "title": self.title,
            "sections": [{"heading": h, "items": list(i)} for h, i in self.sections],
        }


_GROUP_WORDS = {
    "partner": "Partner (sleeping in the same bed, daytime close contact)",
    "child_under_2": "Children under 2 years (holding, feeding, caring)",
    "child_2_to_5": "Children 2–5 years (close contact over 15 minutes)",
    "child_5_to_15": "Children 5–15 years (close contact, school)",
    "household": "Other adults at home (close contact over 15 minutes)",
    "pregnant": "Pregnant household members",
    "carer": "Informed adult carer (who agreed to help and was informed)",
    "colleagues": "Work",
    "public": "Public transport, cinema, social events",
}


def _day(when: datetime) -> str:
    return when.strftime("%a %d %b %Y, %H:%M")


def instruction_sheet(
    release: ReleaseAssessment,
    restrictions: Sequence[Restriction],
    *,
    administered_at: datetime,
    last_dose: bool = False,
    course_last_dose_date: date | None = None,
) -> InstructionSheet:
    """The patient's instructions after one cycle (REL-3, RP-2..RP-5, restriction periods).

    ``course_last_dose_date`` (or ``last_dose``) dates the contraception and
    breastfeeding periods that run from the last dose of the course.
    """
    if not isinstance(administered_at, datetime) or administered_at.utcoffset() is None:
        raise InvalidInputError(
            "administered_at", administered_at, "a date and time with a UTC offset"
        )
    by_group: dict[str, list[Restriction]] = {}
    for r in restrictions:
        by_group.setdefault(r.pattern.group, []).append(r)
    contact_items = []
    for group, items in by_group.items():
        worst = max(items, key=lambda r: r.period_h)
        if worst.period_h <= 0:
            contact_items.append(f"{_GROUP_WORDS.get(group, group)}: no restriction needed.")
            continue
        contact_items.append(
            f"{_GROUP_WORDS.get(group, group)}: avoid until {_day(worst.ends_at)} "
            f"({worst.period_days:.1f} days; {worst.pattern.name.lower()}; dose constraint "
            f"{worst.constraint_msv:g} mSv)."
        )
    eu_end7 = administered_at + timedelta(days=7)
    eu_end15 = administered_at + timedelta(days=15)
    home = (
        f"Until {_day(eu_end7)}: keep close contact (< 1 m) with household members short and sleep "
        "in a separate bedroom; always sit on the toilet, use toilet paper, flush twice with the lid "
        "down and wash your hands; shower daily; wash soiled laundry separately; carers wear "
        "disposable gloves (EU package leaflet, RP-3).",
        f"Children and pregnant women: close contact under 15 minutes a day until {_day(eu_end7)}; "
        f"separate bedroom until {_day(eu_end15)} (RP-3).",
        "Drink about one glass of water per hour on the treatment day and the day after (RP-3).",
        "Radioactivity can be found in urine for up to 30 days (RP-1); waste bags may go to household "
        "waste after 70 days or back to the hospital per local rules (RP-3).",
        "Carry your treatment card / discharge letter for 3 months: airport detectors may respond (RP-3).",
    )
    end = course_last_dose_date or (administered_at.date() if last_dose else None)
    if end is not None:
        family = (
            f"Women: effective contraception until {end + timedelta(days=213):%d %b %Y} "
            "(7 months after the last dose); men with partners who could become pregnant: until "
            f"{end + timedelta(days=122):%d %b %Y} (4 months) (RP-4).",
            f"No breastfeeding during treatment and until {end + timedelta(days=76):%d %b %Y} "
            "(2.5 months after the last dose, US label; EU: stop) (RP-5).",
        )
    else:
        family = (
            "Women: effective contraception during the course and for 7 months after the last dose; "
            "men with partners who could become pregnant: 4 months (RP-4).",
            "No breastfeeding during treatment and for 2.5 months after the last dose (RP-5).",
        )
    release_items = (
        f"Dose rate at 1 m at {_day(release.measured_at)}: {release.dose_rate_1m_usv_per_h:.1f} µSv/h "
        f"({release.basis}).",
        f"Dose to the most exposed person (NUREG-1556 point source): {release.nrc_dose_msv:.2f} mSv "
        f"— {'releasable' if release.releasable_nrc else 'NOT releasable'} under 10 CFR 35.75 "
        f"(limit {NRC_RELEASE_LIMIT_MSV:g} mSv); written instructions "
        f"{'required' if release.instructions_required else 'not required'} (> {NRC_INSTRUCTION_LIMIT_MSV:g} mSv).",
        f"{release.dose_rate_limit.name}: {release.dose_rate_limit.limit_usv_per_h:g} µSv/h at "
        f"{release.dose_rate_limit.distance_m:g} m, met from {_day(release.release_time)}.",
    )
    return InstructionSheet(
        title=f"Radiation safety instructions after your treatment on {administered_at:%d %b %Y}",
        sections=(
            ("Release from hospital", release_items),
            ("Close contact: when each contact can resume", tuple(contact_items)),
            ("At home", home),
            ("Pregnancy, contraception and breastfeeding", family),
        ),
    )
