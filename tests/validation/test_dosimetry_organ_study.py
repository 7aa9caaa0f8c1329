"""End-to-end study runs (JSON format → doses, BED) against dosimetry-reference.md cases.

Each case is a minimal study document; the expected values, their section and the
tolerance are stated in the test.
"""

from __future__ import annotations

from typing import Any

import pytest

from prrt.dosimetry.study import parse_study, run_study

pytestmark = pytest.mark.validation


def _study(region: dict[str, Any], sex: str = "male") -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "patient": {"sex": sex, "renal_risk_factors": False},
        "cycles": [{"cycle": 1, "administered_activity": "7.4 GBq", "regions": [region]}],
    }


def test_single_time_point_hanscheid_against_stp01() -> None:
    """STP-01 (§4.3): A(96 h) = 40 MBq kidneys, S = 7.76e-5 → 3.095 Gy. Tolerance 0.05 %."""
    region = {
        "region": "kidneys",
        "fit_model": "stp_hanscheid_2018",
        "tac": {"points": [{"time": "96 h", "activity": "40 MBq"}]},
    }
    dose = run_study(parse_study(_study(region))).cycles[0].organ_doses["kidneys"]
    assert dose.absorbed_dose_gy == pytest.approx(3.095, rel=5e-4)


def test_single_time_point_madsen_against_stp03() -> None:
    """STP-03 (§4.3): same inputs, T_eff,pop = 50 h → 3.050 Gy. Tolerance 0.05 %."""
    region = {
        "region": "kidneys",
        "fit_model": "stp_madsen_2018",
        "effective_half_life": "50 h",
        "tac": {"points": [{"time": "96 h", "activity": "40 MBq"}]},
    }
    dose = run_study(parse_study(_study(region))).cycles[0].organ_doses["kidneys"]
    assert dose.absorbed_dose_gy == pytest.approx(3.050, rel=5e-4)


def test_kidney_bed_from_study_against_rb01() -> None:
    """RB-01 (§5.3): 5 Gy to the kidneys with T_eff 50 h → BED 5.51 Gy, EQD2 3.11 Gy.

    TIA = 5 Gy / S_AM(kid←kid) = 5 / 7.76e-14 Bq·s = 17 898.2 MBq·h.  Tolerance: half a unit of
    the last printed digit (0.005 Gy).
    """
    tia_mbq_h = 5.0 / 7.76e-14 / 3.6e9
    region = {"region": "kidneys", "tia": f"{tia_mbq_h:.6f} MBq h", "effective_half_life": "50 h"}
    cycle = run_study(parse_study(_study(region))).cycles[0]
    assert cycle.organ_doses["kidneys"].absorbed_dose_gy == pytest.approx(5.0, rel=1e-6)
    bed = cycle.organ_beds["kidneys"]
    assert bed is not None
    assert bed.bed_gy == pytest.approx(5.51, abs=5e-3)
    assert bed.eqd2_gy == pytest.approx(3.11, abs=5e-3)


def test_lesion_sphere_dose_against_sph02() -> None:
    """SPH-02 (§2.5): 10 g soft-tissue lesion, 1 MBq·h → 8.54 mGy. Tolerance 0.3 %."""
    data = _study({"region": "kidneys", "tia": "1 MBq h"})
    data["cycles"][0]["lesions"] = [{"name": "L1", "mass": "10 g", "tia": "1 MBq h"}]
    dose = run_study(parse_study(data)).cycles[0].lesion_doses["L1"]
    assert dose.absorbed_dose_gy * 1e3 == pytest.approx(8.54, rel=3e-3)
