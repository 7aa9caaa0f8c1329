"""BED of an organ-dosimetry study: the G factor of each dose-rate curve and the LQ BED.

The dose rate of a region is the sum ``Σ S·A(t)`` of the sources that carry
kinetics (a fitted curve or an effective half-life); its generalised
Lea–Catcheside G factor gives the BED of the cycle.  Used by
:func:`prrt.dosimetry.study.run_study`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from prrt.dosimetry.radiobiology import (
    BedResult,
    ExponentialDoseRate,
    RadiobiologyParameters,
    bed_gy,
    eqd2_gy,
    g_factor,
    g_factor_sampled,
    radiobiology_parameters,
)
from prrt.dosimetry.study_kinetics import _Kinetics
from prrt.errors import FitError, InvalidInputError

__all__: list[str] = []

_LN2 = math.log(2.0)


def _dose_rate_g(
    parts: Sequence[tuple[float, _Kinetics]], repair_half_time_s: float, nuclide_lambda: float
) -> tuple[float, str] | None:
    """G factor of the dose rate ``Σ S·A(t)`` of the parts that carry kinetics.

    Returns None when no part has a curve or an effective half-life.
    """
    timed = [(s, k) for s, k in parts if s > 0.0 and (k.fit is not None or k.effective_half_life_s)]
    if not timed:
        return None
    curves: list[ExponentialDoseRate] = []
    sampled = False
    for s, k in timed:
        if k.fit is not None:
            try:
                curves.append(
                    ExponentialDoseRate.from_activity_terms(
                        k.fit.exponential_terms(), s_value_gy_per_bq_s=s
                    )
                )
            except FitError:
                sampled = True
        elif k.effective_half_life_s is not None:
            curves.append(
                ExponentialDoseRate.mono_exponential(
                    dose_gy=s * k.tia_bq_s, effective_half_life_s=k.effective_half_life_s
                )
            )
    if not sampled:
        total = curves[0]
        for curve in curves[1:]:
            total = total + curve
        return g_factor(total, repair_half_time_s=repair_half_time_s), "sum of exponentials"
    # A trapezoid fit: sample the whole dose-rate curve and integrate numerically.
    t_last = max(
        float(k.fit.knot_times_s[-1])
        if k.fit is not None and k.fit.knot_times_s is not None
        else 0.0
        for _, k in timed
    )
    t_end = max(t_last, 1.0) + 20.0 * _LN2 / nuclide_lambda
    knots = [
        np.asarray(k.fit.knot_times_s, dtype=np.float64)
        for _, k in timed
        if k.fit is not None and k.fit.knot_times_s is not None
    ]
    # Include the knots so that the piecewise-linear trapezoid curve is sampled exactly.
    grid = np.unique(
        np.concatenate(
            [
                np.linspace(0.0, max(t_last, 1.0), 400),
                np.geomspace(max(t_last, 1.0), t_end, 400),
                *knots,
            ]
        )
    )
    grid = grid[np.concatenate([[True], np.diff(grid) > 1.0])]  # drop near-duplicates (< 1 s)
    rate = np.zeros_like(grid)
    for s, k in timed:
        if k.fit is not None:
            rate += s * np.clip(k.fit.predict(grid), 0.0, None)
        elif k.effective_half_life_s is not None:
            lam = _LN2 / k.effective_half_life_s
            rate += s * k.tia_bq_s * lam * np.exp(-lam * grid)
    g = g_factor_sampled(
        times_s=grid,
        dose_rate_gy_per_s=rate,
        repair_half_time_s=repair_half_time_s,
        tail_rate_per_s=nuclide_lambda,
        substeps=8,
    )
    return g, "numerical generalised Lea–Catcheside integration (trapezoid curve)"


def _parameters_for(region: str) -> RadiobiologyParameters | None:
    try:
        return radiobiology_parameters(region)
    except InvalidInputError:
        return None


def _bed(
    region: str,
    dose: float,
    parts: Sequence[tuple[float, _Kinetics]],
    params: RadiobiologyParameters | None,
    nuclide_lambda: float,
    notes: list[str],
    path: str,
    *,
    alpha: bool = False,
) -> BedResult | None:
    if params is None:
        notes.append(f"{path}: no radiobiology parameters for {region}; BED not computed")
        return None
    if alpha:
        notes.append(
            f"{path}: BED of the linear-quadratic model is not computed for alpha emitters; "
            "the RBE-weighted dose is used for the course and its limits"
        )
        return None
    if dose <= 0.0:
        return BedResult(
            region, 0.0, 0.0, params.alpha_beta_gy, params.repair_half_time_s, 0.0, 0.0, "zero dose"
        )
    found = _dose_rate_g(parts, params.repair_half_time_s, nuclide_lambda)
    if found is None:
        notes.append(
            f"{path}: no time course (curve or effective half-life) for {region}; BED unknown"
        )
        return None
    g, how = found
    bed = bed_gy(dose_gy=dose, g_factor=g, alpha_beta_gy=params.alpha_beta_gy)
    return BedResult(
        tissue=params.tissue,
        dose_gy=dose,
        g_factor=g,
        alpha_beta_gy=params.alpha_beta_gy,
        repair_half_time_s=params.repair_half_time_s,
        bed_gy=bed,
        eqd2_gy=eqd2_gy(bed_gy=bed, alpha_beta_gy=params.alpha_beta_gy),
        method=f"linear-quadratic BED; G from {how}",
    )
