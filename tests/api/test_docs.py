"""docs/service.md says what the code does: its permission table is MATRIX, its endpoint
table is the API's routes with the permission each one requires."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

from fastapi.routing import APIRoute

from prrt.adapters.api import Settings, create_app
from prrt.adapters.api.permissions import MATRIX, ROLES, Permission

from ._support import all_routes

DOC = Path(__file__).resolve().parents[2] / "docs" / "service.md"


def _table(marker: str) -> list[list[str]]:
    """The rows (cells stripped, header and rule dropped) between ``<!-- marker`` and its end."""
    text = DOC.read_text(encoding="utf-8")
    found = re.search(rf"<!-- {marker}\b.*?-->\n(.*?)<!-- /{marker} -->", text, re.S)
    assert found, f"no '{marker}' table in {DOC}"
    lines = [line.strip() for line in found.group(1).strip().splitlines()]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    return rows[2:]


def test_the_permission_table_is_the_matrix():
    text = DOC.read_text(encoding="utf-8")
    header = re.search(r"\| Permission \|(.*)\|\n", text)
    assert header
    assert [c.strip() for c in header.group(1).split("|")] == list(ROLES)
    table = {row[0].strip("`"): row[1:] for row in _table("permission-matrix")}
    assert list(table) == [p.value for p in Permission]  # every permission, in order
    for permission in Permission:
        marks = table[permission.value]
        assert set(marks) <= {"✓", "—"}, marks
        documented = {role for role, mark in zip(ROLES, marks, strict=True) if mark == "✓"}
        holders = {role for role in ROLES if permission in MATRIX[role]}
        assert documented == holders, permission


def test_the_endpoint_table_is_the_api():
    app = create_app(Settings(database_url="sqlite://", migrate_on_start=False))
    actual = {}
    for route in all_routes(app):
        if not isinstance(route, APIRoute) or not route.path.startswith("/api/"):
            continue
        perms = []
        for dep in route.dependant.dependencies:
            value = (
                inspect.getclosurevars(dep.call).nonlocals.get("permission") if dep.call else None
            )
            if isinstance(value, Permission):
                perms.append(value.value)
        for method in route.methods:
            actual[(method, route.path)] = perms
    app.state.engine.dispose()
    documented = {}
    for method, path, permission, _does in _table("endpoints"):
        perm = permission.strip("`")
        documented[(method, path.strip("`"))] = (
            [perm] if perm in {p.value for p in Permission} else []
        )
    assert documented == actual
