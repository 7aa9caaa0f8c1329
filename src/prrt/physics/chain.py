"""Activities of a decay chain over time (Bateman equations via radioactivedecay).

The Bateman solution is evaluated by ``radioactivedecay.Inventory`` with the
ICRP-107 half-lives and branching fractions (data set
``icrp107_ame2020_nubase2020``); inputs and outputs here are Bq and s only,
and only explicit unit strings are passed to radioactivedecay.

Use cases: Pb-212 → Bi-212 transient equilibrium (A(Bi-212)/A(Pb-212) →
T_p/(T_p − T_d) = 1.1048) and the Ac-225 daughters (secular-like equilibrium,
A(Bi-213)/A(Ac-225) = 1.0034), ``dosimetry-reference.md`` §1.3.

References
----------
Bateman H. Solution of a system of differential equations occurring in the theory
of radioactive transformations. Proc Camb Philos Soc 1910;15:423–427.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np
import radioactivedecay as rd

from prrt._typing import ArrayLike, FloatArray
from prrt.errors import InvalidInputError
from prrt.physics.nuclides import DECAY_DATA_SET, Nuclide, get_nuclide

__all__ = ["ChainActivities", "chain_activities", "equilibrium_activity_ratios"]

#: Multiples of the longest daughter half-life after which equilibrium is taken as reached.
_EQUILIBRIUM_HALF_LIVES = 40.0


@dataclass(frozen=True, slots=True)
class ChainActivities:
    """Activities of every chain member at the requested times.

    Parameters
    ----------
    parent
        Canonical name of the parent nuclide.
    elapsed_s
        Times after the start, in s (1-D, read-only).
    activities_bq
        Member name → activity in Bq at each time (read-only arrays, same
        length as ``elapsed_s``), parent first, in chain order.
    data_source
        The decay-data set used.
    """

    parent: str
    elapsed_s: FloatArray
    activities_bq: Mapping[str, FloatArray]
    data_source: str

    @property
    def members(self) -> tuple[str, ...]:
        """Chain member names, parent first."""
        return tuple(self.activities_bq)

    def activity_bq(self, member: str) -> FloatArray:
        """Return the activity of ``member`` (any spelling) in Bq at each time."""
        name = get_nuclide(member).name
        if name not in self.activities_bq:
            raise InvalidInputError(
                "member", member, f"a member of the {self.parent} chain: {', '.join(self.members)}"
            )
        return self.activities_bq[name]

    def ratio_to_parent(self, member: str) -> FloatArray:
        """Return A(member)/A(parent) at each time (NaN where the parent activity is 0)."""
        parent = self.activities_bq[self.parent]
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio: FloatArray = np.where(parent > 0.0, self.activity_bq(member) / parent, np.nan)
        return ratio

    def total_bq(self) -> FloatArray:
        """Return the summed activity of all members in Bq at each time."""
        total: FloatArray = np.sum(np.stack(list(self.activities_bq.values())), axis=0)
        return total


def _frozen(values: ArrayLike) -> FloatArray:
    array = np.array(values, dtype=np.float64)
    array.setflags(write=False)
    return array


def chain_activities(
    nuclide: Nuclide | str,
    *,
    parent_activity_bq: float,
    elapsed_s: float | ArrayLike,
    initial_daughters_bq: Mapping[str, float] | None = None,
) -> ChainActivities:
    """Return the activities of a chain at the times ``elapsed_s`` after a start.

    Parameters
    ----------
    nuclide
        Parent nuclide or its name.
    parent_activity_bq
        Parent activity at time 0, in Bq.
    elapsed_s
        One time or a 1-D sequence of times after time 0, in s (≥ 0).
    initial_daughters_bq
        Daughter activities at time 0 in Bq (default: none, a freshly
        separated parent). Keys are chain members in any spelling.

    Returns
    -------
    ChainActivities

    Raises
    ------
    InvalidInputError
        Negative or non-finite activities or times, unknown nuclide, a daughter
        that is not in the chain.

    Examples
    --------
    >>> result = chain_activities("Pb-212", parent_activity_bq=1e9, elapsed_s=[0.0, 2 * 86400.0])
    >>> result.members
    ('Pb-212', 'Bi-212', 'Po-212', 'Tl-208')
    >>> [round(float(r), 4) for r in result.ratio_to_parent("Bi-212")]
    [0.0, 1.1048]
    """
    parent = get_nuclide(nuclide)
    if not (math.isfinite(parent_activity_bq) and parent_activity_bq >= 0.0):
        raise InvalidInputError(
            "parent_activity_bq", parent_activity_bq, "a finite, non-negative activity in Bq"
        )
    times = np.atleast_1d(np.asarray(elapsed_s, dtype=np.float64))
    if times.ndim != 1 or not np.all(np.isfinite(times)) or np.any(times < 0.0):
        raise InvalidInputError(
            "elapsed_s", elapsed_s, "finite times ≥ 0 s (scalar or 1-D sequence)"
        )
    members = parent.chain_names
    start: dict[str, float] = {parent.name: float(parent_activity_bq)}
    for key, value in (initial_daughters_bq or {}).items():
        name = get_nuclide(key).name
        if name not in members[1:]:
            raise InvalidInputError(
                "initial_daughters_bq",
                key,
                f"a daughter of {parent.name}: {', '.join(members[1:])}",
            )
        if not (math.isfinite(value) and value >= 0.0):
            raise InvalidInputError(
                f"initial_daughters_bq.{name}", value, "a finite, non-negative activity in Bq"
            )
        start[name] = start.get(name, 0.0) + float(value)
    inventory = rd.Inventory(start, "Bq")
    table = np.zeros((len(members), times.size))
    for j, t in enumerate(times):
        # Explicit units only ("s", "Bq"): radioactivedecay parses free text loosely.
        found = {
            str(k): float(v) for k, v in inventory.decay(float(t), "s").activities("Bq").items()
        }
        for i, name in enumerate(members):
            table[i, j] = found.get(name, 0.0)
    # The matrix-exponential solution can return round-off of either sign (−1e-9 Bq) for members
    # that have barely grown in; activities are non-negative, so clip.
    np.maximum(table, 0.0, out=table)
    activities = MappingProxyType({name: _frozen(table[i]) for i, name in enumerate(members)})
    return ChainActivities(
        parent=parent.name,
        elapsed_s=_frozen(times),
        activities_bq=activities,
        data_source=f"radioactivedecay {rd.__version__} ({DECAY_DATA_SET})",
    )


def equilibrium_activity_ratios(nuclide: Nuclide | str) -> Mapping[str, float]:
    """Return A(member)/A(parent) once the chain has reached (transient or secular) equilibrium.

    Evaluated with :func:`chain_activities` at 40 half-lives of the longest-lived
    daughter, when every transient term has died away (to below 1e-12).

    Raises
    ------
    InvalidInputError
        If a daughter lives longer than the parent (no equilibrium exists, e.g.
        Pb-209 in the Bi-213 chain) or the nuclide has no radioactive progeny.

    Examples
    --------
    >>> ratios = equilibrium_activity_ratios("Ac-225")
    >>> round(ratios["Bi-213"], 4), round(ratios["Fr-221"], 4)
    (1.0034, 1.0003)
    """
    parent = get_nuclide(nuclide)
    daughters = parent.chain_names[1:]
    if not daughters:
        raise InvalidInputError("nuclide", parent.name, "a nuclide with radioactive progeny")
    longest = max(get_nuclide(d).half_life_s for d in daughters)
    if longest >= parent.half_life_s:
        raise InvalidInputError(
            "nuclide",
            parent.name,
            "a parent that outlives all its daughters (otherwise no equilibrium exists)",
        )
    result = chain_activities(
        parent, parent_activity_bq=1.0, elapsed_s=_EQUILIBRIUM_HALF_LIVES * longest
    )
    return MappingProxyType({d: float(result.ratio_to_parent(d)[0]) for d in daughters})
