"""Inputs of the eligibility rules (clinical-rules.md §3.2), in canonical units.

:class:`EligibilityInput` holds everything the rules of
:mod:`prrt.clinical.eligibility` read; ``None`` means "not given" and makes the
rules that need the value indeterminate.  Laboratory values are in the canonical
units of :mod:`prrt.clinical.labs` (g/L, 10^9/L, µmol/L) and are checked against
its plausibility ranges.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

from prrt.clinical.grading import Differentiation, PrimarySite
from prrt.clinical.imaging_scores import ImagingLesion, SstrModality
from prrt.clinical.labs import Analyte, plausible_range
from prrt.clinical.renal import Sex
from prrt.errors import InvalidInputError

__all__ = [
    "ECOG_TO_KARNOFSKY",
    "RECENT_THERAPY_KINDS",
    "BrainMetastases",
    "EligibilityInput",
    "PregnancyStatus",
    "PriorTherapy",
    "TherapyKind",
]

# ECOG -> Karnofsky band [R]: Oken MM et al., Am J Clin Oncol 1982;5:649-55 (ECOG scale);
# correspondence as tabulated by Buccheri G et al., Eur J Cancer 1996;32A:1135-41.
# A rule on a band passes or fails only if both ends agree; otherwise it is indeterminate.
ECOG_TO_KARNOFSKY: dict[int, tuple[float, float]] = {
    0: (90.0, 100.0),
    1: (70.0, 80.0),
    2: (50.0, 60.0),
    3: (30.0, 40.0),
    4: (10.0, 20.0),
    5: (0.0, 0.0),
}


class PregnancyStatus(str, Enum):
    """Pregnancy status at assessment (X-PREGNANT)."""

    NOT_PREGNANT = "not_pregnant"  # excluded by a test
    PREGNANT = "pregnant"
    SUSPECTED = "suspected"
    NOT_EXCLUDED = "not_excluded"
    NOT_APPLICABLE = "not_applicable"  # no reproductive potential (e.g. male, post-menopausal)


class BrainMetastases(str, Enum):
    """Brain metastasis status (C-BRAIN-METS-UNSTABLE)."""

    NONE = "none"
    TREATED_STABLE = "treated_stable"
    UNTREATED_OR_UNSTABLE = "untreated_or_unstable"


class TherapyKind(str, Enum):
    """Kinds of prior therapy that rules of §3.2 look at."""

    CHEMOTHERAPY = "chemotherapy"
    EVEROLIMUS = "everolimus"
    TARGETED_THERAPY = "targeted_therapy"
    INTERFERON = "interferon"
    INVESTIGATIONAL = "investigational"
    SURGERY = "surgery"
    LIVER_DIRECTED = "liver_directed"
    RADIOEMBOLISATION = "radioembolisation"
    EXTERNAL_BEAM_RADIOTHERAPY = "external_beam_radiotherapy"
    PRRT = "prrt"
    SSA_LONG_ACTING = "ssa_long_acting"
    SSA_SHORT_ACTING = "ssa_short_acting"
    OTHER = "other"


# C-RECENT-THERAPY-LT12W (NETTER-1 exclusion list; radioembolisation is liver-directed).
RECENT_THERAPY_KINDS = frozenset(
    {
        TherapyKind.CHEMOTHERAPY,
        TherapyKind.EVEROLIMUS,
        TherapyKind.TARGETED_THERAPY,
        TherapyKind.INTERFERON,
        TherapyKind.INVESTIGATIONAL,
        TherapyKind.SURGERY,
        TherapyKind.LIVER_DIRECTED,
        TherapyKind.RADIOEMBOLISATION,
    }
)


@dataclass(frozen=True, slots=True)
class PriorTherapy:
    """One prior therapy.

    Attributes
    ----------
    kind
        What it was.
    end_date
        Date of the last dose / the procedure (``None`` if unknown).
    myelotoxic
        For chemotherapy: alkylating or otherwise myelotoxic (W-PRIOR-MYELOTOXIC-CHEMO).
    marrow_irradiated_percent
        For external-beam radiotherapy: percentage of bone marrow in the field.
    """

    kind: TherapyKind
    end_date: date | None = None
    myelotoxic: bool | None = None
    marrow_irradiated_percent: float | None = None


# Canonical laboratory fields of EligibilityInput and the analyte whose plausible range they must respect.
_LAB_FIELDS: dict[str, Analyte] = {
    "haemoglobin_g_per_l": Analyte.HAEMOGLOBIN,
    "white_cells_1e9_per_l": Analyte.WHITE_CELLS,
    "platelets_1e9_per_l": Analyte.PLATELETS,
    "neutrophils_1e9_per_l": Analyte.NEUTROPHILS,
    "creatinine_umol_per_l": Analyte.CREATININE,
    "bilirubin_umol_per_l": Analyte.BILIRUBIN,
    "bilirubin_uln_umol_per_l": Analyte.BILIRUBIN,
    "albumin_g_per_l": Analyte.ALBUMIN,
    "prothrombin_percent": Analyte.PROTHROMBIN_PERCENT,
    "inr": Analyte.INR,
}


@dataclass(frozen=True, slots=True)
class EligibilityInput:
    """Everything the eligibility rules read, in canonical units; ``None`` = not given."""

    assessment_date: date
    age_years: float | None = None
    sex: Sex | None = None
    weight_kg: float | None = None
    karnofsky_percent: float | None = None
    ecog: int | None = None
    life_expectancy_months: float | None = None
    pregnancy: PregnancyStatus | None = None
    breastfeeding: bool | None = None
    willing_to_stop_breastfeeding: bool | None = None
    urinary_incontinence: bool | None = None
    heart_failure_uncontrolled: bool | None = None
    brain_metastases: BrainMetastases | None = None
    primary_site: PrimarySite | None = None
    differentiation: Differentiation | None = None
    ki67_percent: float | None = None
    mitoses_per_2mm2: float | None = None
    necrosis: bool | None = None
    resectable: bool | None = None
    peritoneal_carcinomatosis: bool | None = None
    mesenteric_mass: bool | None = None
    liver_tumour_burden_percent: float | None = None
    diffuse_bone_marrow_involvement: bool | None = None
    sstr_modality: SstrModality | None = None
    lesions: tuple[ImagingLesion, ...] | None = None
    fdg_pet_done: bool | None = None
    haemoglobin_g_per_l: float | None = None
    white_cells_1e9_per_l: float | None = None
    platelets_1e9_per_l: float | None = None
    neutrophils_1e9_per_l: float | None = None
    creatinine_umol_per_l: float | None = None
    bilirubin_umol_per_l: float | None = None
    bilirubin_uln_umol_per_l: float | None = None
    albumin_g_per_l: float | None = None
    prothrombin_percent: float | None = None
    inr: float | None = None
    fasting_glucose_x_uln: float | None = None
    prior_therapies: tuple[PriorTherapy, ...] | None = None
    ppq: str | None = None
    netest_percent: float | None = None

    def __post_init__(self) -> None:
        checks: tuple[tuple[str, float | None, float, float], ...] = (
            ("karnofsky_percent", self.karnofsky_percent, 0.0, 100.0),
            ("life_expectancy_months", self.life_expectancy_months, 0.0, 1200.0),
            ("age_years", self.age_years, 0.0, 130.0),
            ("weight_kg", self.weight_kg, 2.0, 400.0),
            ("liver_tumour_burden_percent", self.liver_tumour_burden_percent, 0.0, 100.0),
            ("netest_percent", self.netest_percent, 0.0, 100.0),
            ("fasting_glucose_x_uln", self.fasting_glucose_x_uln, 0.0, 50.0),
        )
        for name, value, low, high in checks:
            if value is not None and (
                isinstance(value, bool) or not math.isfinite(value) or not low <= value <= high
            ):
                raise InvalidInputError(name, value, f"a number between {low:g} and {high:g}")
        for name, analyte in _LAB_FIELDS.items():
            value = getattr(self, name)
            if value is None:
                continue
            rng = plausible_range(analyte)
            if isinstance(value, bool) or not math.isfinite(value) or not rng.contains(value):
                raise InvalidInputError(
                    name,
                    value,
                    f"a plausible {analyte.value} value in {rng.unit} ({rng.low:g}-{rng.high:g})",
                )
        if self.ecog is not None and self.ecog not in ECOG_TO_KARNOFSKY:
            raise InvalidInputError("ecog", self.ecog, "an ECOG performance status 0-5")
        if self.lesions is not None:
            ids = [lesion.lesion_id for lesion in self.lesions]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise InvalidInputError("lesions", duplicates, "unique lesion ids")
        for i, therapy in enumerate(self.prior_therapies or ()):
            if therapy.end_date is not None and therapy.end_date > self.assessment_date:
                raise InvalidInputError(
                    f"prior_therapies[{i}].end_date",
                    therapy.end_date.isoformat(),
                    f"a date on or before the assessment date {self.assessment_date.isoformat()}",
                    hint="a therapy cannot end in the future of the assessment",
                )
        if self.ppq is not None and self.ppq not in ("positive", "negative"):
            raise InvalidInputError("ppq", self.ppq, "'positive' or 'negative'")

    def without(self, name: str) -> EligibilityInput:
        """Return a copy with one optional input removed (``None``; lesions/therapies too)."""
        if name == "assessment_date" or name not in {f.name for f in dataclasses.fields(self)}:
            raise InvalidInputError("name", name, "the name of an optional input field")
        changes: dict[str, Any] = {name: None}
        return dataclasses.replace(self, **changes)
