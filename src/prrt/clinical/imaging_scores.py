"""SSTR imaging scores: Krenning score, SSTR-PET adaptation, heterogeneity, NETPET, mismatch.

Implements ``clinical-rules.md`` §2:

* SSTR-1 Krenning score (0–4) from the visual comparison with liver and spleen
  (Kwekkeboom & Krenning, Semin Nucl Med 2002;32:84–91);
* SSTR-2 the same scale on SSTR PET/SPECT ("modified Krenning"), with an optional
  SUV-ratio proxy that only *suggests* a score (reader confirmation required);
* SSTR-3 / SSTR-4 the minimum lesion score per modality comes from the profile;
* HET-1 … HET-3 homogeneous versus heterogeneous expression;
* NETPET-1 NETPET grade P0–P5 (Chan et al., Theranostics 2017;7(5):1149–58);
* MISMATCH-1 FDG-positive, SSTR-negative lesions.

With missing lesion data the NETPET result carries the set of grades that the
missing values still allow, so a rule can tell "P5" from "P5 not excluded".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum

from prrt.errors import InvalidInputError

__all__ = [
    "FdgIntensity",
    "FdgStatus",
    "ImagingLesion",
    "LiverSpleenUptake",
    "NetpetAssessment",
    "NetpetGrade",
    "SstrExpression",
    "SstrExpressionAssessment",
    "SstrModality",
    "krenning_score",
    "mismatch_lesions",
    "netpet_grade",
    "sstr_expression",
    "sstr_positive",
    "suggest_score_from_suv",
]

# NETPET-1: a lesion is SSTR-positive at Krenning score >= 2 (at least liver level).
NETPET_SSTR_POSITIVE_MIN_SCORE = 2
# HET-2/HET-3: 10 mm floor against partial-volume false negatives [P].
HETEROGENEITY_SIZE_FLOOR_MM = 10.0


class LiverSpleenUptake(str, Enum):
    """Visual lesion uptake relative to normal liver and spleen (SSTR-1)."""

    NONE = "none"
    BELOW_LIVER = "below_liver"
    EQUAL_LIVER = "equal_liver"
    ABOVE_LIVER = "above_liver"
    ABOVE_SPLEEN = "above_spleen"


_KRENNING = {
    LiverSpleenUptake.NONE: 0,
    LiverSpleenUptake.BELOW_LIVER: 1,
    LiverSpleenUptake.EQUAL_LIVER: 2,
    LiverSpleenUptake.ABOVE_LIVER: 3,
    LiverSpleenUptake.ABOVE_SPLEEN: 4,
}


class SstrModality(str, Enum):
    """SSTR imaging modality (SSTR-1 planar/SPECT scintigraphy, SSTR-2 PET)."""

    PLANAR = "planar_scintigraphy"
    SPECT = "spect"
    PET = "pet"


class FdgStatus(str, Enum):
    """FDG avidity of a lesion on FDG PET."""

    POSITIVE = "positive"
    NEGATIVE = "negative"


class FdgIntensity(str, Enum):
    """FDG intensity compared with SSTR intensity in a dual-positive lesion (NETPET-1)."""

    LESS = "less"
    EQUAL = "equal"
    GREATER = "greater"


class NetpetGrade(IntEnum):
    """NETPET grade; the order is the order of the worst-lesion rule (P0 lowest)."""

    P0 = 0
    P1 = 1
    P2 = 2
    P3 = 3
    P4 = 4
    P5 = 5


NETPET_SUITABILITY = {
    NetpetGrade.P0: "not suitable",
    NetpetGrade.P1: "probably suitable",
    NetpetGrade.P2: "probably suitable",
    NetpetGrade.P3: "probably suitable",
    NetpetGrade.P4: "probably suitable if few (1-2) such lesions; otherwise may need additional therapy",
    NetpetGrade.P5: "not suitable (for PRRT alone)",
}


def krenning_score(uptake: LiverSpleenUptake) -> int:
    """Return the Krenning score (0–4) of a visual uptake reading (SSTR-1, SSTR-2).

    The same scale applies to planar scintigraphy, SPECT and PET (modified Krenning).

    Examples
    --------
    >>> krenning_score(LiverSpleenUptake.EQUAL_LIVER), krenning_score(LiverSpleenUptake.ABOVE_SPLEEN)
    (2, 4)
    """
    return _KRENNING[uptake]


def suggest_score_from_suv(
    *, lesion_suvmax: float, liver_suvmean: float, spleen_suvmean: float | None = None
) -> int | None:
    """Suggest a lower bound of the modified Krenning score from SUV ratios (SSTR-2 proxy, [P]).

    lesion/spleen > 1 suggests 4, lesion/liver > 1 suggests at least 3; otherwise
    ``None`` (score <= 2 cannot be split by this proxy).  Never assign a score from
    SUV without reader confirmation.

    Raises
    ------
    InvalidInputError
        A non-positive SUV.

    Examples
    --------
    >>> suggest_score_from_suv(lesion_suvmax=12.0, liver_suvmean=6.0, spleen_suvmean=20.0)
    3
    """
    for name, value in (("lesion_suvmax", lesion_suvmax), ("liver_suvmean", liver_suvmean)):
        if not value > 0:
            raise InvalidInputError(name, value, "a positive SUV")
    if spleen_suvmean is not None and not spleen_suvmean > 0:
        raise InvalidInputError("spleen_suvmean", spleen_suvmean, "a positive SUV")
    if spleen_suvmean is not None and lesion_suvmax / spleen_suvmean > 1.0:
        return 4
    if lesion_suvmax / liver_suvmean > 1.0:
        return 3
    return None


def sstr_positive(score: int) -> bool:
    """Return True if a Krenning score counts as SSTR-positive for NETPET (score >= 2).

    Examples
    --------
    >>> sstr_positive(1), sstr_positive(2)
    (False, True)
    """
    return score >= NETPET_SSTR_POSITIVE_MIN_SCORE


@dataclass(frozen=True, slots=True)
class ImagingLesion:
    """One lesion as read on SSTR (and optionally FDG) imaging.

    Attributes
    ----------
    lesion_id
        Identifier used in the report.
    target
        True for a RECIST target lesion.
    size_mm
        Longest diameter (short axis for nodes), ``None`` if not measured.
    sstr_score
        Krenning / modified Krenning score 0–4, ``None`` if not read.
    fdg
        FDG status, ``None`` if FDG PET was not read for this lesion.
    fdg_vs_sstr
        For dual-positive lesions, FDG intensity compared with SSTR intensity.
    """

    lesion_id: str
    target: bool
    size_mm: float | None = None
    sstr_score: int | None = None
    fdg: FdgStatus | None = None
    fdg_vs_sstr: FdgIntensity | None = None

    def __post_init__(self) -> None:
        if self.sstr_score is not None and (
            isinstance(self.sstr_score, bool) or self.sstr_score not in range(5)
        ):
            raise InvalidInputError(
                f"lesions[{self.lesion_id}].sstr_score",
                self.sstr_score,
                "an integer Krenning score 0-4",
            )
        if self.size_mm is not None and not self.size_mm > 0:
            raise InvalidInputError(
                f"lesions[{self.lesion_id}].size_mm", self.size_mm, "a positive size"
            )


# --- NETPET ------------------------------------------------------------------------------------


def _lesion_classes(lesion: ImagingLesion) -> set[NetpetGrade]:
    """Return the NETPET classes a lesion can have given its (possibly missing) readings.

    Classes: P0 none, P1 SSTR-only, P2/P3/P4 dual positive by FDG intensity, P5 FDG-only;
    the patient grade is the maximum over lesions (NETPET-1 "worst lesion decides").
    """
    sstr_options = (
        {sstr_positive(lesion.sstr_score)} if lesion.sstr_score is not None else {True, False}
    )
    fdg_options = {lesion.fdg is FdgStatus.POSITIVE} if lesion.fdg is not None else {True, False}
    classes: set[NetpetGrade] = set()
    for sstr_pos in sstr_options:
        for fdg_pos in fdg_options:
            if fdg_pos and not sstr_pos:
                classes.add(NetpetGrade.P5)
            elif not fdg_pos and not sstr_pos:
                classes.add(NetpetGrade.P0)
            elif not fdg_pos:
                classes.add(NetpetGrade.P1)
            elif lesion.fdg_vs_sstr is FdgIntensity.GREATER:
                classes.add(NetpetGrade.P4)
            elif lesion.fdg_vs_sstr is FdgIntensity.EQUAL:
                classes.add(NetpetGrade.P3)
            elif lesion.fdg_vs_sstr is FdgIntensity.LESS:
                classes.add(NetpetGrade.P2)
            else:
                classes.update({NetpetGrade.P2, NetpetGrade.P3, NetpetGrade.P4})
    return classes


@dataclass(frozen=True, slots=True)
class NetpetAssessment:
    """NETPET grade of a patient.

    Attributes
    ----------
    assessable
        False when FDG PET was not done (NETPET-1: ``NOT_ASSESSABLE``).
    grade
        The grade when the readings determine it, else ``None``.
    possible
        Every grade that the missing readings still allow (one element when determined).
    deciding_lesions
        Lesions whose class equals the determined grade.
    p4_lesion_count
        Number of lesions known to be FDG > SSTR (P4 suitability depends on it).
    """

    assessable: bool
    grade: NetpetGrade | None
    possible: frozenset[NetpetGrade]
    deciding_lesions: tuple[str, ...] = ()
    p4_lesion_count: int = 0

    @property
    def label(self) -> str:
        """Grade label, ``NOT_ASSESSABLE`` or ``INDETERMINATE (P1-P5)``."""
        if not self.assessable:
            return "NOT_ASSESSABLE"
        if self.grade is not None:
            return self.grade.name
        return "INDETERMINATE (" + "/".join(g.name for g in sorted(self.possible)) + ")"

    @property
    def suitability(self) -> str | None:
        """PRRT suitability of the grade (review table of NETPET-1)."""
        return NETPET_SUITABILITY[self.grade] if self.grade is not None else None

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-serialisable dictionary."""
        return {
            "label": self.label,
            "assessable": self.assessable,
            "grade": self.grade.name if self.grade is not None else None,
            "possible": [g.name for g in sorted(self.possible)],
            "suitability": self.suitability,
            "deciding_lesions": list(self.deciding_lesions),
            "p4_lesion_count": self.p4_lesion_count,
        }


def netpet_grade(lesions: Sequence[ImagingLesion], *, fdg_pet_done: bool) -> NetpetAssessment:
    """Return the NETPET grade P0–P5 of a patient (NETPET-1, worst lesion decides).

    Parameters
    ----------
    lesions
        Every lesion read on SSTR and FDG PET.
    fdg_pet_done
        False gives ``NOT_ASSESSABLE``.

    Examples
    --------
    >>> les = [ImagingLesion("L1", True, 20.0, 3, FdgStatus.POSITIVE, FdgIntensity.EQUAL),
    ...        ImagingLesion("L2", False, 12.0, 4, FdgStatus.NEGATIVE)]
    >>> netpet_grade(les, fdg_pet_done=True).label
    'P3'
    >>> netpet_grade([ImagingLesion("L3", False, 15.0, 1, FdgStatus.POSITIVE)], fdg_pet_done=True).label
    'P5'
    """
    all_grades = frozenset(NetpetGrade)
    if not fdg_pet_done:
        return NetpetAssessment(False, None, all_grades)
    if not lesions:
        return NetpetAssessment(True, None, all_grades)
    per_lesion = [(lesion, _lesion_classes(lesion)) for lesion in lesions]
    lower = max(min(classes) for _, classes in per_lesion)
    possible = frozenset(g for _, classes in per_lesion for g in classes if g >= lower)
    p4_count = sum(1 for _, classes in per_lesion if classes == {NetpetGrade.P4})
    if len(possible) == 1:
        grade = next(iter(possible))
        deciding = tuple(lesion.lesion_id for lesion, classes in per_lesion if classes == {grade})
        return NetpetAssessment(True, grade, possible, deciding, p4_count)
    return NetpetAssessment(True, None, possible, (), p4_count)


def mismatch_lesions(lesions: Sequence[ImagingLesion]) -> tuple[str, ...]:
    """Return the ids of FDG-positive, SSTR-negative (score <= 1) lesions (MISMATCH-1).

    Examples
    --------
    >>> mismatch_lesions([ImagingLesion("L1", True, 20.0, 1, FdgStatus.POSITIVE),
    ...                   ImagingLesion("L2", True, 20.0, 3, FdgStatus.POSITIVE)])
    ('L1',)
    """
    return tuple(
        lesion.lesion_id
        for lesion in lesions
        if lesion.fdg is FdgStatus.POSITIVE
        and lesion.sstr_score is not None
        and not sstr_positive(lesion.sstr_score)
    )


# --- Heterogeneity -----------------------------------------------------------------------------


class SstrExpression(str, Enum):
    """Patient-level SSTR expression pattern (HET-1 … HET-3)."""

    HOMOGENEOUS = "homogeneous"
    HETEROGENEOUS_SIGNIFICANT = "heterogeneous_significant"
    HETEROGENEOUS_MINOR = "heterogeneous_minor"
    INDETERMINATE = "indeterminate"


@dataclass(frozen=True, slots=True)
class SstrExpressionAssessment:
    """Result of the heterogeneity rules.

    Attributes
    ----------
    pattern
        HET-1/HET-2/HET-3 pattern, ``INDETERMINATE`` when missing readings could change it.
    min_score
        Lesion score threshold applied (profile and modality).
    significant_lesions
        Non-target lesions >= 10 mm below threshold, FDG negative or not done (HET-2).
    small_lesions
        Non-target lesions < 10 mm below threshold (HET-3).
    possibly_significant_lesions
        Non-target lesions that could be HET-2 lesions (score or size missing).
    possibly_small_lesions
        Non-target lesions < 10 mm whose score is missing.
    unknown_target_lesions
        Target lesions without a score (their check is X-SSTR-TARGET-BELOW-THRESHOLD).
    """

    pattern: SstrExpression
    min_score: int
    significant_lesions: tuple[str, ...] = ()
    small_lesions: tuple[str, ...] = ()
    possibly_significant_lesions: tuple[str, ...] = ()
    possibly_small_lesions: tuple[str, ...] = ()
    unknown_target_lesions: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-serialisable dictionary."""
        return {
            "pattern": self.pattern.value,
            "min_score": self.min_score,
            "significant_lesions": list(self.significant_lesions),
            "small_lesions": list(self.small_lesions),
            "possibly_significant_lesions": list(self.possibly_significant_lesions),
            "possibly_small_lesions": list(self.possibly_small_lesions),
            "unknown_target_lesions": list(self.unknown_target_lesions),
        }


def sstr_expression(
    lesions: Sequence[ImagingLesion],
    *,
    min_score: int,
    size_floor_mm: float = HETEROGENEITY_SIZE_FLOOR_MM,
) -> SstrExpressionAssessment:
    """Classify SSTR expression as homogeneous or heterogeneous (HET-1 … HET-3).

    HET-2 (significant) needs a non-target lesion >= ``size_floor_mm`` below
    ``min_score`` that is FDG-negative or not read on FDG; FDG-positive
    SSTR-negative lesions are left to NETPET P5.  HET-3 (minor): only lesions
    smaller than the floor are below the threshold.

    Examples
    --------
    >>> les = [ImagingLesion("T1", True, 30.0, 3), ImagingLesion("N1", False, 14.0, 1)]
    >>> sstr_expression(les, min_score=2).pattern.value
    'heterogeneous_significant'
    >>> sstr_expression([ImagingLesion("T1", True, 30.0, 3), ImagingLesion("N2", False, 6.0, 1)],
    ...                 min_score=2).pattern.value
    'heterogeneous_minor'
    """
    significant: list[str] = []
    small: list[str] = []
    maybe_significant: list[str] = []
    maybe_small: list[str] = []
    unknown_targets: list[str] = []
    for lesion in lesions:
        below: bool | None = None if lesion.sstr_score is None else lesion.sstr_score < min_score
        if below is False:
            continue
        if lesion.target:
            # Target lesions below the threshold are handled by X-SSTR-TARGET-BELOW-THRESHOLD.
            if below is None:
                unknown_targets.append(lesion.lesion_id)
            continue
        if lesion.fdg is FdgStatus.POSITIVE and below is True:
            continue  # NETPET P5 / mismatch handles it, regardless of size (HET rules, last bullet)
        large: bool | None = None if lesion.size_mm is None else lesion.size_mm >= size_floor_mm
        if below is True and large is True:
            significant.append(lesion.lesion_id)
        elif below is True and large is False:
            small.append(lesion.lesion_id)
        elif large is False:
            maybe_small.append(lesion.lesion_id)
        else:
            maybe_significant.append(lesion.lesion_id)
    if significant:
        pattern = SstrExpression.HETEROGENEOUS_SIGNIFICANT
    elif maybe_significant or maybe_small or unknown_targets:
        pattern = SstrExpression.INDETERMINATE
    elif small:
        pattern = SstrExpression.HETEROGENEOUS_MINOR
    else:
        pattern = SstrExpression.HOMOGENEOUS
    return SstrExpressionAssessment(
        pattern,
        min_score,
        tuple(significant),
        tuple(small),
        tuple(maybe_significant),
        tuple(maybe_small),
        tuple(unknown_targets),
    )
