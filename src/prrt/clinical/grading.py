"""WHO grading of neuroendocrine neoplasms from Ki-67 and mitotic count.

Implements rules WHO-1 to WHO-5 of ``clinical-rules.md`` §1:

* WHO-1: NET G1 / G2 / G3 thresholds for gastroenteropancreatic (GEP) NET
  (Ki-67 < 3 %, 3–20 %, > 20 %; mitoses < 2, 2–20, > 20 per 2 mm²);
* WHO-2: discordant indices, the higher grade wins; a single index is used and flagged;
* WHO-3: NET versus NEC is decided by differentiation, never by Ki-67 alone;
* WHO-5: lung/thymus carcinoids are classified as typical/atypical by mitoses and
  necrosis; Ki-67 is not a grading criterion there.

Sources: WHO Classification of Tumours, Digestive System Tumours, 5th ed. (2019)
(Nagtegaal et al., Histopathology 2020) and Endocrine and Neuroendocrine Tumours,
5th ed. (2022) (Rindi et al., Endocr Pathol 2022); identical GEP-NEN cut-offs.
Thoracic split: WHO 2021 thoracic tumours (typical < 2 mitoses/2 mm² and no
necrosis; atypical 2–10 mitoses/2 mm² and/or punctate necrosis).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import Enum

from prrt.errors import InvalidInputError

__all__ = [
    "Differentiation",
    "GradeAssessment",
    "PrimarySite",
    "TumourCategory",
    "grade_from_ki67",
    "grade_from_mitoses",
    "who_grade",
]

WHO_SCHEME_GEP = "WHO 2019/2022 GEP-NEN (5th ed.)"
WHO_SCHEME_THORACIC = "WHO 2021 thoracic carcinoid (5th ed.)"

# WHO-1 cut-offs (clinical-rules.md §1, WHO 2019 digestive table).
KI67_G2_FROM_PERCENT = 3.0  # G1 if Ki-67 < 3 %
KI67_G2_TO_PERCENT = 20.0  # G2 if Ki-67 <= 20 %, else G3
MITOSES_G2_FROM = 2.0  # G1 if mitoses < 2 per 2 mm²
MITOSES_G2_TO = 20.0  # G2 if mitoses <= 20 per 2 mm², else G3
# WHO-5 thoracic carcinoids.
THORACIC_ATYPICAL_FROM = 2.0
THORACIC_ATYPICAL_TO = 10.0
# Legacy WHO 2010 G1 limit (Ki-67 <= 2 %), for the re-grading note of §1 edge cases.
LEGACY_WHO2010_G1_MAX_PERCENT = 2.0


class Differentiation(str, Enum):
    """Tumour differentiation (WHO-3): decides NET versus NEC."""

    WELL = "well"
    POOR = "poor"


class PrimarySite(str, Enum):
    """Primary tumour site; the labels cover GEP-NET (foregut, midgut, hindgut)."""

    STOMACH = "stomach"
    DUODENUM = "duodenum"
    PANCREAS = "pancreas"
    SMALL_INTESTINE = "small_intestine"
    APPENDIX = "appendix"
    COLON = "colon"
    RECTUM = "rectum"
    LUNG = "lung"
    THYMUS = "thymus"
    PARAGANGLIOMA = "paraganglioma"
    PHEOCHROMOCYTOMA = "pheochromocytoma"
    UNKNOWN_PRIMARY = "unknown_primary"
    OTHER = "other"

    @property
    def is_gep(self) -> bool:
        """True for gastroenteropancreatic primaries (Lutathera US/EU indication)."""
        return self in _GEP_SITES

    @property
    def is_thoracic(self) -> bool:
        """True for lung and thymus, which are graded by WHO-5 instead of WHO-1."""
        return self in (PrimarySite.LUNG, PrimarySite.THYMUS)


_GEP_SITES = frozenset(
    {
        PrimarySite.STOMACH,
        PrimarySite.DUODENUM,
        PrimarySite.PANCREAS,
        PrimarySite.SMALL_INTESTINE,
        PrimarySite.APPENDIX,
        PrimarySite.COLON,
        PrimarySite.RECTUM,
    }
)


class TumourCategory(str, Enum):
    """WHO category of the tumour."""

    NET_G1 = "NET G1"
    NET_G2 = "NET G2"
    NET_G3 = "NET G3"
    NEC = "NEC"
    TYPICAL_CARCINOID = "typical carcinoid"
    ATYPICAL_CARCINOID = "atypical carcinoid"
    CARCINOID_UNSPECIFIED = "carcinoid, typical/atypical not determinable"
    HIGH_GRADE_UNSPECIFIED = "high grade (NET G3 or NEC; differentiation missing)"
    UNDETERMINED = "undetermined"


@dataclass(frozen=True, slots=True)
class GradeAssessment:
    """Result of WHO grading.

    Attributes
    ----------
    category
        WHO category (``UNDETERMINED`` when the inputs do not decide it).
    grade_by_ki67, grade_by_mitoses
        Grade (1–3) of each index, ``None`` when the index is missing or not used.
    single_index
        True when only one index was available (WHO-2 flag).
    high_grade
        True for NET G3 or NEC, False when both are excluded, ``None`` when the
        inputs cannot exclude a high-grade tumour.
    scheme
        Name of the grading scheme applied.
    notes
        Explanations (WHO rule ids) for the clinician.
    """

    category: TumourCategory
    grade_by_ki67: int | None
    grade_by_mitoses: int | None
    single_index: bool
    high_grade: bool | None
    scheme: str
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-serialisable dictionary."""
        return {
            "category": self.category.value,
            "grade_by_ki67": self.grade_by_ki67,
            "grade_by_mitoses": self.grade_by_mitoses,
            "single_index": self.single_index,
            "high_grade": self.high_grade,
            "scheme": self.scheme,
            "notes": list(self.notes),
        }


def _check_ki67(ki67_percent: float) -> None:
    if (
        isinstance(ki67_percent, bool)
        or not math.isfinite(ki67_percent)
        or not 0.0 <= ki67_percent <= 100.0
    ):
        raise InvalidInputError("ki67_percent", ki67_percent, "a Ki-67 index between 0 and 100 %")


def _check_mitoses(mitoses_per_2mm2: float) -> None:
    if (
        isinstance(mitoses_per_2mm2, bool)
        or not math.isfinite(mitoses_per_2mm2)
        or mitoses_per_2mm2 < 0.0
    ):
        raise InvalidInputError(
            "mitoses_per_2mm2", mitoses_per_2mm2, "a non-negative mitotic count per 2 mm²"
        )
    if mitoses_per_2mm2 > 1000.0:
        raise InvalidInputError(
            "mitoses_per_2mm2",
            mitoses_per_2mm2,
            "a plausible mitotic count (at most 1000 per 2 mm²)",
        )


def grade_from_ki67(ki67_percent: float) -> int:
    """Return the WHO-1 grade (1, 2 or 3) of a Ki-67 index.

    ``1 if ki < 3; 2 if ki <= 20; else 3`` (clinical-rules.md WHO-1).

    Raises
    ------
    InvalidInputError
        Ki-67 outside 0–100 % or not finite.

    Examples
    --------
    >>> [grade_from_ki67(k) for k in (2.9, 3.0, 20.0, 20.1)]
    [1, 2, 2, 3]
    """
    _check_ki67(ki67_percent)
    if ki67_percent < KI67_G2_FROM_PERCENT:
        return 1
    if ki67_percent <= KI67_G2_TO_PERCENT:
        return 2
    return 3


def grade_from_mitoses(mitoses_per_2mm2: float) -> int:
    """Return the WHO-1 grade (1, 2 or 3) of a mitotic count per 2 mm².

    ``1 if m < 2; 2 if m <= 20; else 3`` (clinical-rules.md WHO-1).

    Raises
    ------
    InvalidInputError
        Negative, implausible or non-finite count.

    Examples
    --------
    >>> [grade_from_mitoses(m) for m in (1, 2, 20, 21)]
    [1, 2, 2, 3]
    """
    _check_mitoses(mitoses_per_2mm2)
    if mitoses_per_2mm2 < MITOSES_G2_FROM:
        return 1
    if mitoses_per_2mm2 <= MITOSES_G2_TO:
        return 2
    return 3


_NET_BY_GRADE = {1: TumourCategory.NET_G1, 2: TumourCategory.NET_G2, 3: TumourCategory.NET_G3}


def who_grade(
    *,
    ki67_percent: float | None,
    mitoses_per_2mm2: float | None,
    differentiation: Differentiation | None,
    primary_site: PrimarySite | None = None,
    necrosis: bool | None = None,
) -> GradeAssessment:
    """Classify and grade a neuroendocrine neoplasm (WHO-1 to WHO-5).

    Parameters
    ----------
    ki67_percent
        Ki-67 labelling index in percent (hot spot, ≥ 500 cells; WHO-4).
    mitoses_per_2mm2
        Mitotic count per 2 mm² (WHO-4).
    differentiation
        ``WELL`` (NET) or ``POOR`` (NEC); ``None`` when not reported.
    primary_site
        Lung and thymus are classified by WHO-5 (Ki-67 not used).
    necrosis
        Punctate necrosis (thoracic carcinoids only).

    Returns
    -------
    GradeAssessment
        Category, per-index grades, single-index flag and ``high_grade``.

    Raises
    ------
    InvalidInputError
        An index is out of range.

    Examples
    --------
    >>> who_grade(ki67_percent=2.9, mitoses_per_2mm2=2, differentiation=Differentiation.WELL).category.value
    'NET G2'
    >>> who_grade(ki67_percent=70, mitoses_per_2mm2=None, differentiation=Differentiation.POOR).category.value
    'NEC'
    """
    if ki67_percent is not None:
        _check_ki67(ki67_percent)
    if mitoses_per_2mm2 is not None:
        _check_mitoses(mitoses_per_2mm2)
    if primary_site is not None and primary_site.is_thoracic:
        return _thoracic_grade(ki67_percent, mitoses_per_2mm2, differentiation, necrosis)

    notes: list[str] = []
    g_ki = grade_from_ki67(ki67_percent) if ki67_percent is not None else None
    g_mit = grade_from_mitoses(mitoses_per_2mm2) if mitoses_per_2mm2 is not None else None
    available = [g for g in (g_ki, g_mit) if g is not None]
    single = len(available) == 1
    index_grade = max(available) if available else None
    if single:
        missing = "mitotic count" if g_mit is None else "Ki-67"
        notes.append(f"WHO-2: grade based on a single index ({missing} missing)")
    elif g_ki is not None and g_mit is not None and g_ki != g_mit:
        notes.append(
            f"WHO-2: discordant indices (Ki-67 G{g_ki}, mitoses G{g_mit}); the higher grade is used"
        )
    if (
        ki67_percent is not None
        and LEGACY_WHO2010_G1_MAX_PERCENT < ki67_percent < KI67_G2_FROM_PERCENT
    ):
        notes.append(
            "Ki-67 between 2 and 3 %: G2 under WHO 2010 (G1 <= 2 %), G1 under WHO 2019/2022"
        )

    if differentiation is Differentiation.POOR:
        notes.append("WHO-3: poorly differentiated = NEC (not given G1-G3)")
        return GradeAssessment(
            TumourCategory.NEC, g_ki, g_mit, single, True, WHO_SCHEME_GEP, tuple(notes)
        )
    if differentiation is None:
        notes.append("WHO-3: differentiation missing; NET versus NEC is not decided from Ki-67")
        if index_grade == 3:
            return GradeAssessment(
                TumourCategory.HIGH_GRADE_UNSPECIFIED,
                g_ki,
                g_mit,
                single,
                True,
                WHO_SCHEME_GEP,
                tuple(notes),
            )
        return GradeAssessment(
            TumourCategory.UNDETERMINED, g_ki, g_mit, single, None, WHO_SCHEME_GEP, tuple(notes)
        )
    if index_grade is None:
        notes.append("WHO-1: neither Ki-67 nor mitotic count given")
        return GradeAssessment(
            TumourCategory.UNDETERMINED, None, None, False, None, WHO_SCHEME_GEP, tuple(notes)
        )
    category = _NET_BY_GRADE[index_grade]
    if index_grade == 3:
        high: bool | None = True
    elif single:
        # [P] The missing index could still give G3 (WHO-2 takes the higher grade).
        high = None
    else:
        high = False
    return GradeAssessment(category, g_ki, g_mit, single, high, WHO_SCHEME_GEP, tuple(notes))


def _thoracic_grade(
    ki67_percent: float | None,
    mitoses_per_2mm2: float | None,
    differentiation: Differentiation | None,
    necrosis: bool | None,
) -> GradeAssessment:
    notes = ["WHO-5: thoracic primary; Ki-67 is not a grading criterion"]
    if differentiation is Differentiation.POOR:
        notes.append("poorly differentiated thoracic NEN = NEC (small-cell or large-cell)")
        return GradeAssessment(
            TumourCategory.NEC, None, None, False, True, WHO_SCHEME_THORACIC, tuple(notes)
        )
    if differentiation is None:
        notes.append("differentiation missing: carcinoid versus NEC not decided")
        return GradeAssessment(
            TumourCategory.UNDETERMINED, None, None, False, None, WHO_SCHEME_THORACIC, tuple(notes)
        )
    del ki67_percent  # recorded by the caller, not used for thoracic grading (WHO-5)
    if mitoses_per_2mm2 is None:
        notes.append("mitotic count missing: typical versus atypical not decided")
        category = TumourCategory.CARCINOID_UNSPECIFIED
    elif mitoses_per_2mm2 >= THORACIC_ATYPICAL_FROM or necrosis is True:
        category = TumourCategory.ATYPICAL_CARCINOID
        if mitoses_per_2mm2 > THORACIC_ATYPICAL_TO:
            notes.append(
                "more than 10 mitoses/2 mm² exceeds the atypical-carcinoid range: review pathology"
            )
    elif necrosis is None:
        notes.append("necrosis not reported: typical versus atypical not decided")
        category = TumourCategory.CARCINOID_UNSPECIFIED
    else:
        category = TumourCategory.TYPICAL_CARCINOID
    return GradeAssessment(category, None, None, False, False, WHO_SCHEME_THORACIC, tuple(notes))
