"""Plausibility checks of a parsed organ-dosimetry study.

Organ masses far from the ICRP-89 reference mass, region activities or TIAs
that no patient can hold after the administration, and cycles out of order are
refused with the JSON path of the value (:func:`prrt.dosimetry.study_input.parse_study`).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

from prrt.dosimetry.study_input_records import CycleInput, RegionInput
from prrt.dosimetry.svalues import LEFT_KIDNEY, RIGHT_KIDNEY, TOTAL_BODY, Phantom, load_svalue_table
from prrt.errors import InvalidInputError
from prrt.kinetics import TimeActivityCurve

__all__ = ["ACTIVITY_CONSISTENCY_ALLOWANCE", "ORGAN_MASS_PLAUSIBLE_RANGE"]

#: Plausible organ mass of a patient relative to the ICRP-89 reference mass of the
#: patient's sex (``data/phantom_masses_icrp89.csv``).  Outside this range the
#: value is almost surely a unit or typing error, and mass-scaled reference S values
#: would no longer describe the organ (MIRD Pamphlet 11/ICRP 133 scale S values for
#: modest deviations only).
ORGAN_MASS_PLAUSIBLE_RANGE = (0.1, 5.0)
#: Allowance for calibration/quantification error when a measured region activity is
#: compared with the administered (decayed) activity or the total body (EANM 2010:
#: quantitative SPECT/whole-body calibration uncertainties of ~5-10 %).
ACTIVITY_CONSISTENCY_ALLOWANCE = 0.10


def _check_organ_mass(region: RegionInput, phantom: Phantom, raw_mass: Any) -> None:
    if region.mass_kg is None:
        return
    masses = load_svalue_table(phantom).masses_kg
    name = "kidneys" if region.name in (LEFT_KIDNEY, RIGHT_KIDNEY) else region.name
    if name not in masses:
        return
    reference = masses[name] / (2.0 if name != region.name else 1.0)
    low, high = ORGAN_MASS_PLAUSIBLE_RANGE
    if not (low * reference <= region.mass_kg <= high * reference):
        raise InvalidInputError(
            f"{region.path}.mass",
            raw_mass,
            f"a {region.name} mass between {low * reference * 1e3:.4g} g and "
            f"{high * reference * 1e3:.4g} g ({low:g}-{high:g} × the ICRP-89 "
            f"{phantom.value} reference mass {reference * 1e3:.4g} g)",
            hint="check the unit (g vs kg); a mass outside this range cannot be served by "
            "mass-scaled reference S values: report the dose under 'reported_doses' instead",
        )


def _max_activity_bq(cycle: CycleInput, time_s: float, half_life_s: float) -> float:
    """Administered activity physically decayed to ``time_s`` after administration."""
    return float(cycle.administered_activity_bq * 2.0 ** (-max(time_s, 0.0) / half_life_s))


def _check_activities(cycle: CycleInput, half_life_s: float, notes: list[str]) -> None:
    """Refuse region activities or TIAs no patient can hold after this administration.

    No region can hold more than the administered activity decayed to the time of
    the measurement, nor a TIA above ``A0·T½/ln 2`` (no biological clearance); a
    region above the total-body measurement at the same time is refused beyond the
    calibration allowance and noted within it.
    """
    allowance = 1.0 + ACTIVITY_CONSISTENCY_ALLOWANCE
    a0 = cycle.administered_activity_bq
    total = next((r for r in cycle.regions if r.name == TOTAL_BODY), None)
    total_at = (
        {}
        if total is None or total.tac is None
        else dict(zip(total.tac.times_s.tolist(), total.tac.activities_bq.tolist(), strict=True))
    )
    items: list[tuple[str, str, TimeActivityCurve | None, float | None]] = [
        (r.name, r.path, r.tac, r.tia_bq_s) for r in cycle.regions
    ] + [(les.name, les.path, les.tac, les.tia_bq_s) for les in cycle.lesions]
    for name, path, tac, tia in items:
        if tia is not None and tia > allowance * a0 * half_life_s / math.log(2.0):
            limit = a0 * half_life_s / math.log(2.0)
            raise InvalidInputError(
                f"{path}.tia",
                f"{tia / 3.6e9:.6g} MBq h",
                f"at most the TIA of the whole administered activity without biological "
                f"clearance, {limit / 3.6e9:.6g} MBq h ({a0 / 1e9:.4g} GBq administered in "
                f"{cycle.path})",
                hint="check the unit and the administered activity",
            )
        if tac is None:
            continue
        for i, (t, a) in enumerate(
            zip(tac.times_s.tolist(), tac.activities_bq.tolist(), strict=True)
        ):
            point = f"{path}.tac.points[{i}].activity"
            limit = _max_activity_bq(cycle, t, half_life_s)
            if a > allowance * limit:
                raise InvalidInputError(
                    point,
                    f"{a / 1e6:.6g} MBq",
                    f"at most the administered activity of {cycle.path} "
                    f"({a0 / 1e6:.6g} MBq), decayed to {t / 3600:.4g} h: {limit / 1e6:.6g} MBq",
                    hint="check the unit and the administered activity",
                )
            whole = total_at.get(t)
            if name == TOTAL_BODY or whole is None or a <= whole:
                continue
            message = (
                f"{point}: {a / 1e6:.6g} MBq exceeds the total-body activity {whole / 1e6:.6g} MBq "
                f"at {t / 3600:.4g} h"
            )
            if a > allowance * whole:
                raise InvalidInputError(
                    point,
                    f"{a / 1e6:.6g} MBq",
                    f"at most the total-body activity at the same time ({whole / 1e6:.6g} MBq at "
                    f"{t / 3600:.4g} h, +{ACTIVITY_CONSISTENCY_ALLOWANCE:.0%} calibration allowance)",
                    hint="check the units and the calibrations of the two measurements",
                )
            notes.append(
                message + f" (within the {ACTIVITY_CONSISTENCY_ALLOWANCE:.0%} calibration "
                "allowance; check the calibrations)"
            )


def _check_cycle_order(cycles: Sequence[CycleInput]) -> None:
    for previous, cycle in itertools.pairwise(cycles):
        if cycle.number <= previous.number:
            raise InvalidInputError(
                f"{cycle.path}.cycle",
                cycle.number,
                f"a cycle number above {previous.number} (that of {previous.path}): "
                "cycles in increasing order",
            )
        if (
            cycle.administered_at is not None
            and previous.administered_at is not None
            and cycle.administered_at <= previous.administered_at
        ):
            raise InvalidInputError(
                f"{cycle.path}.administered_at",
                cycle.administered_at.isoformat(),
                f"a time after the administration of cycle {previous.number} "
                f"({previous.administered_at.isoformat()})",
            )
