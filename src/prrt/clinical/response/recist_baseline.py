"""RECIST 1.1 baseline: measurability and target selection (clinical-rules.md §7.1).

REC-MEAS (measurable non-nodal lesions ≥ 10 mm on CT/MRI, ≥ 2 × slice thickness
when slices are thicker than 5 mm, ≥ 10 mm by calliper, ≥ 20 mm on chest X-ray; nodes ≥ 15 mm short axis measurable,
10 to < 15 mm non-target, < 10 mm normal) and REC-TARGET (at most 5 targets, 2 per
organ, all lymph nodes one organ; node short axes in the sum).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal

from prrt.clinical.response._validation import _dec, _size, _text
from prrt.clinical.response.recist_categories import LYMPH_NODE_ORGAN, LesionClass, Modality
from prrt.errors import InvalidInputError

__all__ = [
    "BaselineLesion",
    "RecistBaseline",
    "classify_lesion",
    "select_baseline",
]


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
