"""Property over the shipped example cases: deleting any optional JSON field never turns a
fail or indeterminate rule into a pass, and never makes a non-eligible case eligible.

Every example is reduced once per optional leaf (every key of every object, lists kept:
removing a lesion or a therapy changes the disease or the history, it is not missing data).
Deleting a required field must instead be refused with an error naming that field.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from prrt.clinical.case import case_from_dict
from prrt.clinical.evaluate import evaluate_case
from prrt.clinical.outcome import Status, Verdict
from prrt.clinical.profiles import get_profile
from prrt.errors import InvalidInputError

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples" / "cases").glob("*.json"))

Path_ = tuple[str | int, ...]


def _leaves(node: Any, path: Path_ = ()) -> Iterator[Path_]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield (*path, key)
            yield from _leaves(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _leaves(value, (*path, index))


def _without(data: dict[str, Any], path: Path_) -> dict[str, Any]:
    reduced = copy.deepcopy(data)
    node: Any = reduced
    for part in path[:-1]:
        node = node[part]
    del node[path[-1]]
    return reduced


def _dotted(path: Path_) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else ("." if text else "") + part
    return text


@pytest.mark.parametrize("profile_name", ["PRRT-DEFAULT-1", "PET_STRICT"])
@pytest.mark.parametrize("example", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_deleting_a_field_never_turns_fail_or_indeterminate_into_pass(
    example: Path, profile_name: str
) -> None:
    profile = get_profile(profile_name)
    data = json.loads(example.read_text(encoding="utf-8"))
    before = evaluate_case(case_from_dict(data), profile)
    open_rules = {
        o.rule_id for o in before.outcomes if o.status in (Status.FAIL, Status.INDETERMINATE)
    }
    checked = 0
    for path in _leaves(data):
        refused: InvalidInputError | None = None
        try:
            after = evaluate_case(case_from_dict(_without(data, path)), profile)
        except InvalidInputError as err:
            refused = err
        if refused is not None:
            # A required field (or the object that needs it) is named by its JSON path.
            dotted = _dotted(path)
            assert refused.field.startswith(dotted) or dotted.startswith(refused.field), (
                dotted,
                refused.field,
            )
            continue
        checked += 1
        for outcome in after.outcomes:
            if outcome.rule_id in open_rules:
                assert outcome.status is not Status.PASS, (_dotted(path), outcome.rule_id)
        if before.verdict is not Verdict.ELIGIBLE:
            assert after.verdict is not Verdict.ELIGIBLE, _dotted(path)
    assert checked > 10
