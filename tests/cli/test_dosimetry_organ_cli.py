"""CLI tests of ``prrt dosimetry organ`` (typer CliRunner on the real application)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from prrt.adapters.cli.app import app
from prrt.dosimetry.study import parse_study, run_study

EXAMPLES = Path(__file__).parents[2] / "examples" / "dosimetry"
runner = CliRunner()


def _study() -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "patient": {"sex": "female", "renal_risk_factors": False},
        "cycles": [
            {
                "cycle": 1,
                "administered_activity": "7.4 GBq",
                "regions": [
                    {"region": "kidneys", "tia": "10000 MBq h", "effective_half_life": "50 h"}
                ],
            }
        ],
        "plan": {"activity_per_cycle": "7.4 GBq"},
    }


def _write_named(tmp_path: Path, data: Any, name: str) -> str:
    path = tmp_path / name
    path.write_text(json.dumps(data), encoding="utf-8")
    return str(path)


def _write(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "study.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def test_json_output_matches_library(tmp_path: Path) -> None:
    """The CLI prints the library's payload: 1e4 MBq·h × S_AF(kid←kid) 8.70e-5 mGy/(MBq·s)."""
    result = runner.invoke(
        app, ["dosimetry", "organ", str(_write(tmp_path, _study())), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    (payload,) = json.loads(result.stdout)["studies"]
    assert payload["file"].endswith("study.json")
    kidney = payload["cycles"][0]["organ_doses"][0]
    assert kidney["region"] == "kidneys"
    assert kidney["absorbed_dose_gy"] == pytest.approx(1e4 * 3600 * 8.70e-5 / 1000, rel=1e-9)
    assert kidney["bed"]["g_factor"] == pytest.approx(2.8 / 52.8, rel=1e-9)
    expected = run_study(parse_study(_study())).to_dict()
    assert (
        payload["course"]["plan"]["additional_cycles"]
        == expected["course"]["plan"]["additional_cycles"]
    )
    checks = {c["id"]: c for c in payload["course"]["limit_checks"]}
    assert checks["kidneys.absorbed_dose"]["margin_gy"] == pytest.approx(23.0 - 3.132, abs=1e-3)
    assert checks["red_marrow.absorbed_dose"]["status"] == "indeterminate"


def test_text_output_lists_doses_limits_and_plan(tmp_path: Path) -> None:
    result = runner.invoke(app, ["dosimetry", "organ", str(_write(tmp_path, _study()))])
    assert result.exit_code == 0, result.output
    assert "3.132" in result.stdout  # kidney dose in Gy
    assert "kidneys.absorbed_dose" in result.stdout
    assert "Plan (kidneys" in result.stdout


@pytest.mark.parametrize("example", sorted(p.name for p in EXAMPLES.glob("*.json")))
def test_every_example_runs(example: str) -> None:
    result = runner.invoke(app, ["dosimetry", "organ", str(EXAMPLES / example), "--format", "json"])
    assert result.exit_code == 0, result.output
    (payload,) = json.loads(result.stdout)["studies"]
    assert all(c["absorbed_dose_gy"] >= 0 for c in payload["course"]["cumulative"])


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d["cycles"][0]["regions"][0].update(mass="0 g"), "cycles[0].regions[0].mass"),
        (
            lambda d: d["cycles"][0]["regions"][0].update(region="brain stem"),
            "cycles[0].regions[0].region",
        ),
        (lambda d: d.update(settings={"nuclide": "Lu-999"}), "settings.nuclide"),
        (lambda d: d["cycles"][0]["regions"][0].update(tia="10000"), "cycles[0].regions[0].tia"),
        (lambda d: d["cycles"][0].pop("administered_activity"), "cycles[0].administered_activity"),
        (lambda d: d["plan"].update(activity_per_cycle=7.4), "plan.activity_per_cycle"),
    ],
)
def test_bad_input_exit_code_2_names_field(tmp_path: Path, mutate: Any, field: str) -> None:
    data = _study()
    mutate(data)
    path = _write(tmp_path, data)
    result = runner.invoke(app, ["dosimetry", "organ", str(path), "--format", "json"])
    assert result.exit_code == 2
    problem = json.loads(result.stderr)
    assert problem["field"] == field
    text = runner.invoke(app, ["dosimetry", "organ", str(path)])
    assert text.exit_code == 2
    assert field in text.stderr


def test_missing_file_and_bad_json_exit_2(tmp_path: Path) -> None:
    missing = runner.invoke(app, ["dosimetry", "organ", str(tmp_path / "nope.json")])
    assert missing.exit_code == 2
    assert "STUDY" in missing.stderr
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["dosimetry", "organ", str(broken)])
    assert result.exit_code == 2
    assert "study JSON file" in result.stderr
    assert "line 1, column 2" in result.stderr


def test_help_mentions_format() -> None:
    result = runner.invoke(app, ["dosimetry", "organ", "--help"])
    assert result.exit_code == 0
    assert "--format" in result.stdout


def test_several_study_files_like_a_shell_glob() -> None:
    """``prrt dosimetry organ examples/dosimetry/*.json``: one entry per file, in order."""
    paths = sorted(str(p) for p in EXAMPLES.glob("*.json"))
    result = runner.invoke(app, ["dosimetry", "organ", *paths, "--format", "json"])
    assert result.exit_code == 0, result.output
    studies = json.loads(result.stdout)["studies"]
    assert [s["file"] for s in studies] == paths
    for path, study in zip(paths, studies, strict=True):
        alone = run_study(parse_study(json.loads(Path(path).read_text(encoding="utf-8"))))
        assert study["course"]["cumulative"][0]["absorbed_dose_gy"] == pytest.approx(
            alone.to_dict()["course"]["cumulative"][0]["absorbed_dose_gy"], rel=1e-12
        )
    text = runner.invoke(app, ["dosimetry", "organ", *paths])
    assert text.exit_code == 0, text.output
    assert all(path in text.stdout for path in paths)


def test_bad_second_file_names_file_and_path(tmp_path: Path) -> None:
    data = _study()
    data["cycles"][0]["regions"][0]["mass"] = "320 kg"
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(data), encoding="utf-8")
    good = str(EXAMPLES / "lu177_dotatate_two_cycles.json")
    result = runner.invoke(app, ["dosimetry", "organ", good, str(bad), "--format", "json"])
    assert result.exit_code == 2
    problem = json.loads(result.stderr)
    assert problem["field"] == "cycles[0].regions[0].mass"
    assert str(bad) in problem["message"]


def test_limit_reached_and_beyond_label_are_said(tmp_path: Path) -> None:
    """Kidneys 25 Gy after one cycle (> 23 Gy): no further cycle; 0.87 Gy: 26 cycles, beyond label."""
    data = _study()
    data["cycles"][0]["regions"][0]["tia"] = f"{25.0 / (3600 * 8.70e-8):.8g} MBq h"
    runner_args = ["dosimetry", "organ"]
    with_limit = runner.invoke(app, [*runner_args, _write_named(tmp_path, data, "reached.json")])
    assert with_limit.exit_code == 0, with_limit.output
    assert "limit exceeded (25 of 23 Gy): no further cycle" in with_limit.stdout
    assert "limit reached" not in with_limit.stdout
    assert "0 more full cycle" not in with_limit.stdout
    payload = runner.invoke(
        app, [*runner_args, _write_named(tmp_path, data, "reached.json"), "--format", "json"]
    )
    plan = json.loads(payload.stdout)["studies"][0]["course"]["plan"]
    assert plan["limit_reached"] is True
    assert plan["additional_cycles"] == 0
    small = _study()
    result = runner.invoke(
        app, [*runner_args, _write_named(tmp_path, small, "small.json"), "--format", "json"]
    )
    plan = json.loads(result.stdout)["studies"][0]["course"]["plan"]
    # 3.132 Gy per cycle: floor((23 − 3.132)/3.132) = 6 more full cycles, 8 in all with the partial.
    assert plan["additional_cycles"] == 6
    assert plan["planned_total_cycles"] == 8
    assert plan["beyond_label"] is True
    assert "beyond the label's 4 cycles" in plan["summary"]


def test_cumulative_lacking_cycles_is_a_lower_bound() -> None:
    """Liver dosed only in cycle 2 of the per-kidney example: '≥' in text, lower_bound in JSON."""
    path = str(EXAMPLES / "lu177_per_kidney_risk_factors.json")
    result = runner.invoke(app, ["dosimetry", "organ", path, "--format", "json"])
    (payload,) = json.loads(result.stdout)["studies"]
    liver = next(c for c in payload["course"]["cumulative"] if c["region"] == "liver")
    assert liver["lower_bound"] is True
    assert liver["missing_cycles"] == [1]
    text = runner.invoke(app, ["dosimetry", "organ", path])
    assert f"≥ {liver['absorbed_dose_gy']:.3f}" in text.stdout


def _tac_study(points: list[tuple[float, float]]) -> dict[str, Any]:
    data = _study()
    data["cycles"][0]["regions"] = [
        {
            "region": "kidneys",
            "tac": {"points": [{"time": f"{t} h", "activity": f"{a} MBq"} for t, a in points]},
            "fit_model": "mono_exponential",
        }
    ]
    return data


def test_poor_fit_is_warned_in_text_and_json_and_plan_is_not_reliable(tmp_path: Path) -> None:
    """Rising 100/120/140/160 MBq at 4/24/96/168 h: R² < 0.5, net uptake, plan not reliable."""
    path = _write_named(
        tmp_path, _tac_study([(4, 100), (24, 120), (96, 140), (168, 160)]), "rising.json"
    )
    text = runner.invoke(app, ["dosimetry", "organ", path])
    assert text.exit_code == 0, text.output
    assert "fit warning: kidneys fit R² −" in text.stdout
    assert "fit warning: kidneys still rising at the last point (net uptake)" in text.stdout
    assert "plan not reliable: kidneys fit R² −" in text.stdout
    payload = json.loads(
        runner.invoke(app, ["dosimetry", "organ", path, "--format", "json"]).stdout
    )
    study = payload["studies"][0]
    assert study["cycles"][0]["kinetics"][0]["r_squared"] < 0.5
    assert study["course"]["plan"]["reliable"] is False


def test_two_point_fit_shows_r_squared_as_not_applicable(tmp_path: Path) -> None:
    """2 points for 2 parameters: 0 residual dof, R² printed 'n/a (0 dof)', not 1.000."""
    path = _write_named(tmp_path, _tac_study([(24, 100), (96, 60)]), "two.json")
    text = runner.invoke(app, ["dosimetry", "organ", path])
    assert text.exit_code == 0, text.output
    assert "n/a (0 dof)" in text.stdout
    assert "1.000" not in text.stdout.split("Doses")[0]
    assert "no residual degrees of freedom (2 points, 2 parameters)" in text.stdout


def test_a_huge_wrong_value_is_summarised_not_dumped(tmp_path: Path) -> None:
    """A prrt output file fed back as a study: the error names the field, not 10 kB of it."""
    wrong = {"studies": [{"file": "x", "values": list(range(2000))}]}
    path = _write_named(tmp_path, wrong, "output.json")
    text = runner.invoke(app, ["dosimetry", "organ", path])
    assert text.exit_code == 2
    assert "studies: got" in text.stderr
    assert "(1 item, " in text.stderr
    assert len(text.stderr) < 600
    problem = runner.invoke(app, ["dosimetry", "organ", path, "--format", "json"])
    assert problem.exit_code == 2
    assert len(problem.stderr) < 1000
    tia = _study()
    tia["cycles"][0]["regions"][0]["tia"] = ["1 MBq h"] * 1000
    result = runner.invoke(app, ["dosimetry", "organ", _write_named(tmp_path, tia, "tia.json")])
    assert result.exit_code == 2
    assert "['1 MBq h', …] (1000 items, 11000 characters)" in result.stderr
    assert "the value is not of type 'string'" in result.stderr
    assert len(result.stderr) < 600
