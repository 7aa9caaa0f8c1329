"""Half-lives and branching fractions against radioactivedecay and dosimetry-reference.md §1.2.

Sources:
* radioactivedecay 0.6 default data set ``icrp107_ame2020_nubase2020`` (ICRP-107 half-lives, chains):
  must match exactly (prrt reads it, never re-types it).
* dosimetry-reference.md §1.2 table (ICRP-107, [V]): half-lives as printed, tolerance half a unit of
  the last printed digit.
"""

from __future__ import annotations

import pytest
import radioactivedecay as rd

from prrt.physics.nuclides import DECAY_DATA_SET, get_nuclide, supported_nuclides

pytestmark = pytest.mark.validation

MIN, H, D = 60.0, 3600.0, 86400.0
# nuclide: (printed half-life in s, absolute tolerance in s = half a unit of the last printed digit)
HALF_LIVES_SECTION_1_2 = {
    "Lu-177": (6.647 * D, 0.0005 * D),
    "Y-90": (64.10 * H, 0.005 * H),
    "In-111": (2.8047 * D, 0.00005 * D),
    "Ga-68": (67.71 * MIN, 0.005 * MIN),
    "F-18": (109.77 * MIN, 0.005 * MIN),
    "Tb-161": (6.906 * D, 0.0005 * D),
    "Ac-225": (10.0 * D, 0.05 * D),
    "Fr-221": (4.9 * MIN, 0.05 * MIN),
    "At-217": (32.3e-3, 0.05e-3),
    "Bi-213": (45.59 * MIN, 0.005 * MIN),
    "Po-213": (4.2e-6, 0.05e-6),
    "Tl-209": (2.161 * MIN, 0.0005 * MIN),
    "Pb-209": (3.253 * H, 0.0005 * H),
    "Pb-212": (10.64 * H, 0.005 * H),
    "Bi-212": (60.55 * MIN, 0.005 * MIN),
    "Po-212": (0.299e-6, 0.0005e-6),
    "Tl-208": (3.053 * MIN, 0.0005 * MIN),
}

# dosimetry-reference.md §1.2 "Decay (branching)" column [V].
BRANCHING_SECTION_1_2 = {
    "Bi-213": {"Po-213": 0.9791, "Tl-209": 0.0209},
    "Bi-212": {"Po-212": 0.6406, "Tl-208": 0.3594},
    "At-217": {"Bi-213": 0.99988},
    "Ac-225": {"Fr-221": 1.0},
    "Pb-212": {"Bi-212": 1.0},
    "Lu-177": {"Hf-177": 1.0},
}


def test_radioactivedecay_uses_the_icrp107_data_set() -> None:
    assert rd.DEFAULTDATA.dataset_name == DECAY_DATA_SET


@pytest.mark.parametrize("name", HALF_LIVES_SECTION_1_2)
def test_half_life_against_radioactivedecay(name: str) -> None:
    assert get_nuclide(name).half_life_s == rd.Nuclide(name).half_life("s")


@pytest.mark.parametrize("name", sorted(set(HALF_LIVES_SECTION_1_2) | set(supported_nuclides())))
def test_chain_branching_against_radioactivedecay(name: str) -> None:
    reference = rd.Nuclide(name)
    nuclide = get_nuclide(name)
    assert list(nuclide.progeny) == reference.progeny()
    assert list(nuclide.branching_fractions) == reference.branching_fractions()


@pytest.mark.parametrize(("name", "printed"), HALF_LIVES_SECTION_1_2.items())
def test_half_life_against_dosimetry_reference_table_1_2(
    name: str, printed: tuple[float, float]
) -> None:
    value_s, tolerance_s = printed
    assert get_nuclide(name).half_life_s == pytest.approx(value_s, abs=tolerance_s)


@pytest.mark.parametrize(("name", "branches"), BRANCHING_SECTION_1_2.items())
def test_branching_against_dosimetry_reference_table_1_2(
    name: str, branches: dict[str, float]
) -> None:
    nuclide = get_nuclide(name)
    found = dict(zip(nuclide.progeny, nuclide.branching_fractions, strict=True))
    assert found == pytest.approx(branches, abs=1e-9)


def test_lu177_half_life_against_lutathera_label() -> None:
    # clinical-rules.md §4.1 DOSE-6 (label physical data): 6.647 days [V].
    assert get_nuclide("Lu-177").half_life_s / 86400.0 == pytest.approx(6.647, abs=5e-4)
