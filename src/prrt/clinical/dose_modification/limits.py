"""Numeric limits of the dose-modification table, from ``criteria/dmt_us_label.csv``.

Implements the "Category tests" of clinical-rules.md §4.4 with the numbers of
DMT-TABLE-US (§4.3; CTCAE v5.0 boundaries taken as numbers, §5.3): one CSV row per
rule id, each with its source.  The operator of each row is fixed by the code and
checked on loading.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

from prrt.errors import DataSourceError, RuleError

__all__ = [
    "DMT_LIMITS",
    "DmtLimits",
]


_SOURCE_TABLE = (
    "Lutathera US PI rev. 4/2024 §2.4 dose-modification table (clinical-rules.md §4.3 DMT-TABLE-US)"
)
_SOURCE_ALGO = "clinical-rules.md §4.4 CYC-ALGO [P on the US table]"


@dataclass(frozen=True, slots=True)
class DmtLimits:
    """Numeric DMT limits (clinical-rules.md §4.4 "Category tests", operators exact).

    Loaded from ``criteria/dmt_us_label.csv`` (one row per rule id, with its source):
    CTCAE v5.0 grade boundaries named by the US label table (grade 2
    thrombocytopenia, grade 3 anaemia/neutropenia) and the label's renal and
    hepatic definitions [R, corroborated by the EU LysaKare SmPC text].  The
    operator of each row is fixed by the code and checked on loading.

    Examples
    --------
    >>> DMT_LIMITS.platelets_lt_10e9_per_l, DMT_LIMITS.creatinine_ratio_ge
    (75.0, 1.4)
    """

    platelets_lt_10e9_per_l: float
    haemoglobin_lt_g_per_l: float
    neutrophils_lt_10e9_per_l: float
    white_cells_lt_10e9_per_l: float  # only with settings.any_haematological_grade3 (EU_SMPC_2017)
    crcl_lt_ml_per_min: float
    creatinine_ratio_ge: float
    crcl_ratio_le: float
    bilirubin_gt_uln_multiple: float
    albumin_lt_g_per_l: float
    prothrombin_percent_lt: float
    inr_gt_default: float
    other_grade_ge: int
    sources: Mapping[str, str]


# rule id of criteria/dmt_us_label.csv -> (DmtLimits field, operator the code implements)
_DMT_ROWS: dict[str, tuple[str, str]] = {
    "DMT-PLT-LT75": ("platelets_lt_10e9_per_l", "<"),
    "DMT-HB-LT80": ("haemoglobin_lt_g_per_l", "<"),
    "DMT-ANC-LT1": ("neutrophils_lt_10e9_per_l", "<"),
    "DMT-EU-WBC-LT2": ("white_cells_lt_10e9_per_l", "<"),
    "DMT-CRCL-LT40": ("crcl_lt_ml_per_min", "<"),
    "DMT-SCR-RISE-GE40PCT": ("creatinine_ratio_ge", ">="),
    "DMT-CRCL-FALL-GE40PCT": ("crcl_ratio_le", "<="),
    "DMT-BILI-GT3ULN": ("bilirubin_gt_uln_multiple", ">"),
    "DMT-ALB-LT30": ("albumin_lt_g_per_l", "<"),
    "DMT-PT-LT70": ("prothrombin_percent_lt", "<"),
    "DMT-INR-GT": ("inr_gt_default", ">"),
    "DMT-OTHER-G3": ("other_grade_ge", ">="),
}
_DMT_FILE = "dmt_us_label.csv"


def _load_limits() -> DmtLimits:
    try:
        text = resources.files("prrt.clinical").joinpath("criteria", _DMT_FILE).read_text("utf-8")
    except OSError as err:  # pragma: no cover - packaging error
        raise DataSourceError(f"cannot read criteria/{_DMT_FILE}: {err}") from err
    values: dict[str, Any] = {}
    sources: dict[str, str] = {}
    for number, row in enumerate(csv.DictReader(text.splitlines()), start=2):
        spec = _DMT_ROWS.get(row.get("rule_id", ""))
        if spec is None or row.get("operator") != spec[1] or not row.get("source"):
            raise RuleError(
                f"criteria/{_DMT_FILE} line {number}: unknown rule, wrong operator or no source"
            )
        name = spec[0]
        try:
            values[name] = (
                int(row["threshold"]) if name == "other_grade_ge" else float(row["threshold"])
            )
        except ValueError as err:
            raise RuleError(f"criteria/{_DMT_FILE} line {number}: {err}") from err
        sources[row["rule_id"]] = row["source"]
    missing = sorted(set(_DMT_ROWS) - set(sources))
    if missing:
        raise RuleError(f"criteria/{_DMT_FILE}: missing rules {missing}")
    return DmtLimits(**values, sources=MappingProxyType(sources))


#: The limits in force (clinical-rules.md §4.4), from ``criteria/dmt_us_label.csv``.
DMT_LIMITS = _load_limits()
