"""Tests of prrt.kinetics.tac: a TimeActivityCurve is valid once built; edges parse explicit units."""

from __future__ import annotations

import math

import numpy as np
import pytest

from prrt.errors import InvalidInputError, UnitError
from prrt.kinetics.tac import TimeActivityCurve

H = 3600.0


def test_valid_curve_is_stored_in_canonical_units_and_read_only() -> None:
    tac = TimeActivityCurve(
        times_s=[4 * H, 24 * H],
        activities_bq=[60e6, 55e6],
        uncertainties_bq=[3e6, 2.75e6],
        nuclide="177Lu",
    )
    assert tac.nuclide == "Lu-177"
    assert tac.n_points == 2
    assert tac.times_s.dtype == np.float64
    with pytest.raises(ValueError, match="read-only"):
        tac.activities_bq[0] = 1.0


def test_single_point_at_time_zero_is_valid() -> None:
    tac = TimeActivityCurve(times_s=[0.0], activities_bq=[0.0])
    assert tac.n_points == 1
    assert tac.activities_bq[0] == 0.0


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"times_s": [], "activities_bq": []}, "times_s"),
        ({"times_s": [1.0, math.nan], "activities_bq": [1.0, 1.0]}, r"times_s\[1\]"),
        ({"times_s": [-1.0, 2.0], "activities_bq": [1.0, 1.0]}, r"times_s\[0\]"),
        ({"times_s": [1.0, 3.0, 2.0], "activities_bq": [1.0, 1.0, 1.0]}, r"times_s\[2\]"),
        ({"times_s": [1.0, 1.0], "activities_bq": [1.0, 1.0]}, r"times_s\[1\]"),
        ({"times_s": [1.0, 2.0], "activities_bq": [1.0, math.inf]}, r"activities_bq\[1\]"),
        ({"times_s": [1.0, 2.0], "activities_bq": [math.nan, 1.0]}, r"activities_bq\[0\]"),
        ({"times_s": [1.0, 2.0], "activities_bq": [1.0, -5.0]}, r"activities_bq\[1\]"),
        ({"times_s": [1.0, 2.0], "activities_bq": [1.0]}, "activities_bq"),
        (
            {"times_s": [1.0, 2.0], "activities_bq": [1.0, 1.0], "uncertainties_bq": [0.1, 0.0]},
            r"uncertainties_bq\[1\]",
        ),
        (
            {"times_s": [1.0, 2.0], "activities_bq": [1.0, 1.0], "uncertainties_bq": [-0.1, 0.1]},
            r"uncertainties_bq\[0\]",
        ),
        (
            {
                "times_s": [1.0, 2.0],
                "activities_bq": [1.0, 1.0],
                "uncertainties_bq": [0.1, math.nan],
            },
            r"uncertainties_bq\[1\]",
        ),
        (
            {"times_s": [1.0, 2.0], "activities_bq": [1.0, 1.0], "uncertainties_bq": [0.1]},
            "uncertainties_bq",
        ),
        ({"times_s": [[1.0, 2.0]], "activities_bq": [[1.0, 1.0]]}, "times_s"),
        ({"times_s": ["a"], "activities_bq": [1.0]}, "times_s"),
        ({"times_s": [1.0], "activities_bq": [1.0], "nuclide": "Xx-999"}, "nuclide"),
    ],
)
def test_invalid_curve_is_refused_naming_the_field(kwargs: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError, match=f"^{field}"):
        TimeActivityCurve(**kwargs)  # type: ignore[arg-type]


def test_from_text_parses_explicit_units() -> None:
    tac = TimeActivityCurve.from_text(
        times=["4 h", "1 d", "5760 min"],
        activities=["60 MBq", "0.055 GBq", "30000 kBq"],
        uncertainties=["3 MBq", "3 MBq", "2 MBq"],
        region="kidneys",
    )
    assert tac.times_s.tolist() == [4 * H, 24 * H, 96 * H]
    assert tac.activities_bq.tolist() == pytest.approx([60e6, 55e6, 30e6], rel=1e-15)
    assert tac.uncertainties_bq is not None
    assert tac.uncertainties_bq.tolist() == [3e6, 3e6, 2e6]
    assert tac.region == "kidneys"


@pytest.mark.parametrize(
    ("times", "activities", "uncertainties", "error", "field"),
    [
        (["4 h", "24 h"], ["60 MBq", "55"], None, UnitError, r"activities\[1\]"),
        (["4 h", "24"], ["60 MBq", "55 MBq"], None, UnitError, r"times\[1\]"),
        (["4 MBq", "24 h"], ["60 MBq", "55 MBq"], None, UnitError, r"times\[0\]"),
        (["4 h", "24 h"], ["60 h", "55 MBq"], None, UnitError, r"activities\[0\]"),
        (["4 h", "24 h"], ["60 MBq", "-5 MBq"], None, InvalidInputError, r"activities\[1\]"),
        (["-4 h", "24 h"], ["60 MBq", "5 MBq"], None, InvalidInputError, r"times\[0\]"),
        (["24 h", "4 h"], ["60 MBq", "5 MBq"], None, InvalidInputError, r"times\[1\]"),
        (
            ["4 h", "24 h"],
            ["60 MBq", "5 MBq"],
            ["0 MBq", "1 MBq"],
            InvalidInputError,
            r"uncertainties\[0\]",
        ),
        (["4 h", "24 h"], ["60 MBq", "5 MBq"], ["1 MBq"], InvalidInputError, "uncertainties"),
        (["4 h", "24 h"], ["60 MBq"], None, InvalidInputError, "activities"),
        ("4 h", ["60 MBq"], None, InvalidInputError, "times"),
    ],
)
def test_from_text_refuses_bad_input(
    times: object, activities: object, uncertainties: object, error: type[Exception], field: str
) -> None:
    with pytest.raises(error, match=f"^{field}"):
        TimeActivityCurve.from_text(times=times, activities=activities, uncertainties=uncertainties)  # type: ignore[arg-type]


def test_from_mapping_reads_points_with_units() -> None:
    tac = TimeActivityCurve.from_mapping(
        {
            "region": "lesion 1",
            "nuclide": "lu-177",
            "points": [
                {"time": "24 h", "activity": "12 MBq", "uncertainty": "1 MBq"},
                {"time": "96 h", "activity": "8 MBq", "uncertainty": "0.8 MBq"},
            ],
        }
    )
    assert tac.region == "lesion 1"
    assert tac.nuclide == "Lu-177"
    assert tac.activities_bq.tolist() == [12e6, 8e6]
    assert tac.uncertainties_bq is not None
    assert tac.uncertainties_bq.tolist() == pytest.approx([1e6, 0.8e6], rel=1e-15)


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (
            {"points": [{"time": "4 h", "activity": "60 MBq"}, {"time": "24 h", "activity": "55"}]},
            r"points\[1\]\.activity",
        ),
        (
            {"points": [{"time": "4 h", "activity": "60 MBq"}, {"activity": "55 MBq"}]},
            r"points\[1\]\.time",
        ),
        (
            {
                "points": [
                    {"time": "4 h", "activity": "60 MBq"},
                    {"time": "2 h", "activity": "5 MBq"},
                ]
            },
            r"points\[1\]\.time",
        ),
        ({"points": [{"time": "4 h", "activity": "-1 MBq"}]}, r"points\[0\]\.activity"),
        (
            {
                "points": [
                    {"time": "4 h", "activity": "6 MBq", "uncertainty": "1 MBq"},
                    {"time": "8 h", "activity": "5 MBq"},
                ]
            },
            r"points\[\]\.uncertainty",
        ),
        (
            {"points": [{"time": "4 h", "activity": "6 MBq", "uncertainty": "0 MBq"}]},
            r"points\[0\]\.uncertainty",
        ),
        ({"points": []}, "points"),
        ({}, "points"),
        ({"points": ["4 h"]}, r"points\[0\]"),
        ({"points": [{"time": "4 h", "activity": "6 MBq"}], "nuclide": "Foo"}, "nuclide"),
    ],
)
def test_from_mapping_names_the_json_path(data: dict[str, object], field: str) -> None:
    with pytest.raises(InvalidInputError, match=f"^{field}"):
        TimeActivityCurve.from_mapping(data)


def test_equality_and_scaling() -> None:
    a = TimeActivityCurve(times_s=[1.0, 2.0], activities_bq=[4.0, 2.0], uncertainties_bq=[0.4, 0.2])
    b = TimeActivityCurve(times_s=[1.0, 2.0], activities_bq=[4.0, 2.0], uncertainties_bq=[0.4, 0.2])
    assert a == b
    doubled = a.scaled(2.0)
    assert doubled.activities_bq.tolist() == [8.0, 4.0]
    assert doubled.uncertainties_bq is not None
    assert doubled.uncertainties_bq.tolist() == [0.8, 0.4]
    assert doubled != a
    with pytest.raises(InvalidInputError, match=r"^factor"):
        a.scaled(0.0)
