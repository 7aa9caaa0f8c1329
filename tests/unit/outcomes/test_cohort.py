"""Cohort CSV / records reader: units in column names, and errors that name the row and column."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from prrt.clinical.response import RecistResponse
from prrt.errors import InvalidInputError, NonConformingInputWarning
from prrt.outcomes.cohort import (
    DAYS_PER_MONTH,
    Endpoint,
    cohort_from_frame,
    cohort_from_records,
    read_cohort_csv,
)

HEADER = "patient_id,arm,pfs_months,pfs_event,os_months,os_event,best_response,best_percent_change"


def _csv(*rows: str, header: str = HEADER) -> str:
    return "\n".join([header, *rows]) + "\n"


def test_julian_month_is_365_25_over_12_days() -> None:
    # analytic: 365.25 d / 12 = 30.4375 d
    assert pytest.approx(30.4375, abs=1e-12) == DAYS_PER_MONTH


def test_days_and_weeks_are_converted_to_months() -> None:
    text = _csv(
        "p1,A,365.25,1,730.5,0,PR,-40",
        header="patient_id,arm,pfs_days,pfs_event,os_days,os_event,best_response,best_percent_change",
    )
    p = read_cohort_csv(text).patients[0]
    assert p.pfs_months == pytest.approx(12.0, abs=1e-12)
    assert p.os_months == pytest.approx(24.0, abs=1e-12)
    weeks = read_cohort_csv("patient_id,os_weeks,os_event\np1,30.4375,1\n").patients[0]
    assert weeks.os_months == pytest.approx(7.0, abs=1e-12)  # 30.4375 weeks = 7 months


def test_comments_blank_lines_and_whitespace_are_accepted() -> None:
    text = "# synthetic\n\n" + _csv(" p1 , A ,12,1,20,0, pr ,-35", "", "p2,B,3,1,9,1,PD,25")
    cohort = read_cohort_csv(text)
    assert [p.patient_id for p in cohort.patients] == ["p1", "p2"]
    assert cohort.arms == ("A", "B")
    assert cohort.patients[0].best_response is RecistResponse.PR
    times, events, arms = cohort.endpoint_data(Endpoint.PFS)
    assert times.tolist() == [12.0, 3.0]
    assert events.tolist() == [True, True]
    assert arms == ("A", "B")


def test_group_column_and_missing_arm_default_to_groups() -> None:
    assert read_cohort_csv("patient_id,group,os_months,os_event\np1,X,1,1\n").arms == ("X",)
    assert read_cohort_csv("patient_id,os_months,os_event\np1,1,1\n").arms == ("all",)


def test_extra_columns_become_covariates_numeric_or_text() -> None:
    cohort = read_cohort_csv(
        "patient_id,os_months,os_event,age_years,site\np1,5,1,61,pancreas\np2,7,0,,ileum\n"
    )
    assert cohort.covariate_names == ("age_years", "site")
    assert cohort.numeric_covariates == ("age_years",)
    assert cohort.patients[0].covariate("age_years") == 61.0
    assert cohort.patients[1].covariate("age_years") is None
    assert cohort.patients[1].covariate("site") == "ileum"


def test_empty_cells_mean_not_recorded() -> None:
    cohort = read_cohort_csv(_csv("p1,A,,,10,1,,", "p2,A,4,1,8,0,SD,5"))
    assert cohort.patients[0].pfs_months is None
    assert cohort.patients[0].best_response is None
    times, _, _ = cohort.endpoint_data(Endpoint.PFS)
    assert times.tolist() == [4.0]


def test_records_from_a_database_with_bools_numbers_and_none() -> None:
    cohort = cohort_from_records(
        [
            {"patient_id": 1, "arm": "A", "os_months": 10, "os_event": True},
            {"patient_id": 2, "arm": "A", "os_months": 12.5, "os_event": False},
            {"patient_id": 3, "arm": "A", "os_months": None, "os_event": None},
        ]
    )
    assert [p.os_event for p in cohort.patients] == [True, False, None]
    assert cohort.patients[0].patient_id == "1"


def test_data_frame_with_nan_cells() -> None:
    frame = pd.DataFrame(
        {"patient_id": ["a", "b"], "pfs_months": [3.0, math.nan], "pfs_event": [1, math.nan]}
    )
    cohort = cohort_from_frame(frame)
    assert cohort.patients[0].pfs_months == 3.0
    assert cohort.patients[1].pfs_months is None


# --- bad input: every message names the row and the column ---------------------------------


def test_missing_patient_id_column() -> None:
    with pytest.raises(InvalidInputError, match="patient_id"):
        read_cohort_csv("arm,os_months,os_event\nA,1,1\n")


def test_missing_event_column_names_it() -> None:
    with pytest.raises(InvalidInputError, match="'pfs_event' column"):
        read_cohort_csv("patient_id,pfs_months\np1,3\n")


def test_time_column_without_unit_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="unit in the time column name") as err:
        read_cohort_csv("patient_id,pfs,pfs_event\np1,3,1\n")
    assert "pfs_months" in str(err.value)


def test_same_time_in_two_units_is_refused() -> None:
    with pytest.raises(InvalidInputError, match="one os time column"):
        read_cohort_csv("patient_id,os_months,os_days,os_event\np1,1,30,1\n")


def test_no_endpoint_at_all() -> None:
    with pytest.raises(InvalidInputError, match="at least one endpoint"):
        read_cohort_csv("patient_id,arm\np1,A\n")


def test_negative_time_names_row_and_column() -> None:
    with pytest.raises(InvalidInputError, match=r"row 2, column pfs_months: got '-1'") as err:
        read_cohort_csv(_csv("p1,A,3,1,5,1,SD,0", "p2,A,-1,1,5,1,SD,0"))
    assert "line 3 of cohort.csv" in str(err.value)


def test_event_coded_other_than_0_1_names_row_and_column() -> None:
    with pytest.raises(InvalidInputError, match=r"row 1, column os_event: got '2'") as err:
        read_cohort_csv(_csv("p1,A,3,1,5,2,SD,0"))
    assert "0 (censored) or 1 (event)" in str(err.value)
    with pytest.raises(InvalidInputError, match="row 1, column pfs_event"):
        cohort_from_records([{"patient_id": "p", "pfs_months": 1, "pfs_event": "yes"}])


def test_time_without_its_event() -> None:
    with pytest.raises(InvalidInputError, match="row 1, column pfs_event"):
        read_cohort_csv(_csv("p1,A,3,,5,1,SD,0"))


def test_non_numeric_time_hint_says_unit_belongs_in_column_name() -> None:
    with pytest.raises(InvalidInputError, match="unit is in the column name"):
        read_cohort_csv(_csv("p1,A,3 months,1,5,1,SD,0"))


def test_percent_change_below_minus_100() -> None:
    with pytest.raises(InvalidInputError, match="row 1, column best_percent_change"):
        read_cohort_csv(_csv("p1,A,3,1,5,1,PR,-130"))


def test_unknown_response_lists_allowed_values() -> None:
    with pytest.raises(InvalidInputError, match=r"row 1, column best_response.*CR, PR, SD, PD"):
        read_cohort_csv(_csv("p1,A,3,1,5,1,great,-30"))


def test_duplicate_patient_id() -> None:
    with pytest.raises(InvalidInputError, match="already used in row 1"):
        read_cohort_csv(_csv("p1,A,3,1,5,1,SD,0", "p1,A,4,1,6,1,SD,0"))


def test_row_with_wrong_number_of_cells() -> None:
    with pytest.raises(InvalidInputError, match="row 1"):
        read_cohort_csv(_csv("p1,A,3,1"))


def test_course_end_before_start() -> None:
    with pytest.raises(InvalidInputError, match="row 1, column course_end_months"):
        read_cohort_csv(
            "patient_id,os_months,os_event,course_start_months,course_end_months\np1,9,1,4,2\n"
        )


def test_empty_file_and_header_only() -> None:
    with pytest.raises(InvalidInputError, match="header row"):
        read_cohort_csv("# only a comment\n")
    with pytest.raises(InvalidInputError, match="at least one patient row"):
        read_cohort_csv(HEADER + "\n")


def test_pfs_longer_than_os_warns() -> None:
    with pytest.warns(NonConformingInputWarning, match="exceeds the OS time"):
        read_cohort_csv(_csv("p1,A,30,1,20,1,SD,0"))
