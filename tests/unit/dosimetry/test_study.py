"""Unit tests of prrt.dosimetry.study (format, schema sync, computation paths, errors)."""

from __future__ import annotations

import copy
import json
import math
from pathlib import Path
from typing import Any

import jsonschema
import numpy as np
import pytest

from prrt.dosimetry.course import DEFAULT_DOSE_UNCERTAINTY_FRACTION
from prrt.dosimetry.organ import DEFAULT_RBE_ALPHA, mird_organ_doses
from prrt.dosimetry.radiobiology import g_factor_mono_exponential
from prrt.dosimetry.study import (
    SCHEMA_KEYS,
    StudySettings,
    organ_study_schema,
    parse_study,
    run_study,
)
from prrt.dosimetry.study_input import compact_value
from prrt.dosimetry.svalues import Phantom, load_svalue_table
from prrt.errors import InvalidInputError, UnitError

EXAMPLES = sorted((Path(__file__).parents[3] / "examples" / "dosimetry").glob("*.json"))
H = 3600.0
LN2 = math.log(2.0)


def _minimal() -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "patient": {"sex": "male", "renal_risk_factors": False},
        "cycles": [
            {
                "cycle": 1,
                "administered_activity": "7.4 GBq",
                "regions": [
                    {
                        "region": "kidneys",
                        "mass": "310 g",
                        "tac": {
                            "points": [
                                {"time": f"{t} h", "activity": f"{100 * 2 ** (-t / 50):.6g} MBq"}
                                for t in (4, 24, 96, 168)
                            ]
                        },
                    },
                    {"region": "liver", "tia": "50000 MBq h", "effective_half_life": "70 h"},
                ],
            }
        ],
    }


def test_examples_exist_and_validate_against_schema() -> None:
    assert len(EXAMPLES) >= 4
    validator = jsonschema.Draft202012Validator(organ_study_schema())
    for path in EXAMPLES:
        data = json.loads(path.read_text(encoding="utf-8"))
        assert list(validator.iter_errors(data)) == [], path.name
        result = run_study(parse_study(data)).to_dict()
        assert result["cycles"], path.name


def test_schema_is_valid_draft_2020_12() -> None:
    jsonschema.Draft202012Validator.check_schema(organ_study_schema())


def test_schema_properties_in_sync_with_parser_keys() -> None:
    """Every object of the schema lists exactly the keys the parser reads."""
    schema = organ_study_schema()
    objects = {"study": schema, **schema["$defs"]}
    found = {name: tuple(d["properties"]) for name, d in objects.items() if "properties" in d}
    assert {k: set(v) for k, v in found.items()} == {k: set(v) for k, v in SCHEMA_KEYS.items()}
    for name, d in objects.items():
        if d.get("type") == "object" and "properties" in d:
            assert d.get("additionalProperties") is False, name


def test_schema_defaults_match_code_defaults() -> None:
    settings = organ_study_schema()["$defs"]["settings"]["properties"]
    code = StudySettings()
    assert settings["nuclide"]["default"] == code.nuclide
    assert settings["kidney_convention"]["default"] == code.kidney_convention.value
    assert settings["mass_scaling"]["default"] == code.mass_scaling.value
    assert settings["rbe_alpha"]["default"] == DEFAULT_RBE_ALPHA == code.rbe_alpha
    assert settings["limit_profile"]["default"] == code.limit_profile.name
    assert settings["predictor"]["default"] == code.predictor.value
    assert settings["dose_uncertainty_fraction"]["default"] == DEFAULT_DOSE_UNCERTAINTY_FRACTION
    assert settings["coverage_factor"]["default"] == code.coverage_factor


def test_mono_exponential_study_reproduces_analytic_dose_and_bed() -> None:
    """Exact mono-exponential kidney curve (A0 100 MBq, T_eff 50 h): TIA = A0·T/ln2, dose from
    the MIRD sum and BED with G = T_rep/(T_rep + T_eff) (RB-01 form)."""
    result = run_study(parse_study(_minimal()))
    cycle = result.cycles[0]
    kidney = next(k for k in cycle.kinetics if k["region"] == "kidneys")
    tia = 100e6 * 50 * H / LN2
    assert kidney["time_integrated_activity_bq_s"] == pytest.approx(tia, rel=1e-4)
    expected = mird_organ_doses(
        tia_bq_s={"kidneys": tia, "liver": 50000e6 * H}, phantom=Phantom.ICRP89_AM
    )["kidneys"]
    assert cycle.organ_doses["kidneys"].absorbed_dose_gy == pytest.approx(
        expected.absorbed_dose_gy, rel=1e-4
    )
    bed = cycle.organ_beds["kidneys"]
    assert bed is not None
    # Liver cross-dose has a 70 h time course, so G lies a hair below the pure 50 h value.
    g50 = g_factor_mono_exponential(effective_half_life_s=50 * H, repair_half_time_s=2.8 * H)
    assert bed.g_factor == pytest.approx(g50, rel=5e-3)
    assert bed.bed_gy >= bed.dose_gy


def test_total_body_curve_gives_remainder_contribution() -> None:
    data = _minimal()
    data["cycles"][0]["regions"].append({"region": "whole body", "tia": "200000 MBq h"})
    cycle = run_study(parse_study(data)).cycles[0]
    sources = {c.source: c for c in cycle.organ_doses["kidneys"].contributions}
    assert "remainder_of_body" in sources
    tia_k = next(k for k in cycle.kinetics if k["region"] == "kidneys")[
        "time_integrated_activity_bq_s"
    ]
    assert sources["remainder_of_body"].time_integrated_activity_bq_s == pytest.approx(
        200000e6 * H - 50000e6 * H - tia_k
    )
    assert sources["remainder_of_body"].s_value_gy_per_bq_s == pytest.approx(
        load_svalue_table(Phantom.ICRP89_AM).remainder_of_body_s_gy_per_bq_s(
            target="kidneys", sources=["kidneys", "liver"]
        )
    )


def test_trapezoid_fit_uses_numerical_lea_catcheside() -> None:
    """A trapezoid kidney curve: BED from the sampled dose rate.  Its G equals the generalised
    Lea–Catcheside integral of the trapezoid model itself (points joined linearly, physical-decay
    tail) within 0.5 %, and lies below the 50 h mono-exponential value because the
    physical tail is slower."""
    from prrt.dosimetry.radiobiology import g_factor_sampled
    from prrt.physics import get_nuclide

    data = _minimal()
    region = data["cycles"][0]["regions"][0]
    times = [0.0, 2, 4, 8, 12, 24, 36, 48, 72, 96, 120, 144, 168, 240, 336]
    activities = [100 * 2 ** (-t / 50) for t in times]
    region["tac"]["points"] = [
        {"time": f"{t} h", "activity": f"{a:.8g} MBq"}
        for t, a in zip(times, activities, strict=True)
    ]
    region["fit_model"] = "trapezoid"
    data["cycles"][0]["regions"] = [region]
    cycle = run_study(parse_study(data)).cycles[0]
    bed = cycle.organ_beds["kidneys"]
    assert bed is not None
    assert "numerical" in bed.method
    expected = g_factor_sampled(
        times_s=np.array(times) * H,
        dose_rate_gy_per_s=np.array([float(f"{a:.8g}") for a in activities]),
        repair_half_time_s=2.8 * H,
        tail_rate_per_s=get_nuclide("Lu-177").decay_constant_per_s,
    )
    assert bed.g_factor == pytest.approx(expected, rel=5e-3)
    g50 = g_factor_mono_exponential(effective_half_life_s=50 * H, repair_half_time_s=2.8 * H)
    assert bed.g_factor < g50


def test_alpha_emitter_course_uses_rbe_weighted_dose() -> None:
    data = _minimal()
    data["settings"] = {"nuclide": "Ac-225", "rbe_alpha": 5}
    data["cycles"][0]["administered_activity"] = "8 MBq"
    data["cycles"][0]["regions"] = [{"region": "kidneys", "mass": "300 g", "tia": "30 MBq h"}]
    result = run_study(parse_study(data))
    dose = result.cycles[0].organ_doses["kidneys"]
    assert dose.alpha_dose_gy > 0.0
    assert result.cumulative["kidneys"].absorbed_dose_gy == pytest.approx(dose.rbe_weighted_dose_gy)
    assert result.cycles[0].organ_beds["kidneys"] is None
    assert result.to_dict()["study"]["course_dose_quantity"] == "rbe_weighted_dose"


def test_blood_marrow_and_hematocrit() -> None:
    data = _minimal()
    data["cycles"][0]["blood"] = {
        "points": [
            {"time": f"{t} h", "concentration": f"{20 * 2 ** (-t / 30):.6g} kBq/mL"}
            for t in (1, 4, 24, 96)
        ],
        "hematocrit": 0.40,
    }
    cycle = run_study(parse_study(data)).cycles[0]
    assert cycle.marrow is not None
    assert cycle.marrow.rmblr == pytest.approx(0.19 / 0.60)
    tia_per_ml = 20e3 * 30 * H / LN2
    assert cycle.marrow.time_integrated_activity_bq_s == pytest.approx(
        tia_per_ml * 0.19 / 0.6 * 1170.0, rel=1e-3
    )
    assert "red_marrow" in cycle.dosimetry.organs


def test_plan_in_study() -> None:
    data = _minimal()
    data["plan"] = {"activity_per_cycle": "7.4 GBq"}
    result = run_study(parse_study(data))
    assert result.plan is not None
    dose = result.cumulative["kidneys"].absorbed_dose_gy
    assert result.plan.additional_cycles == math.floor((23.0 - dose) / dose)


def _error(data: Any) -> InvalidInputError:
    with pytest.raises(InvalidInputError) as info:
        run_study(parse_study(data))
    return info.value


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["cycles"][0]["regions"][0].update(mass="0 g"), "cycles[0].regions[0].mass"),
        (
            lambda d: d["cycles"][0]["regions"][0].update(region="pituitary"),
            "cycles[0].regions[0].region",
        ),
        (lambda d: d.update(settings={"nuclide": "Xx-999"}), "settings.nuclide"),
        (
            lambda d: d["cycles"][0]["regions"][0]["tac"]["points"][1].update(activity="55"),
            "cycles[0].regions[0].tac.points[1].activity",
        ),
        (lambda d: d["cycles"][0].pop("administered_activity"), "cycles[0].administered_activity"),
        (lambda d: d["patient"].pop("sex"), "patient.sex"),
        (lambda d: d.pop("cycles"), "cycles"),
        (lambda d: d["cycles"][0]["regions"][1].update(tia=5.0), "cycles[0].regions[1].tia"),
        (
            lambda d: d["cycles"][0].update(administered_activity="7.4 Gy"),
            "cycles[0].administered_activity",
        ),
        (
            lambda d: d["cycles"][0]["regions"][1].update(colour="red"),
            "cycles[0].regions[1].colour",
        ),
        (lambda d: d["cycles"][0]["regions"][1].pop("tia"), "cycles[0].regions[1]"),
        (lambda d: d["patient"].update(sex="unknown"), "patient.sex"),
        (
            lambda d: d["cycles"][0].update(administered_at="2026-01-05T10:00:00"),
            "cycles[0].administered_at",
        ),
        (
            lambda d: d.update(settings={"limit_overrides": {"kidneys.absorbed_dose": "20"}}),
            "settings.limit_overrides.kidneys.absorbed_dose",
        ),
        (lambda d: d["cycles"].append(copy.deepcopy(d["cycles"][0])), "cycles[1].cycle"),
        (
            lambda d: d["cycles"][0]["regions"][0].update(region="left_kidney"),
            "cycles[0].regions[0].region",
        ),
    ],
)
def test_bad_input_names_the_json_path(mutate: Any, field: str) -> None:
    data = _minimal()
    mutate(data)
    err = _error(data)
    assert err.field == field, str(err)


def test_bare_number_is_a_unit_error() -> None:
    data = _minimal()
    data["cycles"][0]["administered_activity"] = 7.4
    with pytest.raises(UnitError, match=r"^cycles\[0\]\.administered_activity: got 7\.4"):
        parse_study(data)


def test_fit_failure_is_bad_input_with_path() -> None:
    data = _minimal()
    data["cycles"][0]["regions"][0]["tac"]["points"] = [{"time": "24 h", "activity": "50 MBq"}]
    err = _error(data)
    assert err.field.startswith("cycles[0].regions[0].tac")


def test_example_numbers_are_stable() -> None:
    """Regression anchor: the two-cycle example's cumulative kidney dose equals the sum of its
    cycle doses and stays below the 23 Gy limit with a positive margin."""
    path = next(p for p in EXAMPLES if p.name == "lu177_dotatate_two_cycles.json")
    result = run_study(parse_study(json.loads(path.read_text(encoding="utf-8"))))
    per_cycle = [c.organ_doses["kidneys"].absorbed_dose_gy for c in result.cycles]
    assert result.cumulative["kidneys"].absorbed_dose_gy == pytest.approx(sum(per_cycle))
    margin = next(c for c in result.limit_checks if c.limit.id == "kidneys.absorbed_dose").margin_gy
    assert margin == pytest.approx(23.0 - sum(per_cycle))
    assert np.all(np.array(per_cycle) > 0)


def test_dose_sd_from_tia_is_s_times_tia_sd_for_one_source() -> None:
    """Analytic: with one fitted source, u(D) = S·u(Ã) (TIA-only uncertainty)."""
    data = _minimal()
    data["cycles"][0]["regions"] = data["cycles"][0]["regions"][:1]
    noisy = [1.03, 0.97, 1.02, 0.985]
    for point, factor in zip(data["cycles"][0]["regions"][0]["tac"]["points"], noisy, strict=True):
        value, unit = point["activity"].split()
        point["activity"] = f"{float(value) * factor:.6g} {unit}"
    cycle = run_study(parse_study(data)).cycles[0]
    kidney = next(k for k in cycle.kinetics if k["region"] == "kidneys")
    dose = cycle.organ_doses["kidneys"]
    s = dose.contributions[0].s_value_gy_per_bq_s
    assert kidney["time_integrated_activity_sd_bq_s"] > 0
    assert cycle.dose_sd_from_tia_gy["kidneys"] == pytest.approx(
        s * kidney["time_integrated_activity_sd_bq_s"], rel=1e-12
    )
    given_tia = _minimal()
    given_tia["cycles"][0]["regions"] = given_tia["cycles"][0]["regions"][1:]
    assert run_study(parse_study(given_tia)).cycles[0].dose_sd_from_tia_gy["liver"] is None


def test_madsen_without_half_life_uses_population_value() -> None:
    data = _minimal()
    data["cycles"][0]["regions"] = [
        {
            "region": "kidneys",
            "fit_model": "stp_madsen_2018",
            "tac": {"points": [{"time": "96 h", "activity": "40 MBq"}]},
        }
    ]
    kinetics = run_study(parse_study(data)).cycles[0].kinetics[0]
    assert kinetics["model"] == "stp_madsen_2018"
    assert kinetics["time_integrated_activity_bq_s"] > 0


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.update(settings={"limit_profile": "nope"}), "settings.limit_profile"),
        (
            lambda d: d["cycles"][0]["regions"].append({"region": "total_body", "tia": "1 MBq h"}),
            "cycles[0].regions[2].tia",
        ),
        (
            lambda d: (
                d.update(settings={"nuclide": "Y-90"}),
                d["cycles"][0]["regions"][1].update(region="tumour bed"),
            ),
            "cycles[0].regions[1].region",
        ),
    ],
)
def test_more_bad_inputs_name_the_json_path(mutate: Any, field: str) -> None:
    data = _minimal()
    mutate(data)
    assert _error(data).field == field


def test_large_lesion_extrapolation_becomes_a_note() -> None:
    """A 2 kg lesion is above the sphere table: S·m held constant (§2.5) and a note, no warning."""
    data = _minimal()
    data["cycles"][0]["lesions"] = [{"name": "bulky", "mass": "1864 g", "tia": "1000 MBq h"}]
    result = run_study(parse_study(data))
    dose = result.cycles[0].lesion_doses["bulky"]
    assert dose.absorbed_dose_gy == pytest.approx(1000e6 * H * 2.65e-14 / 2, rel=1e-9)
    assert any("largest tabulated sphere" in note for note in result.notes)


def test_examples_use_every_field_of_the_format() -> None:
    """Together the shipped examples exercise every property of the schema (so every field is
    parsed and run at least once by test_examples_exist_and_validate_against_schema)."""
    used: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            used.update(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    for path in EXAMPLES:
        walk(json.loads(path.read_text(encoding="utf-8")))
    every = {key for keys in SCHEMA_KEYS.values() for key in keys}
    assert every - used == set()


def _two_cycles() -> dict[str, Any]:
    data = _minimal()
    second = copy.deepcopy(data["cycles"][0])
    second["cycle"] = 2
    data["cycles"][0]["administered_at"] = "2026-01-05T10:00:00+00:00"
    second["administered_at"] = "2026-03-02T10:00:00+00:00"
    data["cycles"].append(second)
    return data


def test_region_activity_above_administered_is_refused() -> None:
    """9000 MBq in the kidneys after 7.4 GBq: no region holds more than was given."""
    data = _minimal()
    data["cycles"][0]["regions"][0]["tac"]["points"][0]["activity"] = "9000 MBq"
    err = _error(data)
    assert err.field == "cycles[0].regions[0].tac.points[0].activity"
    assert err.value == "9000 MBq"
    assert "7400 MBq" in err.expected


def test_region_activity_above_decayed_administered_activity_is_refused() -> None:
    """At 168 h only 7.4 GBq·2^(-168/159.5) = 3.56 GBq of Lu-177 is left anywhere."""
    data = _minimal()
    data["cycles"][0]["regions"][0]["tac"]["points"][3]["activity"] = "5000 MBq"
    err = _error(data)
    assert err.field == "cycles[0].regions[0].tac.points[3].activity"
    half_life_h = 6.647 * 24
    assert f"{7400 * 2 ** (-168 / half_life_h):.4g}" in err.expected


def test_tia_above_no_clearance_bound_is_refused() -> None:
    """TIA ≤ A0·T½/ln2 = 7.4 GBq × 230.1 h = 1.70e6 MBq·h (no biological clearance)."""
    data = _minimal()
    data["cycles"][0]["regions"][1]["tia"] = "2000000 MBq h"
    err = _error(data)
    assert err.field == "cycles[0].regions[1].tia"
    assert "7.4 GBq" in err.expected


def _with_total_body(kidney_mbq: float, total_mbq: float) -> dict[str, Any]:
    data = _minimal()
    points = data["cycles"][0]["regions"][0]["tac"]["points"]
    points[0]["activity"] = f"{kidney_mbq} MBq"
    data["cycles"][0]["regions"].append(
        {
            "region": "total_body",
            "tac": {
                "points": [
                    {"time": p["time"], "activity": f"{total_mbq * 0.97**i:.6g} MBq"}
                    for i, p in enumerate(points)
                ]
            },
        }
    )
    return data


def test_region_above_total_body_is_refused_beyond_allowance() -> None:
    err = _error(_with_total_body(kidney_mbq=500.0, total_mbq=400.0))
    assert err.field == "cycles[0].regions[0].tac.points[0].activity"
    assert "400 MBq" in err.expected


def test_region_slightly_above_total_body_is_noted() -> None:
    """105 % of the total body is within the 10 % calibration allowance: a note, not silence."""
    study = parse_study(_with_total_body(kidney_mbq=420.0, total_mbq=400.0))
    assert len(study.notes) == 1
    assert "exceeds the total-body activity 400 MBq" in study.notes[0]
    assert study.notes[0] in run_study(study).notes


@pytest.mark.parametrize(
    ("mass", "accepted"),
    [("320 kg", False), ("20 g", False), ("31 g", True), ("1550 g", True), ("1551 g", False)],
)
def test_kidney_mass_plausibility_range(mass: str, accepted: bool) -> None:
    """Male ICRP-89 kidneys 310 g: accepted from 0.1× (31 g) to 5× (1550 g)."""
    data = _minimal()
    data["cycles"][0]["regions"][0]["mass"] = mass
    if accepted:
        assert parse_study(data).cycles[0].regions[0].mass_kg == pytest.approx(
            float(mass.split()[0]) * 1e-3
        )
    else:
        err = _error(data)
        assert err.field == "cycles[0].regions[0].mass"
        assert err.value == mass
        assert "31 g and 1550 g" in err.expected


def test_cycle_numbers_out_of_order_are_refused() -> None:
    data = _two_cycles()
    data["cycles"][1]["cycle"] = 1
    data["cycles"][0]["cycle"] = 2
    err = _error(data)
    assert err.field == "cycles[1].cycle"
    assert err.value == 1


def test_administration_times_out_of_order_are_refused() -> None:
    data = _two_cycles()
    data["cycles"][1]["administered_at"] = "2025-12-01T10:00:00+00:00"
    err = _error(data)
    assert err.field == "cycles[1].administered_at"
    assert "2026-01-05T10:00:00+00:00" in err.expected
    assert len(parse_study(_two_cycles()).cycles) == 2


def _kidney_tac_study(points: list[tuple[float, float]]) -> dict[str, Any]:
    data = _minimal()
    data["cycles"][0]["regions"] = [
        {
            "region": "kidneys",
            "tac": {"points": [{"time": f"{t} h", "activity": f"{a} MBq"} for t, a in points]},
            "fit_model": "mono_exponential",
        }
    ]
    data["plan"] = {"activity_per_cycle": "7.4 GBq"}
    return data


def test_rising_kidney_curve_is_flagged_poor_fit_and_net_uptake_and_plan_unreliable() -> None:
    """100→160 MBq rising over 4–168 h: a clearing mono-exponential cannot follow (R² < 0.5)."""
    result = run_study(parse_study(_kidney_tac_study([(4, 100), (24, 120), (96, 140), (168, 160)])))
    record = result.cycles[0].kinetics[0]
    assert record["r_squared"] < 0.5
    assert record["residual_dof"] == 2  # 4 points − 2 parameters
    assert any("fit R² −" in w for w in record["fit_warnings"])
    assert any("net uptake" in w for w in record["fit_warnings"])
    assert any("dominated by an assumption" in n for n in result.notes)
    plan = result.plan
    assert plan is not None
    assert not plan.reliable
    assert plan.summary.startswith("plan not reliable: kidneys fit R² −")
    # The fit SD enters the band in quadrature: u > the 13 % default alone.
    sd = record["time_integrated_activity_sd_bq_s"] / record["time_integrated_activity_bq_s"]
    assert plan.uncertainty_fraction == pytest.approx(math.hypot(0.13, sd), rel=1e-6)


def test_two_point_fit_has_no_dof_and_no_r_squared() -> None:
    """2 points, 2 parameters: R² = 1 by construction, reported as None with residual_dof 0."""
    result = run_study(parse_study(_kidney_tac_study([(24, 100), (96, 60)])))
    record = result.cycles[0].kinetics[0]
    assert (record["residual_dof"], record["r_squared"]) == (0, None)
    assert record["fit_warnings"] == [
        "kidneys fit has no residual degrees of freedom (2 points, 2 parameters)"
    ]
    assert result.plan is not None
    assert not result.plan.reliable


def test_good_clearing_curve_has_no_fit_warning() -> None:
    """Exact mono-exponential 200·2^(−t/60 h) MBq: R² = 1 with 2 dof, reliable plan."""
    points = [(t, 200.0 * 2 ** (-t / 60.0)) for t in (4, 24, 96, 168)]
    result = run_study(parse_study(_kidney_tac_study(points)))
    record = result.cycles[0].kinetics[0]
    assert record["r_squared"] == pytest.approx(1.0, abs=1e-6)
    assert record["fit_warnings"] == []
    assert result.plan is not None
    assert result.plan.reliable


def test_long_values_in_errors_are_summarised() -> None:
    """repr longer than 200 characters: keys or item count and length, not the value."""
    assert compact_value("7.4 GBq") == "7.4 GBq"
    assert compact_value({"studies": ["x" * 300]}) == '{"studies": …} (317 characters)'
    data = _minimal()
    data["cycles"] = "y" * 5000
    with pytest.raises(InvalidInputError) as caught:
        parse_study(data)
    assert caught.value.field == "cycles"
    assert caught.value.value.endswith("… (5000 characters)")
    assert len(str(caught.value)) < 400
