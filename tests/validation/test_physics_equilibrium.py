"""Chain equilibrium activity ratios against dosimetry-reference.md §1.3 (Bateman, ICRP-107) [C].

* A(Bi-212)/A(Pb-212) = 1.1048 (DECAY-07), tolerance 5e-5 (half a printed unit);
  Po-212 = 1.1048 × 0.6406 of the Pb-212 activity.
* A(Bi-213)/A(Ac-225) = 1.0034 (DECAY-06), tolerance 5e-5; A(Fr-221)/A(Ac-225) ≈ 1.0003, tolerance 5e-5.
All computed by prrt.physics.chain (radioactivedecay Inventory), not by a closed formula.
"""

from __future__ import annotations

import pytest

from prrt.physics.chain import chain_activities, equilibrium_activity_ratios

pytestmark = pytest.mark.validation


def test_bi212_pb212_ratio_against_dosimetry_reference_1_3() -> None:
    # After 2 days the transient equilibrium is reached (Bi-212 T½ ≈ 1 h).
    result = chain_activities("Pb-212", parent_activity_bq=1e9, elapsed_s=2 * 86400.0)
    assert float(result.ratio_to_parent("Bi-212")[0]) == pytest.approx(1.1048, abs=5e-5)
    assert float(result.ratio_to_parent("Po-212")[0]) == pytest.approx(1.1048 * 0.6406, abs=5e-5)


def test_bi212_ratio_reaches_1_105_only_after_transients_die() -> None:
    # At 1 h the daughter is still growing in (ratio far below 1.105): instantaneous models that
    # assume equilibrium from injection are wrong early (§1.3).
    early = chain_activities("Pb-212", parent_activity_bq=1e9, elapsed_s=3600.0)
    assert float(early.ratio_to_parent("Bi-212")[0]) < 0.6


def test_bi213_ac225_ratio_against_dosimetry_reference_1_3() -> None:
    ratios = equilibrium_activity_ratios("Ac-225")
    assert ratios["Bi-213"] == pytest.approx(1.0034, abs=5e-5)
    assert ratios["Fr-221"] == pytest.approx(1.0003, abs=5e-5)


def test_ac225_daughters_reach_equilibrium_within_a_day() -> None:
    # §1.3: the Ac-225 series reaches secular equilibrium within a few hours.
    result = chain_activities("Ac-225", parent_activity_bq=1e6, elapsed_s=86400.0)
    assert float(result.ratio_to_parent("Bi-213")[0]) == pytest.approx(1.0034, abs=5e-4)
