"""RECIST 1.1 follow-up inputs and the time-point result (clinical-rules.md §7.1).

Target measurements (REC-TARGET: too small to measure counts 5 mm, disappeared
0 mm), non-target observations (REC-NT), new lesions (REC-NEW, including the
FDG-PET rule) and :class:`TimePointResponse`, the result of a time point.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from prrt.clinical.response._validation import _size, _text, _to_date
from prrt.clinical.response.recist_categories import (
    NewLesions,
    NonTargetState,
    RecistResponse,
    TargetState,
)
from prrt.errors import InvalidInputError

__all__ = [
    "NonTargetObservation",
    "TargetMeasurement",
    "TimePoint",
    "TimePointResponse",
    "new_lesion_from_fdg_pet",
]


@dataclass(frozen=True, slots=True)
class TargetMeasurement:
    """A target lesion at a follow-up time point (size = short axis for nodes).

    A target too small to measure but still visible counts 5 mm
    (:data:`TOO_SMALL_TO_MEASURE_MM`), one that disappeared counts 0 mm; a node keeps its
    actual short axis even below 10 mm.  For a fragmented lesion give the sum of the
    fragments; when lesions merge, give the merged lesion's diameter to one target and
    0 mm (``DISAPPEARED``) to the others (RECIST 1.1 §3.3, clinical-rules.md REC-TARGET).
    """

    lesion_id: str
    state: TargetState = TargetState.MEASURED
    size_mm: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "lesion_id", _text(self.lesion_id, "target.lesion_id"))
        object.__setattr__(self, "state", TargetState(self.state))
        object.__setattr__(
            self, "size_mm", _size(self.size_mm, f"target[{self.lesion_id}].size_mm")
        )
        if self.state is TargetState.MEASURED and self.size_mm is None:
            raise InvalidInputError(
                f"target[{self.lesion_id}].size_mm", None, "a measured size in mm"
            )


@dataclass(frozen=True, slots=True)
class NonTargetObservation:
    """A non-target lesion at a follow-up time point; nodes may give their short axis."""

    lesion_id: str
    state: NonTargetState
    short_axis_mm: float | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "lesion_id", _text(self.lesion_id, "non_target.lesion_id"))
        object.__setattr__(self, "state", NonTargetState(self.state))
        object.__setattr__(
            self,
            "short_axis_mm",
            _size(self.short_axis_mm, f"non_target[{self.lesion_id}].short_axis_mm"),
        )


@dataclass(frozen=True, slots=True)
class TimePoint:
    """One follow-up assessment.

    Attributes
    ----------
    assessment_date
        Date of the scan.
    targets
        Measurements of the baseline targets (a target not listed is not evaluated).
    non_targets
        Observations of the baseline non-targets (one not listed is not evaluated).
    new_lesions
        New lesions (REC-NEW).
    tumour_markers_normal
        False when tumour markers are above normal (prevents non-target CR);
        None when markers are not used.
    new_lesion_first_seen
        For an unequivocal new lesion that was equivocal earlier: the date of the
        first scan showing it (PD dates from there).
    non_target_response
        Radiologist's overall non-target call; overrides the per-lesion derivation.
    """

    assessment_date: date
    targets: tuple[TargetMeasurement, ...] = ()
    non_targets: tuple[NonTargetObservation, ...] = ()
    new_lesions: NewLesions = NewLesions.NONE
    tumour_markers_normal: bool | None = None
    new_lesion_first_seen: date | None = None
    non_target_response: RecistResponse | None = None

    def __post_init__(self) -> None:
        object.__setattr__(
            self, "assessment_date", _to_date(self.assessment_date, "time_point.assessment_date")
        )
        object.__setattr__(self, "targets", tuple(self.targets))
        object.__setattr__(self, "non_targets", tuple(self.non_targets))
        object.__setattr__(self, "new_lesions", NewLesions(self.new_lesions))
        if self.new_lesion_first_seen is not None:
            object.__setattr__(
                self,
                "new_lesion_first_seen",
                _to_date(self.new_lesion_first_seen, "time_point.new_lesion_first_seen"),
            )
        if self.non_target_response is not None:
            allowed = (
                RecistResponse.CR,
                RecistResponse.NON_CR_NON_PD,
                RecistResponse.PD,
                RecistResponse.NE,
            )
            if RecistResponse(self.non_target_response) not in allowed:
                raise InvalidInputError(
                    "time_point.non_target_response",
                    self.non_target_response,
                    "CR, NON_CR_NON_PD, PD or NE",
                )
            object.__setattr__(
                self, "non_target_response", RecistResponse(self.non_target_response)
            )
        if self.tumour_markers_normal is not None and not isinstance(
            self.tumour_markers_normal, bool
        ):
            raise InvalidInputError(
                "time_point.tumour_markers_normal",
                self.tumour_markers_normal,
                "True, False or None",
            )


@dataclass(frozen=True, slots=True)
class TimePointResponse:
    """RECIST 1.1 response at one time point.

    Attributes
    ----------
    assessment_date
        Date of the scan.
    overall
        Time-point response (REC-OVERALL).
    target_response
        Target response, None without target disease.
    non_target_response
        Non-target response, None without non-target disease.
    new_lesions
        New-lesion status.
    sum_mm
        Sum of diameters (None if a target was not evaluated).
    nadir_mm
        Smallest sum on study before this time point (baseline included): the PD reference.
    change_from_baseline_percent, change_from_nadir_percent, change_from_nadir_mm
        Changes of the sum (None when not computable).
    reason_codes, reasons
        Rule ids that decided the response (``REC-CR``, ``REC-PD-SUM``, ``REC-NEW``, ...) and words.
    """

    assessment_date: date
    overall: RecistResponse
    target_response: RecistResponse | None
    non_target_response: RecistResponse | None
    new_lesions: NewLesions
    sum_mm: float | None
    nadir_mm: float | None
    change_from_baseline_percent: float | None
    change_from_nadir_percent: float | None
    change_from_nadir_mm: float | None
    reason_codes: tuple[str, ...]
    reasons: tuple[str, ...]


def new_lesion_from_fdg_pet(
    *, baseline_fdg_pet_negative: bool | None, matches_new_ct_lesion: bool | None
) -> NewLesions:
    """New FDG-avid lesion at follow-up (REC-NEW, FDG-PET).

    With a negative baseline FDG-PET the new lesion is PD; without a baseline PET
    it is PD only if it corresponds to a new lesion on CT, otherwise it must be
    confirmed with CT (equivocal).

    Examples
    --------
    >>> new_lesion_from_fdg_pet(baseline_fdg_pet_negative=True, matches_new_ct_lesion=None).value
    'unequivocal'
    >>> new_lesion_from_fdg_pet(baseline_fdg_pet_negative=None, matches_new_ct_lesion=False).value
    'equivocal'
    """
    if baseline_fdg_pet_negative:
        return NewLesions.UNEQUIVOCAL
    if matches_new_ct_lesion:
        return NewLesions.UNEQUIVOCAL
    return NewLesions.EQUIVOCAL
