"""A treated cohort as analysable records: survival times, events, best response and courses.

A cohort comes from a CSV file (:func:`read_cohort_csv`) or from plain records —
dictionaries or a data frame, e.g. rows of the clinic's database
(:func:`cohort_from_records`, :func:`cohort_from_frame`).  Both paths use the same
columns and the same checks, so an error names the same row and column whichever
way the data arrived.

Columns (documented for users in ``docs/outcomes.md``)
-------------------------------------------------------
``patient_id`` (required, unique)
    Identifier of the patient.
``arm`` (or ``group``)
    Treatment arm or group; all patients form one group ``"all"`` when absent.
``pfs_<unit>``, ``pfs_event``
    Progression-free survival time and event (1 = progression or death, 0 = censored).
``os_<unit>``, ``os_event``
    Overall survival time and event (1 = death, 0 = censored at last contact).
``best_response``
    RECIST 1.1 best overall response: CR, PR, SD, PD, NE or NON_CR_NON_PD.
``best_percent_change``
    Best percentage change of the sum of target-lesion diameters from baseline
    (−100 … +∞; negative = shrinkage), for the waterfall plot.
``course_start_<unit>``, ``course_end_<unit>``
    First and last administration of the PRRT course, measured from study entry
    (swimmer plot); ``retreatment_start_<unit>``, ``retreatment_end_<unit>`` for a
    re-treatment course.
any other column
    Kept as a covariate (a number when every filled cell is a number, else text).

``<unit>`` is ``months``, ``days`` or ``weeks``: the unit is part of the name, a bare
``pfs`` or ``pfs_time`` column is refused.  Times are held in months (1 month =
365.25/12 days = 30.4375 days, the Julian month of ``prrt.units``).  An empty cell
means "not recorded" (the patient is left out of that analysis); a time without
its event, or an event without its time, is an error.  Lines of a CSV file that
start with ``#`` before the header are comments.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any, Protocol

import numpy as np

from prrt._typing import BoolArray, FloatArray
from prrt.clinical.response import RecistResponse
from prrt.errors import InvalidInputError, NonConformingInputWarning
from prrt.units import SECONDS_PER_DAY, SECONDS_PER_WEEK, SECONDS_PER_YEAR

__all__ = [
    "DAYS_PER_MONTH",
    "TIME_QUANTITIES",
    "TIME_UNITS",
    "Cohort",
    "CohortPatient",
    "Endpoint",
    "cohort_from_frame",
    "cohort_from_records",
    "read_cohort_csv",
]

_SECONDS_PER_MONTH = SECONDS_PER_YEAR / 12.0
#: Julian month: 365.25 d / 12 (the year of ``prrt.units``).
DAYS_PER_MONTH = _SECONDS_PER_MONTH / SECONDS_PER_DAY
#: Unit suffix of a time column -> months per unit.
TIME_UNITS: dict[str, float] = {
    "months": 1.0,
    "days": SECONDS_PER_DAY / _SECONDS_PER_MONTH,
    "weeks": SECONDS_PER_WEEK / _SECONDS_PER_MONTH,
}
#: Time quantities of the cohort format (column stem -> meaning).
TIME_QUANTITIES: dict[str, str] = {
    "pfs": "progression-free survival time",
    "os": "overall survival time",
    "course_start": "start of the PRRT course (first administration) from study entry",
    "course_end": "end of the PRRT course (last administration) from study entry",
    "retreatment_start": "start of a re-treatment course from study entry",
    "retreatment_end": "end of a re-treatment course from study entry",
}
_KNOWN = frozenset(
    {"patient_id", "arm", "group", "pfs_event", "os_event", "best_response", "best_percent_change"}
)
_RESPONSES = {r.value: r for r in RecistResponse}
_MISSING_TEXT = frozenset({"", "na", "nan", "none", "null"})
_DEFAULT_ARM = "all"


class Endpoint(str, Enum):
    """Time-to-event endpoint of a cohort."""

    PFS = "pfs"
    OS = "os"

    @property
    def label(self) -> str:
        """Name for tables and figure titles."""
        return {"pfs": "Progression-free survival", "os": "Overall survival"}[self.value]


@dataclass(frozen=True, slots=True)
class CohortPatient:
    """One patient of a cohort (times in months from study entry; ``None`` = not recorded)."""

    patient_id: str
    arm: str
    pfs_months: float | None = None
    pfs_event: bool | None = None
    os_months: float | None = None
    os_event: bool | None = None
    best_response: RecistResponse | None = None
    best_percent_change: float | None = None
    course_start_months: float | None = None
    course_end_months: float | None = None
    retreatment_start_months: float | None = None
    retreatment_end_months: float | None = None
    covariates: tuple[tuple[str, float | str | None], ...] = ()

    def time_months(self, endpoint: Endpoint) -> float | None:
        """Time of ``endpoint`` in months."""
        return self.pfs_months if endpoint is Endpoint.PFS else self.os_months

    def event(self, endpoint: Endpoint) -> bool | None:
        """Event indicator of ``endpoint``."""
        return self.pfs_event if endpoint is Endpoint.PFS else self.os_event

    def covariate(self, name: str) -> float | str | None:
        """Value of a covariate column (``None`` when empty or absent)."""
        return dict(self.covariates).get(name)


@dataclass(frozen=True, slots=True)
class Cohort:
    """Validated patients of a cohort, with the columns they were read from.

    Attributes
    ----------
    patients
        One record per patient, in the order of the input.
    source
        Where the records came from (file name or ``"records"``).
    columns
        Quantity -> input column (e.g. ``{"pfs": "pfs_days"}``), for provenance.
    covariate_names
        Extra columns kept as covariates.
    numeric_covariates
        The covariates whose filled cells are all numbers.
    """

    patients: tuple[CohortPatient, ...]
    source: str
    columns: tuple[tuple[str, str], ...] = ()
    covariate_names: tuple[str, ...] = ()
    numeric_covariates: tuple[str, ...] = ()

    @property
    def arms(self) -> tuple[str, ...]:
        """Arms in order of first appearance."""
        return tuple(dict.fromkeys(p.arm for p in self.patients))

    def __len__(self) -> int:
        return len(self.patients)

    def has_endpoint(self, endpoint: Endpoint) -> bool:
        """True when at least one patient has a time for ``endpoint``."""
        return any(p.time_months(endpoint) is not None for p in self.patients)

    def endpoint_data(
        self, endpoint: Endpoint, arm: str | None = None
    ) -> tuple[FloatArray, BoolArray, tuple[str, ...]]:
        """Times (months), events and arms of the patients with data for ``endpoint``."""
        rows = [
            p
            for p in self.patients
            if p.time_months(endpoint) is not None and (arm is None or p.arm == arm)
        ]
        times = np.array([p.time_months(endpoint) for p in rows], dtype=np.float64)
        events = np.array([bool(p.event(endpoint)) for p in rows], dtype=np.bool_)
        return times, events, tuple(p.arm for p in rows)

    def patients_of(self, arm: str) -> tuple[CohortPatient, ...]:
        """Patients of one arm."""
        return tuple(p for p in self.patients if p.arm == arm)


class _Frame(Protocol):
    def to_dict(self, orient: str) -> list[dict[str, Any]]: ...


# --- cell parsing -------------------------------------------------------------------------------


def _where(row: int, column: str) -> str:
    return f"row {row}, column {column}"


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip().lower() in _MISSING_TEXT


def _number(value: Any, row: int, column: str, hint: str | None) -> float:
    if isinstance(value, bool):
        raise InvalidInputError(_where(row, column), value, "a number", hint=hint)
    if isinstance(value, int | float | np.integer | np.floating):
        number = float(value)
    else:
        text = str(value).strip()
        try:
            number = float(text)
        except ValueError:
            raise InvalidInputError(
                _where(row, column),
                value,
                "a number (decimal point '.', no unit in the cell: the unit is in the column name)",
                hint=hint,
            ) from None
    if not math.isfinite(number):
        raise InvalidInputError(_where(row, column), value, "a finite number", hint=hint)
    return number


def _time(value: Any, row: int, column: str, scale: float, hint: str | None) -> float | None:
    if _is_missing(value):
        return None
    number = _number(value, row, column, hint)
    if number < 0:
        raise InvalidInputError(
            _where(row, column),
            value,
            "a time >= 0 (measured from study entry or the first PRRT cycle)",
            hint=hint,
        )
    return number * scale


def _event(value: Any, row: int, column: str, hint: str | None) -> bool | None:
    if _is_missing(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | np.integer) and int(value) in (0, 1):
        return bool(value)
    if isinstance(value, float | np.floating) and float(value) in (0.0, 1.0):
        return bool(value)
    if isinstance(value, str) and value.strip() in ("0", "1"):
        return value.strip() == "1"
    raise InvalidInputError(
        _where(row, column),
        value,
        "0 (censored) or 1 (event)",
        hint=(hint + "; " if hint else "") + "recode other event codes (e.g. R's 1/2) to 0/1",
    )


def _response(value: Any, row: int, column: str, hint: str | None) -> RecistResponse | None:
    if _is_missing(value):
        return None
    key = str(value).strip().upper().replace("-", "_").replace("/", "_").replace(" ", "_")
    if key not in _RESPONSES:
        raise InvalidInputError(
            _where(row, column),
            value,
            "a RECIST 1.1 best response: " + ", ".join(_RESPONSES),
            hint=hint,
        )
    return _RESPONSES[key]


# --- columns ------------------------------------------------------------------------------------


def _time_columns(names: Sequence[str]) -> dict[str, tuple[str, float]]:
    """Quantity -> (column, months per unit); refuse unit-less or doubled time columns."""
    found: dict[str, tuple[str, float]] = {}
    for stem in TIME_QUANTITIES:
        candidates = [(f"{stem}_{unit}", scale) for unit, scale in TIME_UNITS.items()]
        present = [(name, scale) for name, scale in candidates if name in names]
        if len(present) > 1:
            raise InvalidInputError(
                "columns",
                [name for name, _ in present],
                f"one {stem} time column",
                hint="the same time is given in two units; keep one column",
            )
        if present:
            found[stem] = present[0]
        for bare in (stem, f"{stem}_time"):
            if bare in names:
                raise InvalidInputError(
                    "columns",
                    bare,
                    "a unit in the time column name: " + ", ".join(name for name, _ in candidates),
                    hint=f"rename {bare!r} after the unit of its values, e.g. {stem}_months",
                )
    return found


def _check_columns(names: Sequence[str]) -> dict[str, tuple[str, float]]:
    duplicates = sorted({n for n in names if list(names).count(n) > 1})
    if duplicates:
        raise InvalidInputError("columns", duplicates, "unique column names")
    if "patient_id" not in names:
        raise InvalidInputError(
            "columns",
            list(names),
            "a 'patient_id' column",
            hint="the columns are listed in docs/outcomes.md",
        )
    if "arm" in names and "group" in names:
        raise InvalidInputError("columns", ["arm", "group"], "either an 'arm' or a 'group' column")
    times = _time_columns(names)
    for stem in ("pfs", "os"):
        event = f"{stem}_event"
        if stem in times and event not in names:
            raise InvalidInputError(
                "columns",
                list(names),
                f"a {event!r} column (0 = censored, 1 = event) next to {times[stem][0]!r}",
            )
        if event in names and stem not in times:
            raise InvalidInputError(
                "columns",
                list(names),
                f"a {stem} time column ({stem}_months, {stem}_days or {stem}_weeks) next to {event!r}",
            )
    if not times.keys() & {"pfs", "os"} and "best_response" not in names:
        raise InvalidInputError(
            "columns",
            list(names),
            "at least one endpoint: pfs_<unit> + pfs_event, os_<unit> + os_event, or best_response",
        )
    return times


def _covariate_value(value: Any) -> float | str | None:
    if _is_missing(value):
        return None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float | np.integer | np.floating):
        return float(value)
    text = str(value).strip()
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


# --- construction -------------------------------------------------------------------------------


def cohort_from_records(records: Iterable[Mapping[str, Any]], *, source: str = "records") -> Cohort:
    """Validate plain records (one mapping per patient) as a :class:`Cohort`.

    Parameters
    ----------
    records
        Mappings from column name to value (strings from CSV, numbers/bools/None from a
        database); every record must have the same keys.
    source
        Name used in hints (file name).

    Raises
    ------
    InvalidInputError
        A column is missing or unit-less, or a cell is invalid; the field names the
        row (1 = first data row) and the column.

    Examples
    --------
    >>> c = cohort_from_records([{"patient_id": "p1", "pfs_days": "365.25", "pfs_event": 1}])
    >>> round(c.patients[0].pfs_months, 6), c.patients[0].pfs_event, c.arms
    (12.0, True, ('all',))
    """
    return _from_records([dict(r) for r in records], source, None)


def _from_records(rows: list[dict[str, Any]], source: str, lines: Sequence[int] | None) -> Cohort:
    if not rows:
        raise InvalidInputError(source, "no data rows", "at least one patient row")
    names = list(rows[0])
    times = _check_columns(names)
    arm_column = "arm" if "arm" in names else ("group" if "group" in names else None)
    used = set(_KNOWN) | {col for col, _ in times.values()}
    covariate_names = tuple(n for n in names if n not in used)
    patients: list[CohortPatient] = []
    seen: dict[str, int] = {}
    numeric = dict.fromkeys(covariate_names, True)
    for i, rec in enumerate(rows, start=1):
        hint = f"line {lines[i - 1]} of {source}" if lines is not None else None
        if set(rec) != set(names):
            raise InvalidInputError(
                f"row {i}", sorted(rec), f"the columns of the first row ({', '.join(names)})"
            )
        pid_raw = rec["patient_id"]
        if _is_missing(pid_raw):
            raise InvalidInputError(_where(i, "patient_id"), pid_raw, "a patient identifier", hint)
        pid = str(pid_raw).strip()
        if pid in seen:
            raise InvalidInputError(
                _where(i, "patient_id"),
                pid,
                "a unique patient identifier",
                hint=f"already used in row {seen[pid]}; one row per patient",
            )
        seen[pid] = i
        arm = _DEFAULT_ARM
        if arm_column is not None:
            if _is_missing(rec[arm_column]):
                raise InvalidInputError(_where(i, arm_column), rec[arm_column], "an arm name", hint)
            arm = str(rec[arm_column]).strip()
        values: dict[str, float | None] = {
            stem: _time(rec[col], i, col, scale, hint) for stem, (col, scale) in times.items()
        }
        events: dict[str, bool | None] = {}
        for stem in ("pfs", "os"):
            if stem not in times:
                continue
            col = f"{stem}_event"
            events[stem] = _event(rec[col], i, col, hint)
            if (values[stem] is None) != (events[stem] is None):
                missing = times[stem][0] if values[stem] is None else col
                raise InvalidInputError(
                    _where(i, missing),
                    rec[missing],
                    f"a value (the {stem} time and its event are given together or both left empty)",
                    hint,
                )
        change = None
        if "best_percent_change" in rec and not _is_missing(rec["best_percent_change"]):
            change = _number(rec["best_percent_change"], i, "best_percent_change", hint)
            if change < -100.0:
                raise InvalidInputError(
                    _where(i, "best_percent_change"),
                    rec["best_percent_change"],
                    "a percentage change >= -100 (a lesion cannot shrink by more than 100 %)",
                    hint,
                )
        response = (
            _response(rec["best_response"], i, "best_response", hint)
            if "best_response" in rec
            else None
        )
        for start, end in (
            ("course_start", "course_end"),
            ("retreatment_start", "retreatment_end"),
        ):
            s, e = values.get(start), values.get(end)
            if s is not None and e is not None and e < s:
                raise InvalidInputError(
                    _where(i, times[end][0]),
                    rec[times[end][0]],
                    f"an end on or after the start ({times[start][0]} = {rec[times[start][0]]})",
                    hint,
                )
        pfs, os_ = values.get("pfs"), values.get("os")
        if pfs is not None and os_ is not None and pfs > os_ * (1 + 1e-9):
            warnings.warn(
                f"{source} {_where(i, times['pfs'][0])}: PFS time {pfs:.4g} months exceeds the "
                f"OS time {os_:.4g} months (progression after death?); check the dates",
                NonConformingInputWarning,
                stacklevel=2,
            )
        covariates = tuple((n, _covariate_value(rec[n])) for n in covariate_names)
        for n, v in covariates:
            if isinstance(v, str):
                numeric[n] = False
        patients.append(
            CohortPatient(
                patient_id=pid,
                arm=arm,
                pfs_months=pfs,
                pfs_event=events.get("pfs"),
                os_months=os_,
                os_event=events.get("os"),
                best_response=response,
                best_percent_change=change,
                course_start_months=values.get("course_start"),
                course_end_months=values.get("course_end"),
                retreatment_start_months=values.get("retreatment_start"),
                retreatment_end_months=values.get("retreatment_end"),
                covariates=covariates,
            )
        )
    return Cohort(
        patients=tuple(patients),
        source=source,
        columns=tuple((stem, col) for stem, (col, _) in times.items()),
        covariate_names=covariate_names,
        numeric_covariates=tuple(n for n in covariate_names if numeric[n]),
    )


def cohort_from_frame(frame: _Frame, *, source: str = "data frame") -> Cohort:
    """Validate a data frame (anything with ``to_dict("records")``, e.g. pandas) as a cohort.

    ``NaN`` cells are read as "not recorded".
    """
    return cohort_from_records(frame.to_dict("records"), source=source)


def read_cohort_csv(text: str, *, source: str = "cohort.csv") -> Cohort:
    """Parse a cohort CSV file (comma-separated, header row, ``#`` comment lines first).

    Raises
    ------
    InvalidInputError
        Not a CSV table, a missing or unit-less column, or an invalid cell (the field
        names the data row and the column; the hint gives the line of the file).

    Examples
    --------
    >>> text = "# synthetic\\npatient_id,arm,os_months,os_event\\np1,A,12.5,1\\np2,A,20,0\\n"
    >>> cohort = read_cohort_csv(text)
    >>> [p.os_months for p in cohort.patients], cohort.columns
    ([12.5, 20.0], (('os', 'os_months'),))
    """
    lines = text.splitlines()
    skipped = 0
    while skipped < len(lines) and (
        not lines[skipped].strip() or lines[skipped].lstrip().startswith("#")
    ):
        skipped += 1
    body = "\n".join(lines[skipped:])
    if not body.strip():
        raise InvalidInputError(source, "an empty file", "a CSV table with a header row")
    reader = csv.reader(io.StringIO(body))
    table: list[tuple[int, list[str]]] = []
    try:
        for row in reader:
            if any(cell.strip() for cell in row):
                table.append((reader.line_num + skipped, row))
    except csv.Error as err:
        raise InvalidInputError(source, str(err), "a comma-separated table") from err
    header = [name.strip() for name in table[0][1]]
    records = []
    for i, (line, row) in enumerate(table[1:], start=1):
        if len(row) != len(header):
            raise InvalidInputError(
                f"row {i}",
                f"{len(row)} cells",
                f"{len(header)} cells, one per column of the header",
                hint=f"line {line} of {source}; a comma inside a value needs quotes",
            )
        records.append(dict(zip(header, row, strict=True)))
    if not records:
        raise InvalidInputError(source, "a header without data rows", "at least one patient row")
    return _from_records(records, source, [line for line, _ in table[1:]])
