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
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from prrt.errors import InvalidInputError

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


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _size(value: Any, field: str, *, allow_none: bool = True) -> float | None:
    if value is None and allow_none:
        return None
    expected = "a size in mm between 0 and 2000"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(field, value, expected)
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number <= 2000.0:
        raise InvalidInputError(field, value, expected)
    return number


def _to_date(value: Any, field: str) -> date:
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidInputError(field, value, "a datetime.date or a timezone-aware datetime")
        return value.date()
    if isinstance(value, date):
        return value
    raise InvalidInputError(field, value, "a datetime.date")


def _text(value: Any, field: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInputError(field, value, "a non-empty text")
    return value.strip()


# =========================================================================== baseline


@dataclass(frozen=True, slots=True)
class BaselineLesion:
    """A lesion recorded at baseline (≤ 4 weeks before treatment).

    Attributes
    ----------
    lesion_id
        Unique identifier.
    organ
        Organ (ignored for lymph nodes: all nodes count as one organ).
    longest_diameter_mm
        Longest diameter (non-nodal lesions).
    short_axis_mm
        Short axis (lymph nodes).
    is_lymph_node
        True for a lymph node.
    modality
        CT/MRI, chest X-ray or calliper.
    slice_thickness_mm
        CT/MRI reconstruction interval; None is taken as ≤ 5 mm [P].
    non_measurable_reason
        Set for disease that is never measurable (ascites, effusion, leptomeningeal,
        lymphangitic, blastic bone, previously irradiated/embolised and not progressed, ...).
    """

    lesion_id: str
    organ: str
    longest_diameter_mm: float | None = None
    short_axis_mm: float | None = None
    is_lymph_node: bool = False
    modality: Modality = Modality.CT_MRI
    slice_thickness_mm: float | None = None
    non_measurable_reason: str | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "lesion_id", _text(self.lesion_id, "lesion.lesion_id"))
        object.__setattr__(self, "organ", _text(self.organ, f"lesion[{self.lesion_id}].organ"))
        object.__setattr__(
            self,
            "longest_diameter_mm",
            _size(self.longest_diameter_mm, f"lesion[{self.lesion_id}].longest_diameter_mm"),
        )
        object.__setattr__(
            self,
            "short_axis_mm",
            _size(self.short_axis_mm, f"lesion[{self.lesion_id}].short_axis_mm"),
        )
        object.__setattr__(
            self,
            "slice_thickness_mm",
            _size(self.slice_thickness_mm, f"lesion[{self.lesion_id}].slice_thickness_mm"),
        )
        try:
            object.__setattr__(self, "modality", Modality(self.modality))
        except ValueError as err:
            raise InvalidInputError(
                f"lesion[{self.lesion_id}].modality",
                self.modality,
                "one of " + ", ".join(m.value for m in Modality),
            ) from err
        if self.is_lymph_node and self.short_axis_mm is None:
            raise InvalidInputError(
                f"lesion[{self.lesion_id}].short_axis_mm",
                None,
                "the short axis of a lymph node in mm",
            )
        if (
            not self.is_lymph_node
            and self.longest_diameter_mm is None
            and self.non_measurable_reason is None
        ):
            raise InvalidInputError(
                f"lesion[{self.lesion_id}].longest_diameter_mm",
                None,
                "the longest diameter in mm, or a non_measurable_reason",
            )

    @property
    def organ_key(self) -> str:
        """Organ used for the 2-per-organ limit (all lymph nodes share one)."""
        return LYMPH_NODE_ORGAN if self.is_lymph_node else self.organ.casefold()

    @property
    def size_mm(self) -> float:
        """Short axis for nodes, longest diameter otherwise (0 when not measured)."""
        value = self.short_axis_mm if self.is_lymph_node else self.longest_diameter_mm
        return 0.0 if value is None else value


def classify_lesion(lesion: BaselineLesion) -> tuple[LesionClass, str]:
    """Classify a baseline lesion (REC-MEAS) and say why.

    Measurable: non-nodal longest diameter ≥ 10 mm on CT/MRI with slices ≤ 5 mm
    (≥ 2 × slice thickness when slices are thicker), ≥ 10 mm by calliper, ≥ 20 mm
    on chest X-ray; lymph node short axis ≥ 15 mm.  Nodes of 10 to < 15 mm are
    pathological but non-measurable; nodes < 10 mm are normal.

    Examples
    --------
    >>> classify_lesion(BaselineLesion("L1", "liver", longest_diameter_mm=10.0))[0].value
    'measurable'
    >>> classify_lesion(BaselineLesion("N1", "neck", short_axis_mm=14.9, is_lymph_node=True))[0].value
    'non_measurable'
    >>> classify_lesion(BaselineLesion("L2", "lung", longest_diameter_mm=12.0, slice_thickness_mm=8.0))[0].value
    'non_measurable'
    """
    if lesion.is_lymph_node:
        axis = _dec(lesion.short_axis_mm or 0.0)
        if axis >= 15:
            return LesionClass.MEASURABLE, "lymph node short axis >= 15 mm"
        if axis >= 10:
            return (
                LesionClass.NON_MEASURABLE,
                "lymph node short axis 10 to < 15 mm: pathological, non-target",
            )
        return LesionClass.NORMAL_NODE, "lymph node short axis < 10 mm: normal"
    if lesion.non_measurable_reason is not None:
        return LesionClass.NON_MEASURABLE, f"non-measurable disease: {lesion.non_measurable_reason}"
    if lesion.modality is Modality.CHEST_XRAY:
        minimum = Decimal(20)
    elif lesion.modality is Modality.CALLIPER:
        minimum = Decimal(10)
    else:
        slice_mm = (
            _dec(lesion.slice_thickness_mm) if lesion.slice_thickness_mm is not None else Decimal(5)
        )
        minimum = max(Decimal(10), 2 * slice_mm) if slice_mm > 5 else Decimal(10)
    if _dec(lesion.longest_diameter_mm or 0.0) >= minimum:
        return (
            LesionClass.MEASURABLE,
            f"longest diameter >= {float(minimum):g} mm ({lesion.modality.value})",
        )
    return (
        LesionClass.NON_MEASURABLE,
        f"longest diameter < {float(minimum):g} mm ({lesion.modality.value})",
    )


@dataclass(frozen=True, slots=True)
class RecistBaseline:
    """Baseline target and non-target lesions (REC-TARGET).

    Attributes
    ----------
    targets
        Up to 5 measurable lesions, at most 2 per organ.
    non_targets
        All other pathological disease (followed qualitatively).
    normal_nodes
        Lesion ids of nodes < 10 mm (not recorded).
    sum_mm
        Baseline sum of diameters (longest diameters + node short axes).
    """

    targets: tuple[BaselineLesion, ...]
    non_targets: tuple[BaselineLesion, ...]
    normal_nodes: tuple[str, ...]
    sum_mm: float

    def target(self, lesion_id: str) -> BaselineLesion:
        """Return the target lesion with ``lesion_id``."""
        for lesion in self.targets:
            if lesion.lesion_id == lesion_id:
                return lesion
        raise InvalidInputError("lesion_id", lesion_id, "the id of a baseline target lesion")


def select_baseline(
    lesions: Sequence[BaselineLesion],
    *,
    target_ids: Sequence[str] | None = None,
    max_targets: int = 5,
    max_per_organ: int = 2,
) -> RecistBaseline:
    """Select target and non-target lesions at baseline (REC-MEAS, REC-TARGET).

    Without ``target_ids`` the largest measurable lesions are chosen (ties in input
    order) within the limits of 5 in total and 2 per organ (all lymph nodes count
    as one organ); the radiologist's choice for reproducibility can be given as
    ``target_ids`` and is checked against the same limits.

    Raises
    ------
    InvalidInputError
        No lesions, duplicate ids, or ``target_ids`` naming a non-measurable lesion,
        an unknown id, more than 5 targets or more than 2 in one organ.

    Examples
    --------
    >>> b = select_baseline([
    ...     BaselineLesion("L1", "liver", longest_diameter_mm=40.0),
    ...     BaselineLesion("L2", "liver", longest_diameter_mm=30.0),
    ...     BaselineLesion("L3", "liver", longest_diameter_mm=20.0),
    ...     BaselineLesion("N1", "mesentery", short_axis_mm=18.0, is_lymph_node=True)])
    >>> [t.lesion_id for t in b.targets], [n.lesion_id for n in b.non_targets], b.sum_mm
    (['L1', 'L2', 'N1'], ['L3'], 88.0)
    """
    items = list(lesions)
    if not items:
        raise InvalidInputError("lesions", items, "at least one baseline lesion")
    for index, lesion in enumerate(items):
        if not isinstance(lesion, BaselineLesion):
            raise InvalidInputError(f"lesions[{index}]", lesion, "a BaselineLesion")
    ids = [lesion.lesion_id for lesion in items]
    if len(set(ids)) != len(ids):
        raise InvalidInputError("lesions", ids, "unique lesion ids")
    classes = {lesion.lesion_id: classify_lesion(lesion)[0] for lesion in items}
    measurable = [lesion for lesion in items if classes[lesion.lesion_id] is LesionClass.MEASURABLE]
    if target_ids is None:
        chosen: list[BaselineLesion] = []
        per_organ: dict[str, int] = {}
        for lesion in sorted(measurable, key=lambda les: -les.size_mm):
            if len(chosen) == max_targets:
                break
            if per_organ.get(lesion.organ_key, 0) < max_per_organ:
                chosen.append(lesion)
                per_organ[lesion.organ_key] = per_organ.get(lesion.organ_key, 0) + 1
        chosen.sort(key=lambda les: ids.index(les.lesion_id))
    else:
        wanted = list(target_ids)
        if len(set(wanted)) != len(wanted) or len(wanted) > max_targets:
            raise InvalidInputError(
                "target_ids", wanted, f"at most {max_targets} distinct lesion ids"
            )
        by_id = {lesion.lesion_id: lesion for lesion in items}
        chosen = []
        for lesion_id in wanted:
            found = by_id.get(lesion_id)
            if found is None or classes[lesion_id] is not LesionClass.MEASURABLE:
                raise InvalidInputError(
                    "target_ids", lesion_id, "the id of a measurable baseline lesion"
                )
            chosen.append(found)
        organs = [lesion.organ_key for lesion in chosen]
        crowded = sorted({o for o in organs if organs.count(o) > max_per_organ})
        if crowded:
            raise InvalidInputError(
                "target_ids", wanted, f"at most {max_per_organ} targets per organ ({crowded[0]})"
            )
    chosen_ids = {lesion.lesion_id for lesion in chosen}
    non_targets = tuple(
        lesion
        for lesion in items
        if lesion.lesion_id not in chosen_ids
        and classes[lesion.lesion_id] is not LesionClass.NORMAL_NODE
    )
    normal = tuple(
        lesion.lesion_id for lesion in items if classes[lesion.lesion_id] is LesionClass.NORMAL_NODE
    )
    total = float(sum((_dec(lesion.size_mm) for lesion in chosen), Decimal(0)))
    return RecistBaseline(tuple(chosen), non_targets, normal, total)


# =========================================================================== follow-up


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


def _target_sizes(baseline: RecistBaseline, tp: TimePoint) -> dict[str, Decimal | None]:
    known = {lesion.lesion_id for lesion in baseline.targets}
    sizes: dict[str, Decimal | None] = dict.fromkeys(known)
    for index, m in enumerate(tp.targets):
        if m.lesion_id not in known:
            raise InvalidInputError(
                f"time_point.targets[{index}].lesion_id", m.lesion_id, "a baseline target id"
            )
        if m.state is TargetState.MEASURED and m.size_mm is not None:
            sizes[m.lesion_id] = _dec(m.size_mm)
        elif m.state is TargetState.TOO_SMALL_TO_MEASURE:
            sizes[m.lesion_id] = _dec(TOO_SMALL_TO_MEASURE_MM)
        elif m.state is TargetState.DISAPPEARED:
            sizes[m.lesion_id] = Decimal(0)
    return sizes


def _pct(part: Decimal, whole: Decimal) -> float | None:
    return None if whole == 0 else float((part - whole) / whole * 100)


def _non_target(baseline: RecistBaseline, tp: TimePoint) -> tuple[RecistResponse | None, str]:
    if not baseline.non_targets:
        return None, "no non-target disease"
    if tp.non_target_response is not None:
        return tp.non_target_response, "radiologist's non-target call"
    known = {lesion.lesion_id: lesion for lesion in baseline.non_targets}
    seen: dict[str, NonTargetObservation] = {}
    for index, obs in enumerate(tp.non_targets):
        if obs.lesion_id not in known:
            raise InvalidInputError(
                f"time_point.non_targets[{index}].lesion_id",
                obs.lesion_id,
                "a baseline non-target id",
            )
        seen[obs.lesion_id] = obs
    states = list(seen.values())
    if any(o.state is NonTargetState.UNEQUIVOCAL_PROGRESSION for o in states):
        return RecistResponse.PD, "unequivocal progression of non-target disease (REC-NT)"
    if len(seen) < len(known) or any(o.state is NonTargetState.NOT_EVALUATED for o in states):
        return RecistResponse.NE, "non-target lesion(s) not evaluated"

    def gone(obs: NonTargetObservation) -> bool:
        if obs.state is NonTargetState.ABSENT:
            return True
        node = known[obs.lesion_id].is_lymph_node
        return node and obs.short_axis_mm is not None and _dec(obs.short_axis_mm) < 10

    if all(gone(o) for o in states) and tp.tumour_markers_normal is not False:
        return RecistResponse.CR, "all non-target lesions gone, nodes < 10 mm, markers not abnormal"
    return RecistResponse.NON_CR_NON_PD, "non-target disease persists or markers above normal"


def assess_time_point(
    baseline: RecistBaseline,
    time_point: TimePoint,
    *,
    nadir_mm: float | None = None,
    after_complete_response: bool = False,
) -> TimePointResponse:
    """Assess one time point (REC-CR/PD/PR/SD/NE, REC-NT, REC-NEW, REC-OVERALL).

    Parameters
    ----------
    baseline
        Output of :func:`select_baseline`.
    time_point
        The follow-up measurements.
    nadir_mm
        Smallest sum on study so far (baseline counts); defaults to the baseline sum.
    after_complete_response
        True when an earlier time point was a complete response: any reappearance of
        target disease is then progression (RECIST 1.1 BOR footnote on a true CR).

    Returns
    -------
    TimePointResponse

    Examples
    --------
    >>> b = select_baseline([BaselineLesion("L1", "liver", longest_diameter_mm=50.0)])
    >>> tp = TimePoint(date(2026, 4, 1), (TargetMeasurement("L1", size_mm=35.0),))
    >>> r = assess_time_point(b, tp)
    >>> r.overall.value, r.change_from_baseline_percent
    ('PR', -30.0)
    """
    if not isinstance(baseline, RecistBaseline):
        raise InvalidInputError("baseline", baseline, "a RecistBaseline")
    if not isinstance(time_point, TimePoint):
        raise InvalidInputError("time_point", time_point, "a TimePoint")
    base_sum = _dec(baseline.sum_mm)
    nadir = (
        base_sum if nadir_mm is None else _dec(_size(nadir_mm, "nadir_mm", allow_none=False) or 0.0)
    )
    codes: list[str] = []
    reasons: list[str] = []
    target: RecistResponse | None = None
    total: Decimal | None = None
    if baseline.targets:
        sizes = _target_sizes(baseline, time_point)
        assessed = [v for v in sizes.values() if v is not None]
        partial = sum(assessed, Decimal(0))
        growth = partial - nadir

        def progression(value: Decimal) -> bool:
            return value >= nadir * Decimal("1.2") and value - nadir >= 5

        if len(assessed) < len(sizes):
            if progression(partial):
                target = RecistResponse.PD
                codes.append("REC-PD-SUM")
                reasons.append(
                    f"assessed targets alone sum {float(partial):g} mm >= 120 % of nadir {float(nadir):g} mm and +{float(growth):g} mm >= 5 mm"
                )
            else:
                target = RecistResponse.NE
                codes.append("REC-NE")
                reasons.append("target lesion(s) not evaluated")
        else:
            total = partial
            nodes_normal = all(
                sizes[t.lesion_id] is not None and (sizes[t.lesion_id] or Decimal(0)) < 10
                for t in baseline.targets
                if t.is_lymph_node
            )
            non_nodal_gone = all(
                sizes[t.lesion_id] == 0 for t in baseline.targets if not t.is_lymph_node
            )
            if non_nodal_gone and nodes_normal:
                target = RecistResponse.CR
                codes.append("REC-CR")
                reasons.append(
                    "all non-nodal targets disappeared and every nodal target < 10 mm short axis"
                )
            elif after_complete_response:
                target = RecistResponse.PD
                codes.append("REC-PD-REAPPEARANCE")
                reasons.append("target disease reappeared after a complete response")
            elif progression(total):
                target = RecistResponse.PD
                codes.append("REC-PD-SUM")
                reasons.append(
                    f"sum {float(total):g} mm >= 120 % of nadir {float(nadir):g} mm and +{float(total - nadir):g} mm >= 5 mm"
                )
            elif total <= base_sum * Decimal("0.7"):
                target = RecistResponse.PR
                codes.append("REC-PR")
                reasons.append(
                    f"sum {float(total):g} mm <= 70 % of baseline {float(base_sum):g} mm"
                )
            else:
                target = RecistResponse.SD
                codes.append("REC-SD")
                reasons.append("neither PR nor PD")
    non_target, nt_reason = _non_target(baseline, time_point)
    if non_target is not None:
        codes.append(f"REC-NT-{non_target.value}")
        reasons.append(nt_reason)
    new = time_point.new_lesions
    if new is NewLesions.UNEQUIVOCAL:
        codes.append("REC-NEW")
        reasons.append("unequivocal new lesion")
    elif new is NewLesions.EQUIVOCAL:
        codes.append("REC-NEW-EQUIVOCAL")
        reasons.append("equivocal new lesion: continue assessment")
    overall = _overall(target, non_target, new)
    return TimePointResponse(
        assessment_date=time_point.assessment_date,
        overall=overall,
        target_response=target,
        non_target_response=non_target,
        new_lesions=new,
        sum_mm=None if total is None else float(total),
        nadir_mm=float(nadir) if baseline.targets else None,
        change_from_baseline_percent=None if total is None else _pct(total, base_sum),
        change_from_nadir_percent=None if total is None else _pct(total, nadir),
        change_from_nadir_mm=None if total is None else float(total - nadir),
        reason_codes=tuple(codes),
        reasons=tuple(reasons),
    )


def _overall(
    target: RecistResponse | None, non_target: RecistResponse | None, new: NewLesions
) -> RecistResponse:
    """REC-OVERALL time-point table (targets present) and its non-target-only variant."""
    R = RecistResponse
    if new is NewLesions.UNEQUIVOCAL or R.PD in (target, non_target):
        return R.PD
    if target is None:
        if non_target is None:
            return R.NE
        return non_target
    if target is R.CR:
        return R.CR if non_target in (None, R.CR) else R.PR
    if target is R.PR:
        return R.PR
    if target is R.SD:
        return R.SD
    return R.NE


def assess_time_points(
    baseline: RecistBaseline, time_points: Sequence[TimePoint]
) -> tuple[TimePointResponse, ...]:
    """Assess a series of time points, tracking the nadir and earlier complete responses.

    The nadir is the smallest sum of all fully evaluated earlier time points and the
    baseline.  An unequivocal new lesion whose ``new_lesion_first_seen`` is the date
    of an earlier time point where it was equivocal makes that earlier time point PD
    (REC-NEW: PD dates from the first scan showing it).

    Raises
    ------
    InvalidInputError
        Time points not in increasing date order.

    Examples
    --------
    >>> b = select_baseline([BaselineLesion("L1", "liver", longest_diameter_mm=50.0)])
    >>> tps = [TimePoint(date(2026, 4, 1), (TargetMeasurement("L1", size_mm=30.0),)),
    ...        TimePoint(date(2026, 7, 1), (TargetMeasurement("L1", size_mm=36.0),))]
    >>> [r.overall.value for r in assess_time_points(b, tps)]  # 36 >= 1.2 x 30 and +6 mm
    ['PR', 'PD']
    """
    results: list[TimePointResponse] = []
    nadir = _dec(baseline.sum_mm)
    complete = False
    previous: date | None = None
    for index, tp in enumerate(time_points):
        if not isinstance(tp, TimePoint):
            raise InvalidInputError(f"time_points[{index}]", tp, "a TimePoint")
        if previous is not None and tp.assessment_date <= previous:
            raise InvalidInputError(
                f"time_points[{index}].assessment_date",
                tp.assessment_date,
                "dates in increasing order",
            )
        previous = tp.assessment_date
        result = assess_time_point(
            baseline, tp, nadir_mm=float(nadir), after_complete_response=complete
        )
        if tp.new_lesions is NewLesions.UNEQUIVOCAL and tp.new_lesion_first_seen is not None:
            for j, earlier in enumerate(results):
                if (
                    earlier.assessment_date == tp.new_lesion_first_seen
                    and earlier.new_lesions is NewLesions.EQUIVOCAL
                ):
                    results[j] = replace(
                        earlier,
                        overall=RecistResponse.PD,
                        reason_codes=(*earlier.reason_codes, "REC-NEW-CONFIRMED"),
                        reasons=(
                            *earlier.reasons,
                            f"new lesion confirmed on {tp.assessment_date.isoformat()}",
                        ),
                    )
        results.append(result)
        if result.sum_mm is not None:
            nadir = min(nadir, _dec(result.sum_mm))
        complete = complete or result.overall is RecistResponse.CR
    return tuple(results)


# =========================================================================== best overall response


@dataclass(frozen=True, slots=True)
class BestOverallResponse:
    """Best overall response (REC-BOR).

    Attributes
    ----------
    response
        CR, PR, SD, NON_CR_NON_PD, PD or NE.
    response_date
        Date of the time point that set the response (None for NE).
    confirmed
        Whether a CR/PR was confirmed (None when confirmation was not required or
        the response is not CR/PR).
    progression_date
        Date of the first PD, if any.
    flags
        ``REC-PRRT-EARLY-PD-MDT`` when PD occurs < 3 months after the last PRRT cycle
        (pseudoprogression possible: confirm in the multidisciplinary team) [P].
    reasons
        Explanation.
    """

    response: RecistResponse
    response_date: date | None
    confirmed: bool | None
    progression_date: date | None
    flags: tuple[str, ...]
    reasons: tuple[str, ...]


def _add_months(day: date, months: int) -> date:
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def best_overall_response(
    responses: Sequence[TimePointResponse],
    *,
    treatment_start: date,
    confirmation_required: bool = False,
    confirmation_min_weeks: float = 4.0,
    sd_min_weeks: float = 6.0,
    last_cycle_date: date | None = None,
) -> BestOverallResponse:
    """Best overall response from start of treatment until progression (REC-BOR).

    Time points after the first PD are ignored.  SD (and NON_CR_NON_PD) counts only
    at a time point at least ``sd_min_weeks`` after ``treatment_start`` (default 6
    weeks [P]).  With ``confirmation_required`` (response as primary endpoint of a
    non-randomised study) a CR needs a later CR, and a PR a later PR or CR, at least
    ``confirmation_min_weeks`` (4) later; an unconfirmed CR/PR counts as SD if the
    SD minimum is met.  A true CR followed by reappearance is PD (handled by
    :func:`assess_time_points`).  This reproduces the combination table of §7.1:
    CR/CR → CR; CR/PD, PR/PD, CR/SD → SD if the SD minimum is met else PD;
    CR/NE, PR/NE → SD if met else NE; PR/CR, PR/PR → PR; PR/SD → SD; NE/NE → NE.

    Examples
    --------
    >>> b = select_baseline([BaselineLesion("L1", "liver", longest_diameter_mm=50.0)])
    >>> tps = [TimePoint(date(2026, 3, 2), (TargetMeasurement("L1", size_mm=30.0),)),
    ...        TimePoint(date(2026, 4, 6), (TargetMeasurement("L1", size_mm=29.0),))]
    >>> best_overall_response(assess_time_points(b, tps), treatment_start=date(2026, 1, 5),
    ...                       confirmation_required=True).response.value
    'PR'
    """
    start = _to_date(treatment_start, "treatment_start")
    items = list(responses)
    for index, r in enumerate(items):
        if not isinstance(r, TimePointResponse):
            raise InvalidInputError(f"responses[{index}]", r, "a TimePointResponse")
    R = RecistResponse
    progression: TimePointResponse | None = None
    considered: list[TimePointResponse] = []
    for r in items:
        considered.append(r)
        if r.overall is R.PD:
            progression = r
            break
    flags: list[str] = []
    if (
        progression is not None
        and last_cycle_date is not None
        and progression.assessment_date
        < _add_months(_to_date(last_cycle_date, "last_cycle_date"), 3)
    ):
        flags.append("REC-PRRT-EARLY-PD-MDT")
    pd_date = progression.assessment_date if progression is not None else None
    confirm_days = confirmation_min_weeks * 7.0
    sd_days = sd_min_weeks * 7.0

    def confirmed(i: int, accept: tuple[RecistResponse, ...]) -> bool:
        first = considered[i]
        return any(
            later.overall in accept
            and (later.assessment_date - first.assessment_date).days >= confirm_days
            for later in considered[i + 1 :]
        )

    for level in (R.CR, R.PR):
        for i, r in enumerate(considered):
            if r.overall is not level:
                continue
            if not confirmation_required:
                return BestOverallResponse(
                    level,
                    r.assessment_date,
                    None,
                    pd_date,
                    tuple(flags),
                    (f"{level.value} on {r.assessment_date}",),
                )
            accept = (R.CR,) if level is R.CR else (R.PR, R.CR)
            if confirmed(i, accept):
                return BestOverallResponse(
                    level, r.assessment_date, True, pd_date, tuple(flags),
                    (f"{level.value} on {r.assessment_date} confirmed >= {confirmation_min_weeks:g} weeks later",),
                )  # fmt: skip
    for r in considered:
        if (
            r.overall in (R.CR, R.PR, R.SD, R.NON_CR_NON_PD)
            and (r.assessment_date - start).days >= sd_days
        ):
            best = R.NON_CR_NON_PD if r.overall is R.NON_CR_NON_PD else R.SD
            note = " (unconfirmed CR/PR)" if r.overall in (R.CR, R.PR) else ""
            return BestOverallResponse(
                best, r.assessment_date, False if note else None, pd_date, tuple(flags),
                (f"{best.value}{note} on {r.assessment_date}, >= {sd_min_weeks:g} weeks after start",),
            )  # fmt: skip
    if progression is not None:
        return BestOverallResponse(
            R.PD,
            pd_date,
            None,
            pd_date,
            tuple(flags),
            ("progression before the SD minimum was met",),
        )
    return BestOverallResponse(
        R.NE, None, None, None, tuple(flags), ("no evaluable response meeting the criteria",)
    )


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


# =========================================================================== PERCIST


class PercistResponse(str, Enum):
    """PERCIST 1.0 categories (clinical-rules.md §10)."""

    CMR = "CMR"
    PMR = "PMR"
    SMD = "SMD"
    PMD = "PMD"


def _sul(value: Any, field: str, *, positive: bool = False) -> Decimal:
    expected = "a non-negative SUL value (dimensionless) below 100"
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(field, value, expected)
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number < 100.0 or (positive and number <= 0):
        raise InvalidInputError(field, value, expected)
    return _dec(number)


def percist_measurability_threshold(
    *, liver_sul_mean: float, liver_sul_sd: float, use_blood_pool: bool = False
) -> float:
    """Minimum measurable tumour SULpeak (PER-2).

    1.5 × liver SULmean + 2 × liver SD (3 cm sphere in the normal right lobe); with
    ``use_blood_pool`` (abnormal liver) 2.0 × blood-pool SULmean + 2 × SD, where the
    two arguments then hold the blood-pool values.

    Examples
    --------
    >>> percist_measurability_threshold(liver_sul_mean=2.0, liver_sul_sd=0.3)
    3.6
    """
    factor = Decimal(2) if use_blood_pool else Decimal("1.5")
    mean = _sul(liver_sul_mean, "liver_sul_mean", positive=True)
    sd = _sul(liver_sul_sd, "liver_sul_sd")
    return float(factor * mean + 2 * sd)


@dataclass(frozen=True, slots=True)
class PercistConsistency:
    """Technical comparability of two FDG PET scans (PER-2)."""

    liver_consistent: bool
    uptake_time_consistent: bool
    reasons: tuple[str, ...]

    @property
    def comparable(self) -> bool:
        """True when every consistency check passes."""
        return self.liver_consistent and self.uptake_time_consistent


def percist_consistency(
    *,
    baseline_liver_sul_mean: float,
    followup_liver_sul_mean: float,
    baseline_uptake_time_s: float,
    followup_uptake_time_s: float,
) -> PercistConsistency:
    """Check PER-2 consistency: liver SULmean within 20 % and < 0.3 SUL; uptake times 50–70 min and within 15 min.

    Examples
    --------
    >>> percist_consistency(baseline_liver_sul_mean=2.0, followup_liver_sul_mean=2.2,
    ...     baseline_uptake_time_s=3600, followup_uptake_time_s=3900).comparable
    True
    """
    base = _sul(baseline_liver_sul_mean, "baseline_liver_sul_mean", positive=True)
    follow = _sul(followup_liver_sul_mean, "followup_liver_sul_mean", positive=True)
    diff = abs(follow - base)
    liver_ok = diff <= base * Decimal("0.2") and diff < Decimal("0.3")
    times = []
    for name, value in (
        ("baseline_uptake_time_s", baseline_uptake_time_s),
        ("followup_uptake_time_s", followup_uptake_time_s),
    ):
        if (
            isinstance(value, bool)
            or not isinstance(value, int | float)
            or not math.isfinite(value)
            or value <= 0
        ):
            raise InvalidInputError(name, value, "a positive uptake time in seconds")
        times.append(_dec(value))
    in_window = all(Decimal(3000) <= t <= Decimal(4200) for t in times)
    close = abs(times[0] - times[1]) <= Decimal(900)
    reasons = [
        f"liver SULmean {float(base):g} -> {float(follow):g} ({'within' if liver_ok else 'outside'} 20 % and < 0.3 SUL)",
        f"uptake times {float(times[0]) / 60:g} and {float(times[1]) / 60:g} min "
        f"({'within' if in_window and close else 'outside'} 50-70 min and 15 min of each other)",
    ]
    return PercistConsistency(liver_ok, in_window and close, tuple(reasons))


@dataclass(frozen=True, slots=True)
class PercistAssessment:
    """PERCIST 1.0 category with the change of the hottest-lesion SULpeak."""

    response: PercistResponse
    change_percent: float
    change_sul: float
    reasons: tuple[str, ...]


def percist_response(
    *,
    baseline_sul_peak: float,
    followup_sul_peak: float,
    new_lesions: bool,
    complete_metabolic_response: bool = False,
    tlg_increase_percent: float | None = None,
    measurability_threshold: float | None = None,
) -> PercistAssessment:
    """PERCIST 1.0 response (PER-3) from the hottest lesion's SULpeak at each scan.

    * CMR: ``complete_metabolic_response`` (uptake ≤ liver mean and indistinguishable
      from blood pool — a reader's judgement) and no new lesions;
    * PMD: new FDG-avid lesions, or SULpeak rise > 30 % **and** ≥ 0.8 SUL, or a TLG
      rise ≥ 75 % without SULpeak fall ("visible extension") [P operators];
    * PMR: SULpeak fall ≥ 30 % **and** ≥ 0.8 SUL, no new lesions;
    * SMD: none of these.

    Raises
    ------
    InvalidInputError
        Invalid SUL values, or a baseline below ``measurability_threshold`` (PER-2).

    Examples
    --------
    >>> percist_response(baseline_sul_peak=10.0, followup_sul_peak=7.0, new_lesions=False).response.value
    'PMR'
    >>> percist_response(baseline_sul_peak=2.0, followup_sul_peak=1.2, new_lesions=False).response.value
    'PMR'
    >>> percist_response(baseline_sul_peak=2.0, followup_sul_peak=1.3, new_lesions=False).response.value
    'SMD'
    """
    base = _sul(baseline_sul_peak, "baseline_sul_peak", positive=True)
    follow = _sul(followup_sul_peak, "followup_sul_peak")
    if measurability_threshold is not None and base < _sul(
        measurability_threshold, "measurability_threshold"
    ):
        raise InvalidInputError(
            "baseline_sul_peak",
            baseline_sul_peak,
            f"a measurable SULpeak >= {measurability_threshold:g} (PER-2)",
        )
    change = follow - base
    percent = change / base * 100
    reasons: list[str] = []
    tlg_progression = False
    if tlg_increase_percent is not None:
        tlg = _dec(tlg_increase_percent)
        tlg_progression = tlg >= 75 and change >= 0
    if complete_metabolic_response and not new_lesions:
        response = PercistResponse.CMR
        reasons.append("uptake <= liver and indistinguishable from blood pool; no new lesions")
    elif new_lesions:
        response = PercistResponse.PMD
        reasons.append("new FDG-avid lesion(s) typical of cancer")
    elif percent > 30 and change >= Decimal("0.8"):
        response = PercistResponse.PMD
        reasons.append(
            f"SULpeak rise {float(percent):.1f} % > 30 % and +{float(change):g} >= 0.8 SUL"
        )
    elif tlg_progression:
        response = PercistResponse.PMD
        reasons.append("TLG rise >= 75 % without SULpeak fall (visible extension)")
    elif percent <= -30 and -change >= Decimal("0.8"):
        response = PercistResponse.PMR
        reasons.append(
            f"SULpeak fall {float(-percent):.1f} % >= 30 % and {float(-change):g} >= 0.8 SUL"
        )
    else:
        response = PercistResponse.SMD
        reasons.append("neither PMR nor PMD")
    return PercistAssessment(response, float(percent), float(change), tuple(reasons))
