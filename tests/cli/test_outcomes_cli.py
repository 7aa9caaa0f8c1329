"""CLI tests of ``prrt cohort analyze``, ``prrt evidence show|list|pool`` and ``prrt trials match``.

The commands are registered on a fresh Typer application (``outcomes_cmds.register``), as
the ``prrt`` application does, and driven with Typer's ``CliRunner``.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from prrt.adapters.cli import outcomes_cmds

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "examples" / "cohort" / "demo_cohort.csv"
CASE = ROOT / "examples" / "cases" / "01_eligible_midgut_net_g2.json"
runner = CliRunner()


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """Test application."""

    outcomes_cmds.register(app)
    return app


APP = _app()


def _run(*args: str):  # type: ignore[no-untyped-def]
    return runner.invoke(APP, list(args), env={"COLUMNS": "200"})


@pytest.fixture(scope="module")
def analysis_dir(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("cohort")
    result = _run(
        "cohort",
        "analyze",
        str(DEMO),
        "--out",
        str(out),
        "--format",
        "json",
        "--covariate",
        "ki67_percent",
    )
    assert result.exit_code == 0, result.output
    return out, json.loads(result.stdout)


def test_cohort_analyze_writes_html_figures_and_json(analysis_dir) -> None:  # type: ignore[no-untyped-def]
    out, payload = analysis_dir
    for name in (
        "report.html",
        "cohort_analysis.json",
        "km_pfs.png",
        "km_os.png",
        "waterfall.png",
        "swimmer.png",
        "cox_forest_pfs.png",
    ):
        assert (out / name).is_file(), name
    assert payload["n_patients"] == 100
    assert [e["endpoint"] for e in payload["endpoints"]] == ["pfs", "os"]
    saved = json.loads((out / "cohort_analysis.json").read_text())
    assert (
        saved["endpoints"][0]["arms"][0]["median_months"]
        == payload["endpoints"][0]["arms"][0]["median_months"]
    )


def test_cohort_analyze_text_output(tmp_path: Path) -> None:
    result = _run(
        "cohort",
        "analyze",
        str(DEMO),
        "--out",
        str(tmp_path),
        "--landmark",
        "20",
        "--ci-method",
        "log",
    )
    assert result.exit_code == 0, result.output
    assert "PFS (months)" in result.stdout
    assert "S(20) %" in result.stdout
    assert "log-rank chi2" in result.stdout
    assert "ORR" in result.stdout
    assert "report:" in result.stdout


def test_cohort_analyze_with_a_reconstructed_published_curve(tmp_path: Path) -> None:
    folder = ROOT / "examples" / "cohort"
    result = _run(
        "cohort",
        "analyze",
        str(DEMO),
        "--out",
        str(tmp_path),
        "--format",
        "json",
        "--reference-curve",
        str(folder / "synthetic_published_pfs_curve.csv"),
        "--reference-at-risk",
        str(folder / "synthetic_published_pfs_at_risk.csv"),
        "--reference-label",
        "synthetic arm",
    )
    assert result.exit_code == 0, result.output
    (ref,) = json.loads(result.stdout)["references"]
    assert ref["label"] == "synthetic arm"
    assert ref["reconstructed"]["n"] == 116


def test_reference_curve_needs_its_at_risk_table(tmp_path: Path) -> None:
    folder = ROOT / "examples" / "cohort"
    result = _run(
        "cohort",
        "analyze",
        str(DEMO),
        "--out",
        str(tmp_path),
        "--reference-curve",
        str(folder / "synthetic_published_pfs_curve.csv"),
    )
    assert result.exit_code == 2
    assert "--reference-at-risk" in result.stderr


@pytest.mark.parametrize(
    ("csv_text", "expected"),
    [
        ("patient_id,arm,pfs_months\np1,A,3\n", "'pfs_event' column"),
        ("patient_id,arm,pfs_months,pfs_event\np1,A,3,1\np2,A,-2,1\n", "row 2, column pfs_months"),
        ("patient_id,arm,os_months,os_event\np1,A,3,2\n", "row 1, column os_event"),
        ("patient_id,arm,pfs,pfs_event\np1,A,3,1\n", "unit in the time column name"),
    ],
)
def test_cohort_bad_input_exits_2_naming_row_and_column(
    tmp_path: Path, csv_text: str, expected: str
) -> None:
    path = tmp_path / "bad.csv"
    path.write_text(csv_text)
    result = _run("cohort", "analyze", str(path), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2, result.output
    assert expected in result.stderr


def test_cohort_bad_input_json_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("patient_id,arm,os_months,os_event\np1,A,3,yes\n")
    result = _run("cohort", "analyze", str(path), "--out", str(tmp_path / "o"), "--format", "json")
    assert result.exit_code == 2
    problem = json.loads(result.stderr)
    assert problem["field"] == "row 1, column os_event"
    assert problem["value"] == "yes"


def test_reference_curve_survival_above_one_exits_2(tmp_path: Path) -> None:
    curve = tmp_path / "curve.csv"
    curve.write_text("time_months,survival\n0,100\n6,80\n")
    risk = tmp_path / "risk.csv"
    risk.write_text("time_months,n_at_risk\n0,50\n")
    result = _run(
        "cohort",
        "analyze",
        str(DEMO),
        "--out",
        str(tmp_path / "o"),
        "--reference-curve",
        str(curve),
        "--reference-at-risk",
        str(risk),
    )
    assert result.exit_code == 2
    assert "row 1, column survival" in result.stderr
    assert "survival_percent" in result.stderr


def test_missing_file_exits_2(tmp_path: Path) -> None:
    result = _run("cohort", "analyze", str(tmp_path / "none.csv"), "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "COHORT" in result.stderr


def test_evidence_show_netter1_with_numbers_sources_and_flags() -> None:
    result = _run("evidence", "show", "NETTER-1")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "NCT01578239" in out
    assert "65.2 percent (95% CI 50.0–76.8)" in out
    assert "seed ref [10]" in out
    assert "48.0 months (95% CI 37.4–55.2)" in out
    assert "seed ref [19]" in out
    assert "FLAG F4" in out
    assert "30.9" in out


def test_evidence_show_json_and_result_ids() -> None:
    result = _run("evidence", "show", "NETTER-2", "--format", "json")
    payload = json.loads(result.stdout)
    assert payload["table_row"] == 1
    assert payload["later_results"][0]["pfs_hr.value"] == 0.276
    e3 = json.loads(_run("evidence", "show", "E3", "--format", "json").stdout)
    flagged = [n for n in e3["numbers"] if n["status"] == "flag"]
    assert flagged[0]["value"] == 30.9
    assert {f["id"] for f in e3["flags"]} >= {"F4"}
    flag = _run("evidence", "show", "F7")
    assert flag.exit_code == 0
    assert "10–20 mCi" in flag.stdout


def test_evidence_show_unknown_exits_2() -> None:
    result = _run("evidence", "show", "NETTER-9")
    assert result.exit_code == 2
    assert "prrt evidence list" in result.stderr


def test_evidence_list() -> None:
    payload = json.loads(_run("evidence", "list", "--format", "json").stdout)
    assert (
        len(payload["trials"]),
        len(payload["results"]),
        len(payload["practice"]),
        len(payload["flags"]),
    ) == (22, 24, 15, 18)
    e5 = next(r for r in payload["results"] if r["id"] == "E5")
    assert e5["seed_refs"] == [9]
    assert e5["flags"] == ["F3"]
    flags_only = _run("evidence", "list", "--kind", "flags")
    assert flags_only.exit_code == 0
    assert "FLAG F1 (inconsistency)" in flags_only.stdout
    text = _run("evidence", "list")
    assert "LANTana" in text.stdout
    assert "F10" in text.stdout


def test_evidence_pool_logit_and_forest(tmp_path: Path) -> None:
    studies = tmp_path / "studies.csv"
    studies.write_text("study,events,n\nA,5,20\nB,14,40\nC,9,31\n")
    result = _run(
        "evidence", "pool", str(studies), "--out", str(tmp_path / "o"), "--format", "json"
    )
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["transform"] == "logit"
    assert (tmp_path / "o" / "forest.png").is_file()


def test_evidence_pool_freeman_tukey_warns_on_stderr(tmp_path: Path) -> None:
    studies = tmp_path / "studies.csv"
    studies.write_text("study,events,n\nA,5,20\nB,140,400\n")
    result = _run("evidence", "pool", str(studies), "--transform", "freeman-tukey")
    assert result.exit_code == 0, result.output
    assert "warning:" in result.stderr
    assert "Schwarzer" in result.stderr


def test_evidence_pool_proportion_above_one_exits_2(tmp_path: Path) -> None:
    studies = tmp_path / "studies.csv"
    studies.write_text("study,proportion,n\nA,0.25,20\nB,33,40\n")
    result = _run("evidence", "pool", str(studies))
    assert result.exit_code == 2
    assert "row 2, column proportion" in result.stderr
    assert "percentage" in result.stderr


def test_trials_match_example_case() -> None:
    result = _run("trials", "match", str(CASE), "--format", "json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["case_id"] == "EX-01"
    assert len(payload["matches"]) == 22
    netter2 = next(m for m in payload["matches"] if m["trial"] == "NETTER-2")
    assert netter2["status"] == "fails"
    assert netter2["failed"][0]["rule_id"] == "NETTER-2:ki67"
    text = _run("trials", "match", str(CASE))
    assert "UNDECIDED: NETTER-1" in text.stdout
    assert "cannot decide: progression" in text.stdout


def test_trials_match_bad_case_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "case.json"
    bad.write_text(
        json.dumps(
            {
                "schema_version": "1.0",
                "case_id": "x",
                "assessment_date": "2025-01-01",
                "patient": {"age_years": 200, "sex": "female"},
            }
        )
    )
    result = _run("trials", "match", str(bad))
    assert result.exit_code == 2
    assert "patient.age_years" in result.stderr
