"""NM header values of :mod:`prrt.adapters.dicom.series`: units, nuclide and times.

The Real World Value Mapping (or Rescale) and the quantity of the values, the
nuclide named in the Radiopharmaceutical Information Sequence, and the
acquisition and injection times of the header checked against times stated
elsewhere (manifest, command line).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import Any

import numpy as np
from pydicom.dataset import Dataset

from prrt.adapters.dicom._common import dicom_datetime, parse_offset
from prrt.errors import InvalidInputError
from prrt.imaging.volume import VoxelQuantity
from prrt.physics import canonical_nuclide_name, get_nuclide

__all__ = ["SUPPLY_ACQUISITION_TIME", "SUPPLY_INJECTION_TIME", "TIME_TOLERANCE_S"]

#: How to supply a missing acquisition time (Python keyword and command-line option).
SUPPLY_ACQUISITION_TIME = (
    "acquisition_time=... (command line: --acquisition-time ISO, once per time point)"
)
#: How to supply a missing injection time (Python keyword and command-line option).
SUPPLY_INJECTION_TIME = "injection_time=... (command line: --injection-time ISO)"
#: Largest accepted difference between a stated time and the DICOM header's, s.
TIME_TOLERANCE_S = 60.0


def _header_injection_time(first: Dataset, radio: Any, timezone: tzinfo | None) -> datetime:
    if radio is None:
        raise InvalidInputError("injection_time", None, "RadiopharmaceuticalInformationSequence")
    return dicom_datetime(
        radio,
        datetime_keyword="RadiopharmaceuticalStartDateTime",
        date_keyword=None,
        time_keyword=None,
        what="injection_time",
        timezone_=timezone or _header_tz(first),
        supply_as=SUPPLY_INJECTION_TIME,
    )


def _stated_or_header(
    read_header: Callable[[], datetime],
    *,
    stated: datetime | None,
    stated_by: str,
    what: str,
    tag: str,
) -> datetime:
    """The header's time checked against a stated one, or the stated one when the header lacks it."""
    if stated is not None and stated.tzinfo is None:
        raise InvalidInputError(
            f"{stated_by}: {what}", stated.isoformat(), "a time-zone aware time"
        )
    try:
        header = read_header()
    except InvalidInputError:
        if stated is None:
            raise
        return stated
    if stated is not None and abs((stated - header).total_seconds()) > TIME_TOLERANCE_S:
        raise InvalidInputError(
            f"{stated_by}: {what}",
            stated.isoformat(),
            f"the DICOM {tag} {header.isoformat()} within {TIME_TOLERANCE_S:g} s",
            hint=f"correct the {stated_by} or the DICOM header; they must agree",
        )
    return header


def _header_tz(ds: Dataset) -> tzinfo | None:
    text = str(getattr(ds, "TimezoneOffsetFromUTC", "") or "")
    if not text:
        return None
    return parse_offset(text, field_name="TimezoneOffsetFromUTC")


def _nm_values(
    ds: Dataset, raw: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], VoxelQuantity]:
    """Apply a Real World Value Mapping (or Rescale) and find the quantity."""
    seq = getattr(ds, "RealWorldValueMappingSequence", None)
    if seq:
        item = seq[0]
        slope = float(item.RealWorldValueSlope)
        intercept = float(getattr(item, "RealWorldValueIntercept", 0.0) or 0.0)
        units = (
            item.MeasurementUnitsCodeSequence[0].CodeValue
            if "MeasurementUnitsCodeSequence" in item
            else ""
        )
        values = raw.astype(np.float64) * slope + intercept
        if units in ("Bq/mL", "Bq/ml"):
            return values, VoxelQuantity.ACTIVITY_CONCENTRATION_BQ_PER_ML
        if units in ("{counts}", "{counts}/s", "1", "{cnts}"):
            return values, VoxelQuantity.COUNTS
        raise InvalidInputError(
            "RealWorldValueMappingSequence.MeasurementUnitsCodeSequence",
            units,
            "'{counts}' or 'Bq/mL'",
        )
    slope = float(getattr(ds, "RescaleSlope", 1.0) or 1.0)
    intercept = float(getattr(ds, "RescaleIntercept", 0.0) or 0.0)
    values = raw.astype(np.float64) * slope + intercept
    units = str(getattr(ds, "Units", "") or "").upper()
    if units == "BQML":
        return values, VoxelQuantity.ACTIVITY_CONCENTRATION_BQ_PER_ML
    if units not in ("", "CNTS"):
        raise InvalidInputError("Units", units, "'CNTS' or 'BQML'")
    return values, VoxelQuantity.COUNTS


def _nuclide_of(radio: Dataset | None) -> str | None:
    if radio is None:
        return None
    candidates = []
    codes = getattr(radio, "RadionuclideCodeSequence", None)
    if codes:
        candidates.append(str(getattr(codes[0], "CodeMeaning", "")))
    candidates.append(str(getattr(radio, "Radionuclide", "") or ""))
    candidates.append(str(getattr(radio, "Radiopharmaceutical", "") or ""))
    for text in candidates:
        cleaned = text.replace("^", " ").strip()
        words = cleaned.split()
        # "Lu-177", "177Lu-DOTATATE", "Lu177 PSMA": whole text, words, hyphen-separated parts.
        pieces = [part for word in words for part in word.split("-")]
        for token in (cleaned, *words, *pieces):
            try:
                name = canonical_nuclide_name(token)
                get_nuclide(name)
            except InvalidInputError:
                continue
            return name
    return None
