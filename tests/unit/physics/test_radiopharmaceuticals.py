"""Unit tests of prrt.physics.radiopharmaceuticals (catalogue of the seed review's agents)."""

from __future__ import annotations

import pytest

from prrt.errors import InvalidInputError
from prrt.physics.radiopharmaceuticals import (
    NONE_ESTABLISHED,
    ReceptorAction,
    RegulatoryStatus,
    get_radiopharmaceutical,
    radiopharmaceuticals,
)

# The agents listed in issue 2 item 5, with their nuclides.
EXPECTED = {
    "[177Lu]Lu-DOTA-TATE": "Lu-177",
    "[177Lu]Lu-DOTA-TOC": "Lu-177",
    "[90Y]Y-DOTA-TOC": "Y-90",
    "[90Y]Y-DOTA-TATE": "Y-90",
    "[225Ac]Ac-DOTA-TATE": "Ac-225",
    "[212Pb]Pb-DOTAM-TATE": "Pb-212",
    "[213Bi]Bi-DOTA-TOC": "Bi-213",
    "[177Lu]Lu-DOTA-EB-TATE": "Lu-177",
    "[177Lu]Lu-DOTA-LM3": "Lu-177",
    "[177Lu]Lu-satoreotide tetraxetan": "Lu-177",
}


def test_catalogue_lists_every_agent_with_its_nuclide() -> None:
    assert {a.name: a.nuclide for a in radiopharmaceuticals()} == EXPECTED


def test_only_lutathera_is_approved_with_a_standard_activity() -> None:
    # clinical-rules.md §4.1 DOSE-1: 7.4 GBq every 8 weeks, 4 administrations.
    approved = [
        a for a in radiopharmaceuticals() if a.regulatory_status is RegulatoryStatus.APPROVED
    ]
    assert [a.name for a in approved] == ["[177Lu]Lu-DOTA-TATE"]
    lutathera = approved[0]
    assert lutathera.standard_activity_per_cycle_bq == 7.4e9
    assert lutathera.standard_cycles == 4
    assert lutathera.standard_interval_s == 8 * 7 * 86400
    others = [a for a in radiopharmaceuticals() if a is not lutathera]
    assert all(a.standard_activity_per_cycle_bq is None for a in others)
    assert all(a.standard_activity_text == NONE_ESTABLISHED for a in others)


def test_antagonists_are_lm3_and_satoreotide() -> None:
    antagonists = {
        a.id for a in radiopharmaceuticals() if a.receptor_action is ReceptorAction.ANTAGONIST
    }
    assert antagonists == {"lu177-dota-lm3", "lu177-satoreotide"}


def test_every_fact_has_a_source() -> None:
    for agent in radiopharmaceuticals():
        for fact in ("nuclide", "receptor_action", "regulatory_status", "standard_activity"):
            assert agent.sources[fact].strip(), (agent.id, fact)
        assert all(r.source.strip() for r in agent.studied_regimens)


def test_pb212_studied_regimen_is_per_kilogram() -> None:
    # Delpassand et al., J Nucl Med 2022: RP2D 2.50 MBq/kg ×4 every 8 weeks (trials.json row 20).
    regimen = get_radiopharmaceutical("AlphaMedix").studied_regimens[0]
    assert regimen.activity_per_kg_bq_per_kg == 2.5e6
    assert regimen.cycles == 4


@pytest.mark.parametrize(
    ("text", "agent_id"),
    [
        ("Lutathera", "lu177-dotatate"),
        ("177Lu-DOTATATE", "lu177-dotatate"),
        ("[177Lu]Lu-DOTA-TATE", "lu177-dotatate"),
        ("edotreotide", "lu177-dotatoc"),
        ("OPS201", "lu177-satoreotide"),
        ("212Pb-DOTAMTATE", "pb212-dotamtate"),
        ("213bi-dotatoc", "bi213-dotatoc"),
    ],
)
def test_lookup_by_name_or_synonym(text: str, agent_id: str) -> None:
    assert get_radiopharmaceutical(text).id == agent_id


def test_unknown_agent_names_field_and_lists_catalogue() -> None:
    with pytest.raises(InvalidInputError, match="radiopharmaceutical: got 'PSMA-617'") as info:
        get_radiopharmaceutical("PSMA-617")
    assert "[177Lu]Lu-DOTA-TATE" in str(info.value)
