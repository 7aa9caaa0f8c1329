"""Three-valued (Kleene) logic of the next-cycle decision (clinical-rules.md §4.4).

Every criterion is true, false or undecidable (an input is missing).  The rule
levels of CYC-ALGO are applied in order of severity and a level that cannot be
decided gives INDETERMINATE with the missing inputs, so missing data never give
a full dose.  Comparisons are exact on the decimals as entered (§0.3).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal

__all__: list[str] = []


@dataclass(frozen=True, slots=True)
class _Tri:
    """Kleene truth value with the facts that made it true and the inputs that were missing."""

    value: bool | None
    facts: tuple[str, ...] = ()
    missing: tuple[str, ...] = ()


_FALSE = _Tri(False)


def _any(items: Iterable[_Tri]) -> _Tri:
    items = list(items)
    true = [i for i in items if i.value is True]
    if true:
        return _Tri(True, facts=tuple(f for i in true for f in i.facts))
    unknown = [i for i in items if i.value is None]
    if unknown:
        return _Tri(None, missing=_merge(m for i in unknown for m in i.missing))
    return _FALSE


def _all(items: Iterable[_Tri]) -> _Tri:
    items = list(items)
    if any(i.value is False for i in items):
        return _FALSE
    unknown = [i for i in items if i.value is None]
    if unknown:
        return _Tri(None, missing=_merge(m for i in unknown for m in i.missing))
    return _Tri(True, facts=tuple(f for i in items for f in i.facts))


def _merge(names: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(names))


def _dec(value: float) -> Decimal:
    return Decimal(repr(float(value)))


def _fmt(value: float | Decimal) -> str:
    return f"{float(value):g}"


_OPS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _policy(value: bool | None, name: str, what: str) -> _Tri:
    if value is None:
        return _Tri(None, missing=(name,))
    return _Tri(True, facts=(what,)) if value else _FALSE


def _with_fact(tri: _Tri, fact: str) -> _Tri:
    return replace(tri, facts=(fact, *tri.facts)) if tri.value is True else tri


@dataclass(frozen=True, slots=True)
class _Verdict:
    """Outcome of one rule level: decided (a condition holds) or undecidable (data missing)."""

    decided: bool
    codes: tuple[str, ...]
    reasons: tuple[str, ...]
    missing: tuple[str, ...] = ()


def _level(conditions: Sequence[tuple[str, _Tri]]) -> _Verdict | None:
    """Return the fired codes, an undecided verdict when data are missing, or None when no condition holds."""
    fired = [(code, tri) for code, tri in conditions if tri.value is True]
    if fired:
        codes = tuple(dict.fromkeys(code for code, _ in fired))
        reasons = tuple(f"{code}: " + "; ".join(dict.fromkeys(tri.facts)) for code, tri in fired)
        return _Verdict(True, codes, reasons)
    unknown = [(code, tri) for code, tri in conditions if tri.value is None]
    if unknown:
        missing = _merge(m for _, tri in unknown for m in tri.missing)
        reasons = tuple(
            f"cannot exclude {code}: missing {', '.join(tri.missing)}" for code, tri in unknown
        )
        return _Verdict(False, ("CYC-DATA-MISSING",), reasons, missing)
    return None
