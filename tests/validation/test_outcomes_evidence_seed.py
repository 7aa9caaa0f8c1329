"""The evidence base reproduces the seed review's numbers and Table 1, and flags its inconsistencies.

Seed: Merola E, Grana CM. Cancers 2023;15(11):2975 (doi:10.3390/cancers15112975).  The
expected values below are typed from shared/docs/evidence.md (§1a results E1–E24 with
the seed's reference numbers, §1b practice numbers P1–P15, §2 Table 1 and later
results, §6 quality flags), independently of the packaged data file.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prrt.outcomes.evidence import EvidenceNumber, SeedResult, load_evidence

pytestmark = pytest.mark.validation

SHARED_TRIALS = Path(__file__).resolve().parents[3] / "shared" / "data" / "trials.json"

#: evidence.md §1a: row -> seed reference numbers
SEED_REFS = {
    "E1": (18,),
    "E2": (10,),
    "E3": (19,),
    "E4": (20,),
    "E5": (9,),
    "E6": (27,),
    "E7": (31,),
    "E8": (32,),
    "E9": (33,),
    "E10": (34,),
    "E11": (21,),
    "E12": (36,),
    "E13": (37,),
    "E14": (38,),
    "E15": (39,),
    "E16": (40,),
    "E17": (41,),
    "E18": (42,),
    "E19": (43,),
    "E20": (45,),
    "E21": (47,),
    "E22": (46,),
    "E23": (49, 50),
    "E24": (51,),
}
#: evidence.md §1b: row -> seed reference numbers ("intro" and "sec. 3" have none)
PRACTICE_REFS = {
    "P1": (1, 2),
    "P2": (3, 4),
    "P3": (5,),
    "P4": (6, 7),
    "P5": (),
    "P6": (10,),
    "P7": (15, 16),
    "P8": (15,),
    "P9": (17,),
    "P10": (),
    "P11": (22, 23),
    "P12": (22, 23),
    "P13": (24,),
    "P14": (28, 29, 30),
    "P15": (46,),
}

#: (row, quantity, arm or subgroup/criterion, value, range, ci95, status) from evidence.md §1a/§1b
SEED_NUMBERS = [
    ("E1", "tumour_growth_inhibited_percent", None, None, (50, 70), None, "seed"),
    ("E2", "pfs_rate_month20_percent", "experimental", 65.2, None, (50.0, 76.8), "verified"),
    ("E2", "pfs_rate_month20_percent", "control", 10.8, None, (3.5, 23.0), "verified"),
    ("E2", "orr_percent", "experimental", 18, None, None, "verified"),
    ("E2", "orr_percent", "control", 3, None, None, "verified"),
    ("E2", "pfs_hr", None, 0.21, None, (0.13, 0.33), "verified"),
    ("E2", "grade3_4_lymphopenia_percent", "experimental", 9, None, None, "verified"),
    ("E2", "n_randomized", None, 229, None, None, "verified"),
    ("E3", "os_median_months", "experimental", 48.0, None, (37.4, 55.2), "verified"),
    ("E3", "os_median_months", "control", 36.3, None, (25.9, 51.7), "verified"),
    ("E3", "os_hr", None, 0.84, None, (0.60, 1.17), "verified"),
    ("E3", "median_followup_months", None, 76, None, None, "verified"),
    ("E3", "crossover_to_prrt_control_percent", "control", 36, None, None, "verified"),
    ("E3", "os_median_crossover_adjusted_months", "control", 30.9, None, None, "flag"),
    ("E5", "partial_response_percent", None, None, (25.0, 35.0), None, "flag"),
    ("E5", "dcr_percent", None, 80.0, None, None, "seed"),
    ("E5", "drr_percent", "RECIST", 33, None, (25, 42), "verified"),
    ("E5", "drr_percent", "RECIST 1.1", 35, None, (26, 45), "verified"),
    ("E5", "drr_percent", "SWOG", 25, None, (14, 36), "verified"),
    ("E6", "pfs_median_months", "NET G3", 19, None, None, "seed"),
    ("E6", "pfs_median_months", "NEC Ki-67 <55%", 11, None, None, "seed"),
    ("E6", "pfs_median_months", "NEC Ki-67 >=55%", 4, None, None, "seed"),
    ("E7", "became_resectable_percent", None, 26.3, None, None, "seed"),
    ("E7", "pfs_2yr_percent", None, None, (90, 95), None, "seed"),
    ("E7", "os_2yr_percent", None, 92.1, None, None, "seed"),
    ("E8", "dcr_percent", None, 84.6, None, None, "seed"),
    ("E8", "pfs_median_months", None, 22, None, None, "seed"),
    ("E8", "cumulative_activity_gbq", None, None, (14.8, 18.5), None, "seed"),
    ("E9", "os_median_months", None, 80.8, None, (66.0, 95.6), "seed"),
    ("E9", "pfs_median_months", None, 14, None, None, "seed"),
    ("E9", "grade3_4_bone_marrow_toxicity_percent", None, 7, None, None, "flag"),
    ("E10", "pfs_median_months", None, 12.52, None, (9.82, 15.22), "verified"),
    ("E10", "os_median_months", None, 26.78, None, None, "verified"),
    ("E10", "dcr_percent", None, 71, None, (66, 75), "verified"),
    ("E10", "grade3_4_ae_percent", None, 5, None, (2, 8), "verified"),
    ("E10", "mds_aml_percent", None, 0, None, (0, 2), "verified"),
    ("E13", "orr_percent", None, 42, None, None, "seed"),
    ("E14", "pfs_months", None, 29.9, None, None, "seed"),
    ("E15", "dcr_percent", None, 71, None, None, "seed"),
    ("E15", "pfs_median_months", None, 31, None, None, "seed"),
    ("E16", "dcr_percent", None, 85, None, None, "seed"),
    ("E16", "pfs_median_months", None, 31.4, None, None, "seed"),
    ("E17", "dcr_percent", None, 84, None, None, "seed"),
    ("E18", "pfs_median_months", None, 48, None, None, "seed"),
    ("E18", "partial_response_percent", None, 30, None, None, "seed"),
    ("E19", "pfs_median_months", None, 13.1, None, None, "seed"),
    ("E19", "hyperglycaemia_percent", None, 20.8, None, None, "seed"),
    ("E20", "reached_kidney_limit_percent", None, 68.5, None, None, "seed"),
    ("E20", "kidney_absorbed_dose_limit_gy", None, 23, None, None, "seed"),
    ("E20", "pfs_median_months", "23 Gy reached", 33, None, None, "seed"),
    ("E20", "pfs_median_months", "23 Gy not reached", 15, None, None, "seed"),
    ("E20", "os_median_months", "23 Gy reached", 54, None, None, "seed"),
    ("E20", "os_median_months", "23 Gy not reached", 25, None, None, "seed"),
    ("E21", "n_patients", None, 8, None, None, "seed"),
    ("E22", "objective_response_count", None, 24, None, None, "flag"),
    ("E22", "median_followup_months", None, 8, None, None, "seed"),
    ("E23", "tumour_dose_ratio_max", None, 10, None, None, "seed"),
    ("E24", "dcr_percent", None, 85, None, None, "seed"),
    ("E24", "no_or_low_agonist_binding_percent", None, 72.5, None, None, "seed"),
    ("P1", "nen_incidence_per_100000_per_year", None, None, (3, 5), None, "seed"),
    ("P2", "ki67_g1_upper_percent", None, 3, None, None, "seed"),
    ("P2", "ki67_g2_upper_percent", None, 20, None, None, "seed"),
    ("P3", "sstr_expressing_percent", None, 90, None, None, "seed"),
    ("P6", "activity_per_cycle_gbq", None, 7.4, None, None, "verified"),
    ("P6", "cumulative_activity_gbq", None, 29.6, None, None, "verified"),
    ("P6", "interval_max_weeks", None, 16, None, None, "verified"),
    ("P8", "kidney_dose_reduction_max_percent", None, 60, None, None, "seed"),
    ("P12", "ppq_accuracy_percent", None, 97, None, None, "seed"),
    ("P12", "netest_accuracy_percent", None, 98, None, None, "seed"),
    ("P14", "ki67_max_percent", None, 55, None, None, "seed"),
    ("P15", "alpha_range_um", None, None, (40, 100), None, "seed"),
]

#: evidence.md §2: Table 1 row -> (trial, NCT)
TABLE1 = {
    1: ("NETTER-2", "NCT03972488"),
    2: ("NeoLuPaNET", "NCT04385992"),
    3: ("COMPETE", "NCT03049189"),
    4: ("COMPOSE", "NCT04919226"),
    5: ("P-PRRT", "NCT02754297"),
    6: ("PARLuNET", "NCT05053854"),
    7: ("NeoNET", "NCT05568017"),
    8: ("NCT03457948", "NCT03457948"),
    9: ("FENET-2016", "NCT04790708"),
    10: ("Radio-marker", "NCT05513469"),
    11: ("NCT05249114", "NCT05249114"),
    12: ("OCCLURANDOM", "NCT02230176"),
    13: ("ComPareNET", "NCT05247905"),
    14: ("NCT05475210", "NCT05475210"),
    15: ("NCT03478358", "NCT03478358"),
    16: ("LANTana", "NCT05178693"),
    17: ("NCT01876771", "NCT01876771"),
    18: ("LUTHREE", "NCT03454763"),
    19: ("DOBATOC", "NCT04917484"),
    20: ("AlphaMedix phase 1", "NCT03466216"),
    21: ("ALPHAMEDIX-02", "NCT05153772"),
}

#: evidence.md §2 "later results": trial -> {dotted path: value}
LATER = {
    "NETTER-2": {
        "n_randomized": 226,
        "n_by_arm.experimental": 151,
        "n_by_arm.control": 75,
        "pfs_median_months.experimental": 22.8,
        "pfs_median_months.control": 8.5,
        "pfs_median_ci95.control": [7.7, 13.8],
        "pfs_hr.value": 0.276,
        "pfs_hr.ci95": [0.182, 0.418],
        "orr_percent.experimental": 43.0,
        "orr_percent.control": 9.3,
        "orr_odds_ratio.value": 7.81,
        "dcr_percent.experimental": 90.7,
        "dcr_percent.control": 66.7,
        "safety.grade3plus_hematologic_percent.experimental": 14,
        "safety.grade3plus_hematologic_percent.control": 1,
    },
    "NeoLuPaNET": {
        "n_enrolled": 31,
        "completed_4_cycles": 26,
        "response.partial_response": "18/31",
        "response.stable_disease": "13/31",
        "response.progression": 0,
        "surgery.operated": 29,
        "surgery.R0": 24,
        "surgery.R1": 4,
        "surgery.postoperative_deaths": 0,
        "surgery.any_complication": "21/29",
        "surgery.severe_complication": "7/29",
    },
    "COMPETE": {
        "n_randomized": 309,
        "n_by_arm.experimental": 207,
        "n_by_arm.control": 102,
        "pfs_median_months.experimental": 23.9,
        "pfs_median_months.control": 14.1,
        "pfs_hr.value": 0.67,
        "pfs_hr.ci95": [0.48, 0.95],
        "pfs_hr.p": 0.022,
        "orr_percent.experimental": 21.9,
        "orr_percent.control": 4.2,
        "os_median_months.experimental": 63.4,
        "os_median_months.control": 58.7,
        "os_hr.value": 0.78,
        "safety.teae_percent.experimental": 82.5,
        "safety.teae_percent.control": 97.0,
    },
    "OCCLURANDOM": {
        "n_randomized": 84,
        "n_by_arm.experimental": 41,
        "n_by_arm.control": 43,
        "pfs12_rate.experimental.percent": 80.5,
        "pfs12_rate.experimental.ci90": [67.5, 89.9],
        "pfs12_rate.control.percent": 42,
        "pfs12_rate.control.ci90": [29.1, 55.5],
        "pfs_median_months.experimental": 20.7,
        "pfs_median_months.control": 11.0,
        "grade3_4_ae_percent.experimental": 44,
    },
    "AlphaMedix phase 1": {"n_enrolled": 20, "orr_percent_first10_at_rp2d": 80},
    "ALPHAMEDIX-02": {
        "n_by_cohort.prrt_naive": 35,
        "n_by_cohort.prrt_exposed": 26,
        "orr_central_percent.prrt_naive": 57,
        "orr_central_percent.prrt_exposed": 19,
        "orr_investigator_percent.prrt_naive": 60,
        "orr_investigator_percent.prrt_exposed": 35,
    },
}

#: evidence.md §6 (and the §1a/§2 flags): flag -> records it must be attached to
SEED_FLAGS = {
    "F1": ("E21", "211"),  # (211)Bi vs 213Bi
    "F2": ("E13", "Seregini"),
    "F3": ("E5", "partial response"),
    "F4": ("E3", "30.9"),
    "F5": ("E9", "respectively"),
    "F6": ("E22", "24/32"),
    "F7": ("NCT03478358", "10–20 mCi"),
    "F8": ("ALPHAMEDIX-02", "NCT05153772"),
    "F9": ("LUTHREE", "(?)"),
    "F10": ("LANTana", "low or absent SSTR uptake"),
}


@pytest.fixture(scope="module")
def base():  # type: ignore[no-untyped-def]
    return load_evidence()


def _number(rec: SeedResult, quantity: str, who: str | None) -> EvidenceNumber:
    for n in rec.numbers:
        extra = dict(n.extra)
        if n.quantity == quantity and who in (n.arm, extra.get("subgroup"), extra.get("criterion")):
            return n
    raise AssertionError(f"{rec.result_id}: no {quantity} for {who}")


def test_every_seed_result_with_its_reference_numbers(base) -> None:  # type: ignore[no-untyped-def]
    assert [r.result_id for r in base.results] == list(SEED_REFS)
    for rid, refs in SEED_REFS.items():
        assert base.result(rid).seed_refs == refs, rid
    assert [p.result_id for p in base.practice] == list(PRACTICE_REFS)
    for rid, refs in PRACTICE_REFS.items():
        assert base.result(rid).seed_refs == refs, rid


@pytest.mark.parametrize(("rid", "quantity", "who", "value", "rng", "ci", "status"), SEED_NUMBERS)
def test_seed_numbers_reproduced(base, rid, quantity, who, value, rng, ci, status) -> None:  # type: ignore[no-untyped-def]
    n = _number(base.result(rid), quantity, who)
    assert n.value == value
    assert n.range == rng
    assert n.ci95 == ci
    assert n.status == status
    assert rid in base.result(rid).source


def test_table1_rows_and_nct_numbers(base) -> None:  # type: ignore[no-untyped-def]
    rows = {t.table_row: (t.trial_id, t.nct) for t in base.trials if t.role == "seed Table 1"}
    assert rows == TABLE1
    netter1 = base.trial("NETTER-1")
    assert netter1.role == "reference"
    assert netter1.nct == "NCT01578239"
    assert [r.result_id for r in base.results_for_trial(netter1)] == ["E2", "E3", "E4"]


@pytest.mark.parametrize("trial", list(LATER))
def test_later_results_reproduced(base, trial: str) -> None:  # type: ignore[no-untyped-def]
    from prrt.outcomes.evidence import flatten_results

    leaves = dict(flatten_results(base.trial(trial).later_results[0]))
    for path, value in LATER[trial].items():
        assert leaves[path] == value, (trial, path)


def test_trials_without_later_results_say_not_found(base) -> None:  # type: ignore[no-untyped-def]
    for name in ("COMPOSE", "PARLuNET", "NeoNET", "LUTHREE", "DOBATOC", "ComPareNET"):
        status = base.trial(name).result_status.lower()
        assert "no results found" in status or "no trial-level" in status or "closed" in status, (
            name
        )


@pytest.mark.parametrize("flag_id", list(SEED_FLAGS))
def test_inconsistencies_are_flagged_not_copied_silently(base, flag_id: str) -> None:  # type: ignore[no-untyped-def]
    record, marker = SEED_FLAGS[flag_id]
    flag = base.flag(flag_id)
    assert record in flag.applies_to
    assert marker in flag.text
    assert flag in base.flags_for(record)
    assert flag.kind in {"inconsistency", "unverified", "incomplete"}


def test_flagged_numbers_carry_status_flag(base) -> None:  # type: ignore[no-untyped-def]
    flagged = {(rid, n.quantity): n.flag for rid, n in base.numbers() if n.status == "flag"}
    assert flagged == {
        ("E3", "os_median_crossover_adjusted_months"): "F4",
        ("E5", "partial_response_percent"): "F3",
        ("E9", "grade3_4_bone_marrow_toxicity_percent"): "F5",
        ("E22", "objective_response_count"): "F6",
    }


def test_table1_eligibility_encodes_lantana_low_uptake(base) -> None:  # type: ignore[no-untyped-def]
    """Flag F10: the criterion the seed's Table 1 omits is in the machine-checkable record."""
    assert base.trial("LANTana").eligibility["sstr"]["rule"] == "all_lesions_max_score"


@pytest.mark.skipif(
    not SHARED_TRIALS.exists(), reason="shared/data/trials.json is not beside the project"
)
def test_table1_records_equal_the_shared_structured_records(base) -> None:  # type: ignore[no-untyped-def]
    shared = json.loads(SHARED_TRIALS.read_text(encoding="utf-8"))
    for record in shared["trials"]:
        ours = next(t for t in base.trials if t.table_row == record["row"]).raw
        for key, value in record.items():
            assert ours[key] == value, (record["row"], key)
