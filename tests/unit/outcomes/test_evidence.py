"""Evidence base loader: lookups, and a malformed file is refused instead of half-read."""

from __future__ import annotations

import copy
import json
from importlib import resources

import pytest

from prrt.errors import DataSourceError, InvalidInputError
from prrt.outcomes.evidence import (
    EVIDENCE_VERSION,
    EvidenceFlag,
    Trial,
    evidence_from_dict,
    flatten_results,
    load_evidence,
)


@pytest.fixture(scope="module")
def raw() -> dict:
    path = resources.files("prrt.outcomes").joinpath("data/evidence.json")
    return json.loads(path.read_text(encoding="utf-8"))


def test_versioned_and_cached() -> None:
    base = load_evidence()
    assert base.version == EVIDENCE_VERSION
    assert load_evidence() is base


@pytest.mark.parametrize(
    ("key", "trial_id"),
    [
        ("netter-2", "NETTER-2"),
        ("NCT03972488", "NETTER-2"),
        ("oclurandom", "OCCLURANDOM"),
        ("NCT01578239", "NETTER-1"),
        (" nct03478358 ", "NCT03478358"),
        ("ALPHAMEDIX02", "ALPHAMEDIX-02"),
    ],
)
def test_trial_lookup_by_name_alias_or_nct(key: str, trial_id: str) -> None:
    assert load_evidence().trial(key).trial_id == trial_id


def test_unknown_names_list_what_exists() -> None:
    base = load_evidence()
    with pytest.raises(InvalidInputError, match="NETTER-2"):
        base.trial("NETTER-3")
    with pytest.raises(InvalidInputError, match="prrt evidence list"):
        base.lookup("nothing-like-this")
    with pytest.raises(InvalidInputError, match="E1-E24"):
        base.result("E99")


def test_lookup_resolves_every_kind() -> None:
    base = load_evidence()
    assert isinstance(base.lookup("F4"), EvidenceFlag)
    assert isinstance(base.lookup("COMPETE"), Trial)
    assert base.lookup("e3").result_id == "E3"  # type: ignore[union-attr]
    assert base.lookup("P6").result_id == "P6"  # type: ignore[union-attr]


def test_numbers_query_and_text() -> None:
    base = load_evidence()
    ((rid, n),) = base.numbers("os_median_crossover_adjusted_months")
    assert rid == "E3"
    assert n.status == "flag"
    assert n.flag == "F4"
    assert n.text() == "30.9 months"
    ((_, hr),) = base.numbers("pfs_hr")
    assert hr.text() == "≈0.21 ratio (95% CI 0.13–0.33)"


def test_flatten_results() -> None:
    leaves = dict(flatten_results({"a": {"b": 1, "c": [1, 2]}, "d": [{"e": 3}]}))
    assert leaves == {"a.b": 1, "a.c": [1, 2], "d[0].e": 3}


def test_number_without_status_is_refused(raw: dict) -> None:
    bad = copy.deepcopy(raw)
    del bad["seed_results"][1]["numbers"][0]["status"]
    with pytest.raises(DataSourceError, match=r"E2.numbers\[0\]: number without 'status'"):
        evidence_from_dict(bad)


def test_unknown_status_is_refused(raw: dict) -> None:
    bad = copy.deepcopy(raw)
    bad["seed_results"][0]["numbers"][0]["status"] = "probably"
    with pytest.raises(DataSourceError, match="status 'probably'"):
        evidence_from_dict(bad)


def test_flagged_number_must_name_a_flag(raw: dict) -> None:
    bad = copy.deepcopy(raw)
    for n in bad["seed_results"][2]["numbers"]:
        n.pop("flag", None)
    with pytest.raises(DataSourceError, match="flagged number must name an existing flag"):
        evidence_from_dict(bad)


def test_flag_pointing_to_no_record_is_refused(raw: dict) -> None:
    bad = copy.deepcopy(raw)
    bad["flags"][0]["applies_to"] = ["E99"]
    with pytest.raises(DataSourceError, match="unknown records"):
        evidence_from_dict(bad)


def test_missing_section_is_refused(raw: dict) -> None:
    bad = {k: v for k, v in raw.items() if k != "flags"}
    with pytest.raises(DataSourceError, match="missing section 'flags'"):
        evidence_from_dict(bad)
