"""Tests of prrt.clinical.profiles: the named profiles of §0.5 and the §11 settings."""

from __future__ import annotations

import pytest

from prrt.clinical.outcome import Severity
from prrt.clinical.profiles import PROFILE_NAMES, get_profile, list_profiles
from prrt.errors import InvalidInputError


def test_shipped_profiles_match_section_0_5() -> None:
    assert list_profiles() == PROFILE_NAMES
    assert get_profile().name == "PRRT-DEFAULT-1"


@pytest.mark.parametrize(
    ("name", "setting", "default", "changed"),
    [
        ("PET_STRICT", "sstr_min_score_pet", 2, 3),
        ("NETTER2_INCLUSIVE_55", "g3_ki67_upper_bound_inclusive", False, True),
        ("EU_SMPC_2017", "dmt_eu_any_haematological_grade3", False, True),
        ("ERASMUS_18M", "retreatment_min_interval_months", 12, 18),
        ("USPI_DELAY_READING", "dmt_sixteen_week_reading", "max_interval", "delay_beyond_schedule"),
    ],
)
def test_each_profile_changes_exactly_its_setting(
    name: str, setting: str, default: object, changed: object
) -> None:
    base, prof = get_profile().settings(), get_profile(name).settings()
    assert base[setting] == default
    assert prof[setting] == changed
    assert {k for k in base if base[k] != prof[k]} == {setting}
    assert "§" in get_profile(name).sources[setting] or get_profile(name).sources[setting]


def test_every_setting_has_a_source() -> None:
    for name in list_profiles():
        profile = get_profile(name)
        for setting in profile.settings():
            assert profile.sources[setting].strip(), (name, setting)


def test_ambiguity_register_items_are_settings() -> None:
    # §11 items 1-9, 11 and 12 map onto a setting; item 10 (release) is recorded as release_basis.
    registers = " ".join(get_profile().sources.values())
    for item in (
        "§11.1",
        "§11.2",
        "§11.3",
        "§11.4",
        "§11.5",
        "§11.6",
        "§11.7",
        "§11.8",
        "§11.9",
        "§11.10",
        "§11.11",
        "§11.12",
    ):
        assert item in registers, item


def test_unknown_profile_is_refused() -> None:
    with pytest.raises(
        InvalidInputError, match=r"profile: got 'STRICT'; expected one of PRRT-DEFAULT-1"
    ):
        get_profile("STRICT")


def test_with_settings_validates_choices() -> None:
    assert (
        get_profile().with_settings(retreatment_clock="first_cycle").retreatment_clock
        == "first_cycle"
    )
    with pytest.raises(InvalidInputError, match=r"profile\.retreatment_clock"):
        get_profile().with_settings(retreatment_clock="yesterday")
    with pytest.raises(InvalidInputError, match=r"profile\.nonsense"):
        get_profile().with_settings(nonsense=1)


def test_threshold_table_has_sources_and_operators() -> None:
    thresholds = get_profile().thresholds
    assert thresholds["X-PLT-LT75"].value == 75.0
    assert thresholds["X-PLT-LT75"].fail_when == "<"
    assert thresholds["C-SCR-GT150"].requirement == "<="
    assert thresholds["X-G3-KPS-LE50"].fires(50.0)
    assert not thresholds["X-G3-KPS-LE50"].fires(51.0)
    assert thresholds["W-ANC-LT1"].severity is Severity.WARNING
    assert all(t.source and t.confidence in {"V", "R", "S", "P", "D"} for t in thresholds.values())


def test_profile_to_dict_lists_settings_and_thresholds() -> None:
    data = get_profile("PET_STRICT").to_dict()
    assert data["settings"]["sstr_min_score_pet"]["value"] == 3
    assert "SSTR-4" in data["settings"]["sstr_min_score_pet"]["source"]
    assert data["thresholds"]["X-HB-LT8"]["fires_when"] == "haemoglobin < 80 g/L"


def test_with_threshold_changes_one_criterion_and_records_its_source() -> None:
    site = get_profile().with_threshold("W-FDG-PET-RECOMMENDED", 15.0, source="site protocol")
    rule = site.threshold("W-FDG-PET-RECOMMENDED")
    assert (rule.value, rule.fail_when, rule.source, rule.confidence) == (
        15.0,
        ">",
        "site protocol",
        "P",
    )
    assert (
        get_profile().threshold("W-FDG-PET-RECOMMENDED").value == 10.0
    )  # shipped profile unchanged
    with pytest.raises(InvalidInputError, match="rule_id"):
        get_profile().with_threshold("X-NOPE", 1.0, source="x")
    with pytest.raises(InvalidInputError, match="source"):
        get_profile().with_threshold("X-PLT-LT75", 100.0, source=" ")
