"""Administered activity: calibrator assay minus residuals, decay-corrected to injection.

A_admin = A_assay · exp(−λ (t_inj − t_assay)) − Σ_k A_res,k · exp(+λ (t_res,k − t_inj))

The assay of the syringe or vial before injection and each residual measured
afterwards (vial, syringe, infusion line) are decay-corrected to the injection
time with the ICRP-107 half-life, then subtracted.  If no timestamps are given
at all, the measurements are taken as simultaneous and no correction is made
(recorded in the result); giving some timestamps but not others is refused.
An assay timed after the injection, or a residual timed before it, is refused.
Without any residual reading the result says so (``residual_measured`` False)
instead of reporting a residual of 0 %.  An activity above
:data:`PATIENT_ACTIVITY_PLAUSIBLE_MAX_BQ` is noted as implausible for one
patient administration (not refused: a calibrator may hold stock activity).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from prrt.errors import InvalidInputError
from prrt.physics.decay import decay_correct
from prrt.physics.nuclides import DECAY_DATA_SET, Nuclide, get_nuclide
from prrt.provenance import History, Step
from prrt.units import seconds_between

__all__ = [
    "MAX_CORRECTION_HALF_LIVES",
    "PATIENT_ACTIVITY_PLAUSIBLE_MAX_BQ",
    "ActivityMeasurement",
    "AdministeredActivityResult",
    "administered_activity",
    "patient_activity_note",
]

#: 100 GBq: above any single patient administration of a therapy radiopharmaceutical
#: (label 7.4 GBq 177Lu-DOTA-TATE per cycle, clinical-rules.md §4.1; 90Y-DOTA-TOC
#: ≈ 3.7 GBq; high-activity 131I therapies stay below ~ 30 GBq), while a calibrator
#: may hold a larger stock vial.
PATIENT_ACTIVITY_PLAUSIBLE_MAX_BQ = 100e9


#: Readings are decay-corrected over at most 50 half-lives (factor 2**±50): more is a date slip.
MAX_CORRECTION_HALF_LIVES = 50.0
#: An assay that decays to less than one millionth of its value before the injection is refused:
#: nothing measurable is left to administer (≈ 19.9 half-lives).
_MIN_ASSAY_FRACTION_LEFT = 1e-6
_MAX_ASSAY_HALF_LIVES = -math.log2(_MIN_ASSAY_FRACTION_LEFT)


def patient_activity_note(activity_bq: float, *, field: str) -> str | None:
    """Return a note when ``activity_bq`` exceeds one plausible patient administration.

    Examples
    --------
    >>> patient_activity_note(7.4e9, field="assay") is None
    True
    >>> patient_activity_note(740e9, field="assay")
    'assay: 740 GBq is implausible for one patient administration (> 100 GBq); check the unit (MBq vs GBq) unless this is stock activity'
    """
    if activity_bq <= PATIENT_ACTIVITY_PLAUSIBLE_MAX_BQ:
        return None
    return (
        f"{field}: {activity_bq / 1e9:.4g} GBq is implausible for one patient administration "
        f"(> {PATIENT_ACTIVITY_PLAUSIBLE_MAX_BQ / 1e9:g} GBq); check the unit (MBq vs GBq) "
        "unless this is stock activity"
    )


@dataclass(frozen=True, slots=True)
class ActivityMeasurement:
    """One dose-calibrator reading.

    Parameters
    ----------
    activity_bq
        Reading in Bq.
    measured_at
        Timezone-aware time of the reading, or ``None`` when no time is recorded.
    label
        What was measured, e.g. ``"assay"``, ``"vial"``, ``"syringe"``, ``"line"``.
    """

    activity_bq: float
    measured_at: datetime | None = None
    label: str = "residual"


@dataclass(frozen=True, slots=True)
class AdministeredActivityResult:
    """Net activity administered, with every reading and its value at injection.

    Attributes
    ----------
    nuclide
        Canonical nuclide name.
    assay
        The calibrator reading before injection.
    residuals
        Residual readings after injection.
    injection_at
        Injection time (``None`` if no times were given).
    assay_at_injection_bq
        Assay decay-corrected to the injection time.
    residuals_at_injection_bq
        Each residual decay-corrected to the injection time, same order.
    administered_bq
        Assay minus residuals, at the injection time.
    decay_corrected
        False when no timestamps were given and readings were taken as simultaneous.
    history
        One step per decay correction and one for the subtraction.
    notes
        Doubtful but possible values (e.g. an assay above 100 GBq).
    """

    nuclide: str
    assay: ActivityMeasurement
    residuals: tuple[ActivityMeasurement, ...]
    injection_at: datetime | None
    assay_at_injection_bq: float
    residuals_at_injection_bq: tuple[float, ...]
    administered_bq: float
    decay_corrected: bool
    history: History
    notes: tuple[str, ...] = ()

    @property
    def residual_measured(self) -> bool:
        """True when at least one residual reading was given."""
        return bool(self.residuals)

    @property
    def residual_at_injection_bq(self) -> float:
        """Sum of the residuals at injection, in Bq."""
        return math.fsum(self.residuals_at_injection_bq)

    @property
    def residual_fraction(self) -> float:
        """Residual activity as a fraction of the assay (both at injection; 0 when not measured).

        Check :attr:`residual_measured` before reporting it: 0 without a residual
        reading means "not measured", not "no residual".
        """
        return self.residual_at_injection_bq / self.assay_at_injection_bq


def _check_activity(value: float, field: str) -> None:
    if not (isinstance(value, int | float) and math.isfinite(value) and value >= 0.0):
        raise InvalidInputError(field, value, "a finite, non-negative activity in Bq")


def _check_span(
    elapsed_s: float,
    nuclide: Nuclide,
    field: str,
    value: str,
    problem: str,
    *,
    max_half_lives: float = MAX_CORRECTION_HALF_LIVES,
) -> None:
    half_lives = elapsed_s / nuclide.half_life_s
    if half_lives > max_half_lives:
        raise InvalidInputError(
            field,
            value,
            f"times within {max_half_lives:.3g} half-lives of {nuclide.name} ({half_lives:.4g} half-lives given): {problem}",
            hint="check the dates: assay_time, injection_time, residual_time",
        )


def _to_injection(
    measurement: ActivityMeasurement, nuclide: Nuclide, injection_at: datetime | None, field: str
) -> tuple[float, Step]:
    if injection_at is None or measurement.measured_at is None:
        return measurement.activity_bq, Step(
            name="take_as_measured",
            method="no decay correction (no timestamps given)",
            parameters={"label": measurement.label, "activity_bq": measurement.activity_bq},
        )
    corrected = decay_correct(
        measurement.activity_bq, nuclide, measured_at=measurement.measured_at, to=injection_at
    )
    return corrected, Step(
        name="decay_correct",
        method="A(t_inj) = A(t) · exp(−λ (t_inj − t)), λ = ln2/T½",
        parameters={
            "field": field,
            "label": measurement.label,
            "activity_bq": measurement.activity_bq,
            "measured_at": measurement.measured_at.isoformat(),
            "to": injection_at.isoformat(),
            "elapsed_s": seconds_between(measurement.measured_at, injection_at),
            "half_life_s": nuclide.half_life_s,
            "activity_at_injection_bq": corrected,
        },
        data_sources=(f"radioactivedecay ({DECAY_DATA_SET})",),
    )


def administered_activity(
    *,
    nuclide: Nuclide | str,
    assay_bq: float,
    assay_at: datetime | None = None,
    injection_at: datetime | None = None,
    residual_bq: float | None = None,
    residual_at: datetime | None = None,
    residuals: Sequence[ActivityMeasurement] = (),
) -> AdministeredActivityResult:
    """Return the activity administered: assay minus residuals, each decay-corrected to injection.

    Parameters
    ----------
    nuclide
        Nuclide or its name.
    assay_bq
        Calibrator reading of the activity prepared for injection, in Bq.
    assay_at
        Time of that reading (timezone-aware).
    injection_at
        Injection time (timezone-aware).
    residual_bq, residual_at
        One residual reading (e.g. the vial) and its time; shorthand for ``residuals``.
    residuals
        Further residual readings (vial, syringe, line), each with its time.

    Returns
    -------
    AdministeredActivityResult

    Raises
    ------
    InvalidInputError
        Negative activities; a time missing while others are given
        (``field`` names it); residuals that reach or exceed the assay at
        injection (``field="residual_bq"``); naive timestamps; unknown nuclide.

    Examples
    --------
    >>> from prrt.units import parse_timestamp
    >>> r = administered_activity(
    ...     nuclide="Lu-177",
    ...     assay_bq=7.6e9,
    ...     assay_at=parse_timestamp("2026-03-02T08:00:00+01:00", field="assay_time"),
    ...     injection_at=parse_timestamp("2026-03-02T10:00:00+01:00", field="injection_time"),
    ...     residual_bq=0.15e9,
    ...     residual_at=parse_timestamp("2026-03-02T11:00:00+01:00", field="residual_time"),
    ... )
    >>> round(r.assay_at_injection_bq / 1e9, 4), round(r.residual_at_injection_bq / 1e9, 4)
    (7.5342, 0.1507)
    >>> round(r.administered_bq / 1e9, 4)
    7.3836
    """
    resolved = get_nuclide(nuclide)
    _check_activity(assay_bq, "assay_bq")
    if not assay_bq > 0.0:
        raise InvalidInputError("assay_bq", assay_bq, "a positive activity in Bq")
    readings: list[tuple[str, ActivityMeasurement]] = []
    if residual_bq is not None:
        readings.append(("residual_bq", ActivityMeasurement(residual_bq, residual_at, "residual")))
    elif residual_at is not None:
        raise InvalidInputError(
            "residual_bq", None, "a residual activity when residual_at is given"
        )
    readings.extend((f"residuals[{i}]", m) for i, m in enumerate(residuals))
    for field, reading in readings:
        _check_activity(reading.activity_bq, field)
    assay = ActivityMeasurement(assay_bq, assay_at, "assay")

    times = {"assay_at": assay_at, "injection_at": injection_at}
    times.update({f"{field}.measured_at": r.measured_at for field, r in readings})
    given = [k for k, v in times.items() if v is not None]
    if given and len(given) != len(times):
        missing = next(k for k, v in times.items() if v is None)
        raise InvalidInputError(
            missing,
            None,
            "a timezone-aware time, because other times were given (all or none)",
            hint="every reading must be decay-corrected to the injection time",
        )
    for field, moment in times.items():
        if moment is not None and (moment.tzinfo is None or moment.utcoffset() is None):
            raise InvalidInputError(
                field, moment.isoformat(), "a timezone-aware time (with UTC offset)"
            )
    if injection_at is not None and assay_at is not None and assay_at > injection_at:
        raise InvalidInputError(
            "assay_at",
            assay_at.isoformat(),
            f"a time at or before the injection ({injection_at.isoformat()}): the assay is "
            "measured before injecting",
            hint="were the assay and injection times swapped?",
        )
    for field, reading in readings:
        if (
            injection_at is not None
            and reading.measured_at is not None
            and reading.measured_at < injection_at
        ):
            raise InvalidInputError(
                f"{field}.measured_at",
                reading.measured_at.isoformat(),
                f"a time at or after the injection ({injection_at.isoformat()}): a residual is "
                "measured after injecting",
                hint="were the residual and injection times swapped?",
            )
    if injection_at is not None and assay_at is not None:
        _check_span(
            seconds_between(assay_at, injection_at),
            resolved,
            "assay_at",
            f"assay at {assay_at.isoformat()}, injection at {injection_at.isoformat()}",
            f"the assay decays to < {_MIN_ASSAY_FRACTION_LEFT:g} of its value by the "
            "injection time",
            max_half_lives=_MAX_ASSAY_HALF_LIVES,
        )
    for field, reading in readings:
        if injection_at is not None and reading.measured_at is not None:
            _check_span(
                seconds_between(injection_at, reading.measured_at),
                resolved,
                f"{field}.measured_at",
                f"injection at {injection_at.isoformat()}, {reading.label} at "
                f"{reading.measured_at.isoformat()}",
                f"the {reading.label} reading is more than {MAX_CORRECTION_HALF_LIVES:g} "
                "half-lives after the injection",
            )
    history = History()
    assay_inj, step = _to_injection(assay, resolved, injection_at, "assay_bq")
    history = history.append(step)
    corrected: list[float] = []
    for field, reading in readings:
        value, step = _to_injection(reading, resolved, injection_at, field)
        corrected.append(value)
        history = history.append(step)
    residual_total = math.fsum(corrected)
    if residual_total >= assay_inj:
        raise InvalidInputError(
            "residual_bq",
            f"{residual_total / 1e9:.6g} GBq at injection",
            f"less than the assay ({assay_inj / 1e9:.6g} GBq at injection)",
            hint="check that assay and residual were not swapped and use the same units",
        )
    administered = assay_inj - residual_total
    history = history.append(
        Step(
            name="subtract_residuals",
            method="administered = assay − Σ residuals, all at injection time",
            parameters={
                "assay_at_injection_bq": assay_inj,
                "residual_at_injection_bq": residual_total,
                "administered_bq": administered,
            },
        )
    )
    return AdministeredActivityResult(
        nuclide=resolved.name,
        assay=assay,
        residuals=tuple(r for _, r in readings),
        injection_at=injection_at,
        assay_at_injection_bq=assay_inj,
        residuals_at_injection_bq=tuple(corrected),
        administered_bq=administered,
        decay_corrected=bool(given),
        history=history,
        notes=tuple(
            n for n in (patient_activity_note(assay_bq, field="assay_bq"),) if n is not None
        ),
    )
