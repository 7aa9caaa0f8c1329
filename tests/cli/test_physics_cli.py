"""CLI tests of `prrt nuclide`, `prrt decay`, `prrt administered` (typer CliRunner).

Numbers are checked against ICRP-107 (T½ Lu-177 = 6.647 d; energies of dosimetry-reference.md §1.2)
or analytic decay; bad input must exit with code 2 and a message naming field, value and expectation.
"""

from __future__ import annotations

import json

import pytest
from click.testing import Result
from typer.testing import CliRunner

from prrt.adapters.cli.app import app

runner = CliRunner()
LU177_HALF_LIFE_H = 6.647 * 24.0  # ICRP-107


def _run(*args: str) -> Result:
    return runner.invoke(app, list(args))


def _json(*args: str) -> dict:
    result = _run(*args, "--format", "json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


# ----------------------------------------------------------------------------- nuclide


def test_nuclide_text_shows_half_life_energies_and_lines() -> None:
    result = _run("nuclide", "Lu-177")
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "Lu-177" in out
    assert "6.647 d" in out
    assert "147.92" in out  # electrons per decay, keV (§1.2)
    assert "35.10" in out  # photons per decay, keV (§1.2)
    assert "208.37" in out
    assert "112.95" in out
    assert "4.29" in out  # air-kerma-rate constant (§1.5)
    assert "[177Lu]Lu-DOTA-TATE" in out


def test_nuclide_json_for_lu177() -> None:
    payload = _json("nuclide", "177Lu")
    assert payload["nuclide"] == "Lu-177"
    assert payload["half_life_s"] == pytest.approx(6.647 * 86400.0, rel=1e-12)
    assert payload["emissions_per_decay"]["electron_mev"] == 0.14792
    assert payload["emissions_per_decay"]["photon_mev"] == 0.0351
    assert payload["progeny"] == [{"name": "Hf-177", "branching_fraction": 1.0, "decay_mode": "β-"}]
    assert [line["energy_kev"] for line in payload["photon_lines"][:2]] == [208.37, 112.95]
    assert payload["dose_rate_constant"]["published"][0] == {
        "quantity": "air_kerma_rate_constant",
        "value": 4.29,
        "unit": "uGy m2/(GBq h)",
    }
    assert payload["equilibrium_activity_ratios"] is None


def test_nuclide_json_for_pb212_chain() -> None:
    payload = _json("nuclide", "Pb-212")
    assert [m["name"] for m in payload["chain"]] == ["Pb-212", "Bi-212", "Po-212", "Tl-208"]
    assert payload["chain_emissions_per_parent_decay"]["alpha_mev"] == pytest.approx(
        7.802, abs=5e-4
    )
    assert payload["equilibrium_activity_ratios"]["Bi-212"] == pytest.approx(1.1048, abs=5e-5)
    tl208 = next(p for p in payload["photon_lines"] if p["energy_kev"] == 2614.5)
    assert tl208["yield_per_parent_decay"] == pytest.approx(0.992 * 0.3594, rel=1e-9)


def test_nuclide_text_for_ac225_shows_chain() -> None:
    result = _run("nuclide", "ac225")
    assert result.exit_code == 0, result.output
    assert "Bi-213" in result.stdout
    assert "1.0034" in result.stdout


def test_unknown_nuclide_exits_2_naming_field_and_supported() -> None:
    result = _run("nuclide", "Lu-178")
    assert result.exit_code == 2
    assert "nuclide: got 'Lu-178'" in result.stderr
    assert "Lu-177" in result.stderr


# ----------------------------------------------------------------------------- decay


def test_decay_after_96h() -> None:
    payload = _json("decay", "7.4GBq", "--nuclide", "Lu-177", "--after", "96h")
    expected = 7.4e9 * 2 ** (-96.0 / LU177_HALF_LIFE_H)
    assert payload["activity_bq"] == pytest.approx(expected, rel=1e-12)
    assert payload["elapsed_s"] == 96 * 3600.0


def test_decay_text_output_shows_gbq_and_mci() -> None:
    result = _run("decay", "7.4 GBq", "--nuclide", "Lu-177", "--after", "96h")
    assert result.exit_code == 0, result.output
    assert "4.8762 GBq" in result.stdout
    assert "200 mCi" in result.stdout


def test_decay_one_half_life_between_timestamps_in_two_zones() -> None:
    # 6.647 d = 6 d 15 h 31 min 40.8 s; the end is written in another time zone.
    payload = _json(
        "decay", "200 mCi", "-n", "Lu-177",
        "--from", "2026-03-01T09:00:00+01:00", "--to", "2026-03-08T01:31:40.8+02:00",
    )  # fmt: skip
    assert payload["activity_bq"] == pytest.approx(3.7e9, rel=1e-12)
    assert payload["from"] == "2026-03-01T08:00:00+00:00"
    assert payload["back_correction"] is False


def test_decay_backwards_when_to_is_earlier() -> None:
    payload = _json(
        "decay",
        "3.7 GBq",
        "-n",
        "Lu-177",
        "--from",
        "2026-03-08T00:31:40.8Z",
        "--to",
        "2026-03-01T09:00:00Z",
    )
    assert payload["activity_bq"] == pytest.approx(7.4e9, rel=1e-12)
    assert payload["back_correction"] is True
    assert payload["notes"][0].startswith("back-correction: activity at the earlier time")
    text = _run(
        "decay", "3.7 GBq", "-n", "Lu-177",
        "--from", "2026-03-08T00:31:40.8Z", "--to", "2026-03-01T09:00:00Z",
    )  # fmt: skip
    assert "back-correction: activity at the earlier time" in text.stdout


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        (
            ("decay", "7.4", "--nuclide", "Lu-177", "--after", "96h"),
            "activity",
            "the unit must be given explicitly",
        ),
        (
            ("decay", "7.4 Gy", "--nuclide", "Lu-177", "--after", "96h"),
            "activity",
            "'Gy' is a unit of absorbed dose",
        ),
        (
            ("decay", "-1 GBq", "--nuclide", "Lu-177", "--after", "96h"),
            "activity",
            "expected a positive activity",
        ),
        (
            ("decay", "7.4 GBq", "--nuclide", "Xx-999", "--after", "96h"),
            "nuclide",
            "supported: Lu-177",
        ),
        (
            ("decay", "7.4 GBq", "--nuclide", "Lu-177", "--after", "96"),
            "after",
            "the unit must be given explicitly",
        ),
        (("decay", "7.4 GBq", "--nuclide", "Lu-177", "--after", "4 GBq"), "after", "unit of time"),
        (
            (
                "decay",
                "7.4 GBq",
                "--nuclide",
                "Lu-177",
                "--from",
                "2026-03-01T10:00",
                "--to",
                "2026-03-02T10:00Z",
            ),
            "from",
            "the time zone is missing",
        ),
        (
            (
                "decay",
                "7.4 GBq",
                "--nuclide",
                "Lu-177",
                "--from",
                "2026-03-01T10:00Z",
                "--to",
                "2026-03-02 10:00",
            ),
            "to",
            "the time zone is missing",
        ),
        (("decay", "7.4 GBq", "--nuclide", "Lu-177"), "after", "--after DURATION"),
        (
            ("decay", "7.4 GBq", "--nuclide", "Lu-177", "--from", "2026-03-01T10:00Z"),
            "to",
            "both --from and --to",
        ),
        (
            (
                "decay",
                "7.4 GBq",
                "--nuclide",
                "Lu-177",
                "--after",
                "1h",
                "--from",
                "2026-03-01T10:00Z",
            ),
            "after",
            "not both",
        ),
    ],
)
def test_decay_bad_input_exits_2_naming_field_value_expected(
    args: tuple[str, ...], field: str, fragment: str
) -> None:
    result = _run(*args)
    assert result.exit_code == 2, result.output
    assert f"{field}: got" in result.stderr
    assert "expected" in result.stderr
    assert fragment in result.stderr


def test_decay_bad_input_in_json_format_is_a_json_problem() -> None:
    result = _run("decay", "7.4 Gy", "--nuclide", "Lu-177", "--after", "96h", "--format", "json")
    assert result.exit_code == 2
    problem = json.loads(result.stderr)
    assert problem["field"] == "activity"
    assert problem["value"] == "7.4 Gy"
    assert problem["error"] == "UnitError"


# ----------------------------------------------------------------------------- administered

ADMIN = (
    "administered", "--nuclide", "Lu-177",
    "--assay", "7.6 GBq", "--assay-time", "2026-03-02T08:00:00+01:00",
    "--injection-time", "2026-03-02T10:00:00+01:00",
)  # fmt: skip


def test_administered_decay_corrects_each_reading_to_injection() -> None:
    payload = _json(
        *ADMIN,
        "--residual",
        "150 MBq",
        "--residual-time",
        "2026-03-02T11:00:00+01:00",
        "--residual-label",
        "vial",
    )
    assay = 7.6e9 * 2 ** (-2.0 / LU177_HALF_LIFE_H)
    residual = 0.15e9 * 2 ** (1.0 / LU177_HALF_LIFE_H)
    assert payload["assay"]["activity_at_injection_bq"] == pytest.approx(assay, rel=1e-12)
    assert payload["residuals"][0]["label"] == "vial"
    assert payload["residuals"][0]["activity_at_injection_bq"] == pytest.approx(residual, rel=1e-12)
    assert payload["administered_bq"] == pytest.approx(assay - residual, rel=1e-12)
    assert payload["decay_corrected"] is True
    assert [s["name"] for s in payload["steps"]] == [
        "decay_correct",
        "decay_correct",
        "subtract_residuals",
    ]


def test_administered_text_output() -> None:
    result = _run(*ADMIN, "--residual", "150 MBq", "--residual-time", "2026-03-02T11:00:00+01:00")
    assert result.exit_code == 0, result.output
    assert "7.3836 GBq" in result.stdout
    assert "2026-03-02 09:00:00 UTC" in result.stdout


def test_administered_without_times_subtracts_as_measured() -> None:
    payload = _json(
        "administered",
        "-n",
        "Y-90",
        "--assay",
        "3 GBq",
        "--residual",
        "0.1 GBq",
        "--residual",
        "50 MBq",
    )
    assert payload["administered_bq"] == pytest.approx(2.85e9, rel=1e-12)
    assert payload["decay_corrected"] is False
    assert payload["residual_measured"] is True
    assert payload["residual_fraction"] == pytest.approx(0.05, rel=1e-12)


def test_administered_without_residual_says_not_measured() -> None:
    args = ("administered", "-n", "Lu-177", "--assay", "7.4 GBq")
    payload = _json(*args)
    assert payload["residual_measured"] is False
    assert payload["residual_fraction"] is None
    assert payload["administered_bq"] == 7.4e9
    text = _run(*args)
    assert text.exit_code == 0, text.output
    assert "residual: not measured" in text.stdout
    assert "0.00 %" not in text.stdout


def test_administered_assay_after_injection_exit_2() -> None:
    result = _run(
        "administered", "-n", "Lu-177", "--assay", "7.4 GBq",
        "--assay-time", "2026-03-02T11:00:00+01:00",
        "--injection-time", "2026-03-02T10:00:00+01:00",
        "--format", "json",
    )  # fmt: skip
    assert result.exit_code == 2
    problem = json.loads(result.stderr)
    assert problem["field"] == "assay_time"
    assert problem["value"] == "2026-03-02T10:00:00+00:00"


def test_activity_above_100_gbq_is_noted_in_text_and_json() -> None:
    """740 GBq Lu-177 after 24 h: 740·2^(-24/159.528) GBq, with a visible note (not an error)."""
    payload = _json("decay", "740 GBq", "-n", "Lu-177", "--after", "24h")
    assert payload["activity_bq"] == pytest.approx(740e9 * 2 ** (-24 / 159.528), rel=1e-4)
    assert any("implausible for one patient administration" in n for n in payload["notes"])
    text = _run("decay", "740 GBq", "-n", "Lu-177", "--after", "24h")
    assert "implausible for one patient administration" in text.stdout
    admin = _json("administered", "-n", "Lu-177", "--assay", "740 GBq")
    assert any("implausible for one patient administration" in n for n in admin["notes"])
    assert _json("decay", "7.4 GBq", "-n", "Lu-177", "--after", "24h")["notes"] == []


@pytest.mark.parametrize(
    ("extra", "field", "fragment"),
    [
        (
            ("--residual", "8 GBq", "--residual-time", "2026-03-02T11:00:00+01:00"),
            "residual",
            "less than the assay",
        ),
        (
            ("--residual", "0.1 GBq", "--residual-time", "2026-03-02T11:00:00"),
            "residual_time",
            "the time zone is missing",
        ),
        (("--residual", "0.1 GBq"), "residual_time", "all or none"),
        (
            ("--residual", "0.1 GBq", "--residual-time", "2026-03-02T09:30:00+01:00"),
            "residual_time",
            "a time at or after the injection (2026-03-02T09:00:00+00:00)",
        ),
        (
            ("--residual", "0.1", "--residual-time", "2026-03-02T11:00:00Z"),
            "residual",
            "the unit must be given explicitly",
        ),
        (
            ("--residual", "-0.1 GBq", "--residual-time", "2026-03-02T11:00:00Z"),
            "residual",
            "non-negative activity",
        ),
        (
            (
                "--residual",
                "0.1 GBq",
                "--residual",
                "0.1 GBq",
                "--residual-time",
                "2026-03-02T11:00:00Z",
            ),
            "residual_time",
            "one --residual-time per --residual",
        ),
    ],
)
def test_administered_bad_input_exits_2(extra: tuple[str, ...], field: str, fragment: str) -> None:
    result = _run(*ADMIN, *extra)
    assert result.exit_code == 2, result.output
    assert f"{field}: got" in result.stderr
    assert fragment in result.stderr


@pytest.mark.parametrize(
    ("args", "field", "fragment"),
    [
        (("administered", "-n", "Lu-177", "--assay", "-1 GBq"), "assay", "positive activity"),
        (
            ("administered", "-n", "Lu-177", "--assay", "7.4 Gy"),
            "assay",
            "'Gy' is a unit of absorbed dose",
        ),
        (
            (
                "administered",
                "-n",
                "Lu-177",
                "--assay",
                "7.4 GBq",
                "--assay-time",
                "2026-03-02T08:00Z",
            ),
            "injection_time",
            "all or none",
        ),
        (
            (
                "administered",
                "-n",
                "Lu-177",
                "--assay",
                "7.4 GBq",
                "--injection-time",
                "2026-03-02T08:00",
            ),
            "injection_time",
            "the time zone is missing",
        ),
        (("administered", "-n", "Lu-1777", "--assay", "7.4 GBq"), "nuclide", "supported"),
    ],
)
def test_administered_assay_and_time_errors_exit_2(
    args: tuple[str, ...], field: str, fragment: str
) -> None:
    result = _run(*args)
    assert result.exit_code == 2, result.output
    assert f"{field}: got" in result.stderr
    assert fragment in result.stderr


def test_nuclide_shows_fraction_left_after_round_times() -> None:
    # Analytic: 2^(−7 d / 6.647 d) = 0.48182 (ICRP-107 half-life).
    payload = _json("nuclide", "Lu-177")
    week = next(r for r in payload["remaining_fraction"] if r["elapsed_s"] == 7 * 86400.0)
    assert week["fraction"] == pytest.approx(2 ** (-7 / 6.647), rel=1e-12)
    text = _run("nuclide", "Lu-177").stdout
    assert "7 d 48.2 %" in text
    assert "159.5 h" in text


# ----------------------------------------------------------------------------- implausible spans


def test_decay_of_an_implausible_activity_is_refused_naming_activity() -> None:
    result = _run("decay", "1e300 GBq", "-n", "Lu-177", "--after", "1 h")
    assert result.exit_code == 2, result.output
    assert "activity: got '1e300 GBq'" in result.stderr
    assert "inf" not in result.stdout


def test_decay_back_correction_beyond_50_half_lives_is_refused_naming_from_to() -> None:
    # Ac-225 T½ 9.92 d (ICRP-107): 2020-03-02 -> 2026-03-05 is 2194 d = 221 half-lives back.
    result = _run(
        "decay", "7.4 GBq", "-n", "Ac-225",
        "--from", "2026-03-05T10:00Z", "--to", "2020-03-02T10:00Z",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "from/to: got '--from 2026-03-05T10:00Z --to 2020-03-02T10:00Z'" in result.stderr
    assert "at most 50 half-lives" in result.stderr
    assert "elapsed_s" not in result.stderr


def test_decay_over_one_year_accepts_the_year_unit() -> None:
    # 1 a = 365.25 d = 54.95 Lu-177 half-lives (6.647 d): factor 2**-54.95.
    payload = _json("decay", "7.4 GBq", "-n", "Lu-177", "--after", "1 a")
    assert payload["half_lives_elapsed"] == pytest.approx(365.25 / 6.647, rel=1e-3)
    assert payload["activity_bq"] == pytest.approx(7.4e9 * 2 ** (-365.25 / 6.647), rel=1e-3)


def test_administered_assay_that_decays_to_nothing_is_refused_naming_the_times() -> None:
    # F-18 (T½ 109.77 min) over 26 years: the assay is gone; no residual was given.
    result = _run(
        "administered", "--assay", "7.4 GBq", "-n", "F-18",
        "--assay-time", "2000-03-02T08:00Z", "--injection-time", "2026-03-02T10:00Z",
    )  # fmt: skip
    assert result.exit_code == 2, result.output
    assert "assay_time: got" in result.stderr
    assert "decays to < 1e-06 of its value by the injection time" in result.stderr
    assert "check the dates" in result.stderr
    assert "residual" not in result.stderr.split("expected")[0]


def test_administered_small_residual_is_shown_in_kbq_with_significant_digits() -> None:
    # 10 kBq measured 1 h after injection: 10 kBq · 2**(1 h / 159.5 h) = 10.0435 kBq at injection;
    # 7.4 GBq assay 2 h before: 7.4 · 2**(-2/159.528) = 7.3358 GBq; fraction 1.369e-6.
    result = _run(
        "administered", "--assay", "7.4 GBq", "-n", "Lu-177",
        "--assay-time", "2026-03-02T08:00Z", "--injection-time", "2026-03-02T10:00Z",
        "--residual", "10 kBq", "--residual-time", "2026-03-02T11:00Z",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "10.0435 kBq" in result.stdout
    assert "0.000137 %" in result.stdout
    assert "0.0000 GBq" not in result.stdout
