"""The JSON case format: one patient at one assessment date (pydantic v2 models + JSON Schema).

A case holds the patient, the tumour, SSTR/FDG imaging with per-lesion readings,
laboratory values each with its unit, prior therapies, an optional prior PRRT
course (re-treatment), an optional current course (next-cycle decision) and
optional response measurements (RECIST 1.1).  The shipped JSON Schema
``prrt/clinical/schemas/case.schema.json`` is generated from these models by
:func:`case_json_schema` (a test keeps the two equal); the format is documented
in ``docs/clinical.md``.

Rules of the format:

* every dimensional value carries its unit: either in the key (``age_years``,
  ``ki67_percent``, ``life_expectancy_months``) or as text with a unit
  (``"weight": "68 kg"``, ``"size": "24 mm"``, ``"activity": "7.4 GBq"``), or as
  ``{"value": 12.4, "unit": "g/dL"}`` for laboratory values;
* unknown keys, wrong types, out-of-range values and missing required fields are
  refused with :class:`~prrt.errors.InvalidInputError` naming the JSON path, the
  value and what was expected;
* a missing optional value makes the rules that need it *indeterminate*, never pass.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from prrt.clinical.dose_modification import DmtCategory
from prrt.clinical.eligibility import BrainMetastases, PregnancyStatus, TherapyKind
from prrt.clinical.grading import Differentiation, PrimarySite
from prrt.clinical.imaging_scores import FdgIntensity, FdgStatus, SstrModality
from prrt.clinical.renal import Sex
from prrt.clinical.response import Modality, NewLesions, NonTargetState, RecistResponse, TargetState
from prrt.errors import InvalidInputError

__all__ = [
    "CASE_SCHEMA_VERSION",
    "Biomarkers",
    "Case",
    "Course",
    "History",
    "Imaging",
    "LabValue",
    "Labs",
    "Lesion",
    "Patient",
    "Response",
    "Tumour",
    "case_from_dict",
    "case_json_schema",
    "load_case",
]

CASE_SCHEMA_VERSION = "1.0"
_SCHEMA_ID = "urn:prrt:schema:case:1.0"

Quantity = Annotated[
    str,
    Field(
        min_length=2,
        max_length=64,
        pattern=r"^\s*[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?\s*\S+\s*$",
        description="A number followed by an explicit unit, e.g. '68 kg', '24 mm', '7.4 GBq'.",
    ),
]
Identifier = Annotated[str, Field(min_length=1, max_length=64)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class Patient(_Model):
    """Patient-level data (age and sex are required)."""

    age_years: float = Field(ge=0, le=130, description="Age in years.")
    sex: Sex = Field(description="Biological sex (renal equations; pregnancy rules).")
    weight: Quantity | None = Field(None, description="Current actual body weight, e.g. '68 kg'.")
    karnofsky_percent: int | None = Field(None, ge=0, le=100, multiple_of=10)
    ecog: int | None = Field(None, ge=0, le=5, description="Used when Karnofsky is not given.")
    life_expectancy_months: float | None = Field(None, ge=0, le=1200)
    pregnancy: PregnancyStatus | None = None
    breastfeeding: bool | None = None
    willing_to_stop_breastfeeding: bool | None = None
    urinary_incontinence: bool | None = None
    heart_failure_uncontrolled: bool | None = Field(
        None, description="Heart failure NYHA II-IV, not controlled."
    )
    brain_metastases: BrainMetastases | None = None


class Tumour(_Model):
    """Pathology and disease extent."""

    primary_site: PrimarySite | None = None
    differentiation: Differentiation | None = None
    ki67_percent: float | None = Field(None, ge=0, le=100)
    mitoses_per_2mm2: float | None = Field(None, ge=0, le=1000)
    necrosis: bool | None = Field(None, description="Punctate necrosis (thoracic carcinoids).")
    resectable: bool | None = Field(None, description="Resectable with curative intent.")
    peritoneal_carcinomatosis: bool | None = None
    mesenteric_mass: bool | None = None
    liver_tumour_burden_percent: float | None = Field(None, ge=0, le=100)
    diffuse_bone_marrow_involvement: bool | None = None


class Lesion(_Model):
    """One lesion read on SSTR imaging (and FDG PET when done)."""

    id: Identifier
    site: str | None = Field(None, max_length=64)
    target: bool = Field(description="RECIST target lesion.")
    size: Quantity | None = Field(
        None, description="Longest diameter (short axis for nodes), e.g. '24 mm'."
    )
    sstr_score: int | None = Field(None, ge=0, le=4, description="(Modified) Krenning score 0-4.")
    fdg: FdgStatus | None = None
    fdg_vs_sstr: FdgIntensity | None = Field(
        None, description="Dual-positive lesions: FDG vs SSTR intensity."
    )


class SstrImaging(_Model):
    """The SSTR study the lesion scores come from."""

    modality: SstrModality
    tracer: str | None = Field(None, max_length=64)
    date: dt.date | None = None


class FdgPet(_Model):
    """Whether FDG PET was done (NETPET needs it)."""

    done: bool
    date: dt.date | None = None


class Imaging(_Model):
    """SSTR and FDG imaging with per-lesion readings."""

    sstr: SstrImaging | None = None
    fdg_pet: FdgPet | None = None
    lesions: list[Lesion] | None = None

    @field_validator("lesions")
    @classmethod
    def _unique_ids(cls, lesions: list[Lesion] | None) -> list[Lesion] | None:
        if lesions is not None:
            ids = [lesion.id for lesion in lesions]
            duplicates = sorted({i for i in ids if ids.count(i) > 1})
            if duplicates:
                raise ValueError(f"unique lesion ids (repeated: {', '.join(duplicates)})")
        return lesions


class LabValue(_Model):
    """A laboratory value with its unit; ``uln``/``lln`` are in the same unit as ``value``."""

    value: float
    unit: str = Field(min_length=1, max_length=32)
    uln: float | None = Field(None, gt=0)
    lln: float | None = Field(None, gt=0)


class GlucoseValue(_Model):
    """Fasting glucose with the laboratory's ULN in the same unit (C-DIABETES-UNCONTROLLED)."""

    value: float = Field(gt=0)
    unit: Literal["mmol/L", "mg/dL"]
    uln: float = Field(gt=0)


class Labs(_Model):
    """Laboratory panel; every analyte is optional (missing → indeterminate)."""

    haemoglobin: LabValue | None = None
    platelets: LabValue | None = None
    white_cells: LabValue | None = None
    neutrophils: LabValue | None = None
    lymphocytes: LabValue | None = None
    creatinine: LabValue | None = None
    bilirubin: LabValue | None = None
    albumin: LabValue | None = None
    ast: LabValue | None = None
    alt: LabValue | None = None
    inr: LabValue | None = None
    prothrombin_percent: LabValue | None = None
    fasting_glucose: GlucoseValue | None = None


class Therapy(_Model):
    """A prior therapy."""

    kind: TherapyKind
    name: str | None = Field(None, max_length=64)
    end_date: dt.date | None = Field(None, description="Date of the last dose or of the procedure.")
    myelotoxic: bool | None = Field(
        None, description="Chemotherapy: alkylating or otherwise myelotoxic."
    )
    marrow_irradiated_percent: float | None = Field(None, ge=0, le=100)


class PriorPrrt(_Model):
    """The initial PRRT course, for the re-treatment rules (§8)."""

    first_cycle_date: dt.date | None = None
    last_cycle_date: dt.date | None = None
    cycles: int | None = Field(None, ge=1, le=10)
    cumulative_activity: Quantity | None = None
    progression_date: dt.date | None = None
    persistent_grade3_toxicity: bool | None = None
    mds_aml: bool | None = None


class History(_Model):
    """Treatment history; ``prior_therapies: []`` means none, a missing list means unknown."""

    prior_therapies: list[Therapy] | None = None
    prior_prrt: PriorPrrt | None = None


class Biomarkers(_Model):
    """Informational blood biomarkers: shown, never used as a gate."""

    ppq: Literal["positive", "negative"] | None = None
    netest_percent: float | None = Field(None, ge=0, le=100)


class CourseBaseline(_Model):
    """Pre-cycle-1 values (baseline of the renal dose-modification rule)."""

    weight: Quantity | None = None
    age_years: float | None = Field(None, ge=0, le=130)
    labs: Labs


class Administration(_Model):
    """An administration of the current course."""

    cycle: int = Field(ge=1, le=10)
    date: dt.date
    activity: Quantity


class Episode(_Model):
    """A dose-modifying toxicity that occurred after dose ``after_dose``."""

    category: DmtCategory
    after_dose: int = Field(ge=1, le=10)


class Toxicity(_Model):
    """A clinician-graded CTCAE adverse event since the last dose."""

    term: str = Field(min_length=1, max_length=64)
    worst_grade: int = Field(ge=0, le=5)
    current_grade: int | None = Field(None, ge=0, le=5)
    related: bool = True


class Course(_Model):
    """The current course: the case's ``labs``, weight and date are the pre-dose values."""

    baseline: CourseBaseline
    administrations: list[Administration] = Field(default_factory=list)
    episodes: list[Episode] = Field(default_factory=list)
    worst_since_last_dose: Labs | None = None
    toxicities: list[Toxicity] | None = None
    mds_or_aml: bool | None = None


class ResponseLesion(_Model):
    """A lesion at the RECIST baseline."""

    id: Identifier
    organ: str = Field(min_length=1, max_length=64)
    longest_diameter: Quantity | None = None
    short_axis: Quantity | None = None
    lymph_node: bool = False
    modality: Modality = Modality.CT_MRI
    slice_thickness: Quantity | None = None
    non_measurable_reason: str | None = Field(None, max_length=128)


class TargetObservation(_Model):
    """A target lesion at follow-up."""

    id: Identifier
    state: TargetState = TargetState.MEASURED
    size: Quantity | None = None


class NonTargetObservation(_Model):
    """A non-target lesion at follow-up."""

    id: Identifier
    state: NonTargetState
    short_axis: Quantity | None = None


class TimePoint(_Model):
    """One follow-up assessment."""

    date: dt.date
    targets: list[TargetObservation] = Field(default_factory=list)
    non_targets: list[NonTargetObservation] = Field(default_factory=list)
    new_lesions: NewLesions = NewLesions.NONE
    tumour_markers_normal: bool | None = None
    new_lesion_first_seen: dt.date | None = None
    non_target_response: RecistResponse | None = None


class Response(_Model):
    """RECIST 1.1 measurements: baseline lesions and follow-up time points."""

    treatment_start: dt.date
    baseline_lesions: list[ResponseLesion] = Field(min_length=1)
    target_ids: list[Identifier] | None = None
    confirmation_required: bool = False
    last_cycle_date: dt.date | None = None
    time_points: list[TimePoint] = Field(default_factory=list)


class Case(_Model):
    """A PRRT decision-support case (schema version 1.0)."""

    schema_version: Literal["1.0"]
    case_id: Identifier
    description: str | None = Field(None, max_length=500)
    assessment_date: dt.date = Field(
        description="Date of the assessment / intended administration."
    )
    patient: Patient
    tumour: Tumour | None = None
    imaging: Imaging | None = None
    labs: Labs | None = None
    history: History | None = None
    biomarkers: Biomarkers | None = None
    course: Course | None = None
    response: Response | None = None


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += ("." if text else "") + str(part)
    return text or "$"


def _expected(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    if kind == "missing":
        return "a value (required field)"
    if kind == "extra_forbidden":
        return "no such field (unknown key: check the spelling against the case schema)"
    message = (
        str(error.get("msg", "")).removeprefix("Input should be ").removeprefix("Value error, ")
    )
    return message[0].lower() + message[1:] if message else "a valid value"


def _from_validation_error(err: ValidationError) -> InvalidInputError:
    errors = err.errors(include_url=False)
    first = errors[0]
    loc = tuple(part for part in first.get("loc", ()) if isinstance(part, int | str))
    value = first.get("input") if first.get("type") != "missing" else None
    hint = f"{len(errors) - 1} more problem(s) in the case" if len(errors) > 1 else None
    return InvalidInputError(_path(loc), value, _expected(dict(first)), hint=hint)


def _dates(value: Any, path: str) -> Iterator[tuple[str, dt.date]]:
    """Yield ``(JSON path, date)`` for every date inside a validated model."""
    if isinstance(value, dt.date):
        yield path, value
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from _dates(getattr(value, name), f"{path}.{name}" if path else name)
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _dates(item, f"{path}[{i}]")


def _check_dates_not_after_assessment(case: Case) -> None:
    """Refuse any dated event after the assessment date (it would give negative intervals)."""
    for path, when in _dates(case, ""):
        if path != "assessment_date" and when > case.assessment_date:
            raise InvalidInputError(
                path,
                when.isoformat(),
                f"a date on or before the assessment date {case.assessment_date.isoformat()}",
                hint="a dated event cannot lie in the future of the assessment; "
                "check the year and the assessment_date",
            )


def case_from_dict(data: Any) -> Case:
    """Validate a decoded JSON object as a :class:`Case`.

    Raises
    ------
    InvalidInputError
        The first problem found, with its JSON path (``labs.platelets.value``).

    Examples
    --------
    >>> case_from_dict({"schema_version": "1.0", "case_id": "c1", "assessment_date": "2025-03-03",
    ...                 "patient": {"age_years": 64, "sex": "female"}}).patient.sex.value
    'female'
    """
    try:
        case = Case.model_validate_json(json.dumps(data))
    except ValidationError as err:
        raise _from_validation_error(err) from err
    except (TypeError, ValueError) as err:
        raise InvalidInputError("$", repr(data)[:80], "a JSON object") from err
    _check_dates_not_after_assessment(case)
    return case


def load_case(text: str | bytes, *, source: str = "case") -> Case:
    """Parse JSON text as a :class:`Case`.

    Raises
    ------
    InvalidInputError
        Not valid JSON, or not a valid case (field named by its JSON path).
    """
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise InvalidInputError(
            source, f"line {err.lineno} column {err.colno}", "valid JSON", hint=err.msg
        ) from err
    return case_from_dict(data)


def case_json_schema() -> dict[str, Any]:
    """Return the JSON Schema (draft 2020-12) of the case format.

    Examples
    --------
    >>> case_json_schema()["required"]
    ['schema_version', 'case_id', 'assessment_date', 'patient']
    """
    schema = Case.model_json_schema(mode="validation")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": _SCHEMA_ID,
        **schema,
    }
