"""Single-time-point (STP) estimates of the time-integrated activity.

Both methods assume a mono-exponential clearance through the one measurement
A(t) and return a :class:`~prrt.kinetics.fit.TacFit` like the multi-time-point
fitters (model A(τ) = a0·exp(−k τ) with a0 = A(t)·exp(k t)):

* Hänscheid et al., J Nucl Med 2018;59:75–81 (doi 10.2967/jnumed.117.193706):
  Ã ≈ A(t)·2t/ln 2, i.e. the mono-exponential with T_eff = t.  For a true
  mono-exponential the ratio approximation/true is 2x·e^(−x)/ln 2 with
  x = ln 2·t/T_eff: within ±10 % for T_eff between 0.41 t and 1.31 t
  (dosimetry-reference.md §4.3; at t = 96 h: 39.4–125.6 h).
* Madsen et al., Med Phys 2018;45:2318: Ã = A(t)·exp(λ_eff t)/λ_eff with a
  population effective half-life T_eff,pop (λ_eff = ln 2/T_eff,pop).

The whole area is extrapolated by construction (``extrapolated_fraction`` = 1);
no :class:`~prrt.errors.ExtrapolationWarning` is issued for these methods.
Uncertainties: the activity uncertainty and, for Madsen, the half-life
uncertainty are propagated to first order; the method error of Hänscheid's
approximation (above) is not included.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

import numpy as np

from prrt.errors import DataSourceError, InvalidInputError
from prrt.kinetics._physics import canonical_nuclide, physical_decay_constant_per_s
from prrt.kinetics.fit import TacFit
from prrt.kinetics.tac import TimeActivityCurve
from prrt.units import SECONDS_PER_HOUR

__all__ = [
    "HanscheidFitter",
    "MadsenFitter",
    "PopulationHalfLife",
    "hanscheid_ratio",
    "hanscheid_tia",
    "madsen_tia",
    "population_effective_half_life",
]

_LN2 = math.log(2.0)
_POPULATION_TABLE = "population_effective_half_lives.csv"


@dataclass(frozen=True, slots=True)
class PopulationHalfLife:
    """A population effective half-life with its source (for :func:`madsen_tia`)."""

    region: str
    radiopharmaceutical: str
    effective_half_life_s: float
    low_s: float
    high_s: float
    source: str
    reliability: str


@lru_cache(maxsize=1)
def _population_rows() -> tuple[PopulationHalfLife, ...]:
    path = resources.files("prrt.kinetics").joinpath("data", _POPULATION_TABLE)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as err:
        raise DataSourceError(f"cannot read {_POPULATION_TABLE}: {err}") from err
    rows = []
    for row in csv.DictReader(text.splitlines()):
        try:
            rows.append(
                PopulationHalfLife(
                    region=row["region"].strip(),
                    radiopharmaceutical=row["radiopharmaceutical"].strip(),
                    effective_half_life_s=float(row["effective_half_life_h"]) * SECONDS_PER_HOUR,
                    low_s=float(row["low_h"]) * SECONDS_PER_HOUR,
                    high_s=float(row["high_h"]) * SECONDS_PER_HOUR,
                    source=row["source"].strip(),
                    reliability=row["reliability"].strip(),
                )
            )
        except (KeyError, ValueError) as err:
            raise DataSourceError(f"malformed row in {_POPULATION_TABLE}: {row}") from err
    return tuple(rows)


def population_effective_half_life(
    region: str, *, radiopharmaceutical: str = "[177Lu]Lu-DOTA-TATE"
) -> PopulationHalfLife:
    """Return the packaged population effective half-life of ``region``.

    The packaged values are tagged **[R]** in dosimetry-reference.md §4.3 (not
    re-checked against the papers); see ``kinetics/data/README.md``.

    Raises
    ------
    InvalidInputError
        If no row matches; the message lists the available regions.

    Examples
    --------
    >>> population_effective_half_life("kidneys").effective_half_life_s / 3600
    50.0
    """
    for row in _population_rows():
        if row.region == region and row.radiopharmaceutical == radiopharmaceutical:
            return row
    available = ", ".join(f"{r.region} ({r.radiopharmaceutical})" for r in _population_rows())
    raise InvalidInputError("region", region, f"a region with a population half-life: {available}")


def hanscheid_ratio(*, time_s: float, effective_half_life_s: float) -> float:
    """Ratio of Hänscheid's estimate to the true TIA of a mono-exponential: 2x·e^(−x)/ln 2.

    x = ln 2·t/T_eff (dosimetry-reference.md §4.3).

    Examples
    --------
    >>> round(hanscheid_ratio(time_s=96.0, effective_half_life_s=96.0), 12)
    1.0
    """
    _check_positive("time_s", time_s)
    _check_positive("effective_half_life_s", effective_half_life_s)
    x = _LN2 * time_s / effective_half_life_s
    return 2.0 * x * math.exp(-x) / _LN2


def _check_positive(field: str, value: float) -> None:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(field, value, "a finite number in canonical units")
    if value <= 0:
        raise InvalidInputError(field, value, "a positive value")


def _check_sd(field: str, value: float | None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(field, value, "a finite standard uncertainty")
    if value <= 0:
        raise InvalidInputError(field, value, "a positive standard uncertainty (or None)")


def _stp_fit(
    *,
    model_name: str,
    method: str,
    activity_bq: float,
    time_s: float,
    rate_per_s: float,
    activity_sd_bq: float | None,
    rate_sd_per_s: float | None,
    region: str,
    nuclide: str,
    message: str,
) -> TacFit:
    growth = math.exp(rate_per_s * time_s)
    a0 = activity_bq * growth
    tia = a0 / rate_per_s
    covariance = None
    tia_sd = None
    if activity_sd_bq is not None or rate_sd_per_s is not None:
        var_a = (activity_sd_bq or 0.0) ** 2
        var_k = (rate_sd_per_s or 0.0) ** 2
        # a0 = A·e^{kt}: ∂a0/∂A = e^{kt}, ∂a0/∂k = A·t·e^{kt}.
        da0_dk = activity_bq * time_s * growth
        covariance = np.array(
            [
                [growth**2 * var_a + da0_dk**2 * var_k, da0_dk * var_k],
                [da0_dk * var_k, var_k],
            ]
        )
        # Ã = A·e^{kt}/k: ∂Ã/∂A = e^{kt}/k, ∂Ã/∂k = A·e^{kt}(t/k − 1/k²).
        d_a = growth / rate_per_s
        d_k = activity_bq * growth * (time_s / rate_per_s - 1.0 / rate_per_s**2)
        tia_sd = math.sqrt(d_a**2 * var_a + d_k**2 * var_k)
    return TacFit(
        model_name=model_name,
        parameter_names=("a0_bq", "k_per_s"),
        parameters=np.array([a0, rate_per_s]),
        covariance=covariance,
        time_integrated_activity_bq_s=tia,
        time_integrated_activity_sd_bq_s=tia_sd,
        aicc=None,
        r_squared=None,
        extrapolated_fraction=1.0,
        converged=True,
        region=region,
        nuclide=canonical_nuclide(nuclide),
        n_points=1,
        weighting="none",
        parameters_at_bound=(False, False),
        area_components_bq_s=(
            ("before_first", a0 / rate_per_s * (1.0 - math.exp(-rate_per_s * time_s))),
            ("measured", 0.0),
            ("after_last", activity_bq / rate_per_s),
        ),
        options=(("method", method), ("time_s", repr(float(time_s)))),
        message=message,
    )


def hanscheid_tia(
    *,
    activity_bq: float,
    time_s: float,
    activity_sd_bq: float | None = None,
    region: str = "",
    nuclide: str = "Lu-177",
) -> TacFit:
    """Hänscheid 2018 single-time-point TIA: Ã ≈ A(t)·2t/ln 2.

    Parameters
    ----------
    activity_bq
        Activity of the region at ``time_s`` (Bq, ≥ 0).
    time_s
        Time of the measurement after injection (s, > 0); ~96 h recommended.
    activity_sd_bq
        Optional standard uncertainty of the activity (Bq).
    region, nuclide
        Labels copied to the result.

    Returns
    -------
    TacFit
        Model ``"stp_hanscheid_2018"`` (mono-exponential with T_eff = t).

    Examples
    --------
    STP-01 of dosimetry-reference.md §4.3: A(96 h) = 40 MBq; with the kidney S
    value 7.76e-5 mGy/(MBq·s) the dose is 3.095 Gy.

    >>> fit = hanscheid_tia(activity_bq=40e6, time_s=96 * 3600.0)
    >>> round(fit.time_integrated_activity_bq_s * 7.76e-5 * 1e-9, 3)  # Gy
    3.095
    """
    _check_nonnegative_activity(activity_bq)
    _check_positive("time_s", time_s)
    _check_sd("activity_sd_bq", activity_sd_bq)
    return _stp_fit(
        model_name="stp_hanscheid_2018",
        method="Hänscheid 2018 (J Nucl Med 59:75)",
        activity_bq=float(activity_bq),
        time_s=float(time_s),
        rate_per_s=_LN2 / float(time_s),
        activity_sd_bq=activity_sd_bq,
        rate_sd_per_s=None,
        region=region,
        nuclide=nuclide,
        message=(
            "Hänscheid 2018: within ±10 % of the true TIA only for T_eff between 0.41 t and "
            "1.31 t (dosimetry-reference.md §4.3); method error not in the uncertainty"
        ),
    )


def madsen_tia(
    *,
    activity_bq: float,
    time_s: float,
    effective_half_life_s: float,
    effective_half_life_sd_s: float | None = None,
    activity_sd_bq: float | None = None,
    region: str = "",
    nuclide: str = "Lu-177",
    allow_net_uptake: bool = False,
) -> TacFit:
    """Madsen 2018 single-time-point TIA: Ã = A(t)·exp(λ t)/λ, λ = ln 2/T_eff,pop.

    Parameters
    ----------
    activity_bq
        Activity of the region at ``time_s`` (Bq, ≥ 0).
    time_s
        Time of the measurement after injection (s, > 0).
    effective_half_life_s
        Population effective half-life (s); see :func:`population_effective_half_life`.
        Must not exceed the physical half-life unless ``allow_net_uptake``.
    effective_half_life_sd_s, activity_sd_bq
        Optional standard uncertainties, propagated to first order.
    region, nuclide
        Labels; the nuclide also gives the physical half-life.

    Returns
    -------
    TacFit
        Model ``"stp_madsen_2018"``.

    Examples
    --------
    STP-03 of dosimetry-reference.md §4.3 (T_eff,pop = 50 h, A(96 h) = 40 MBq,
    S = 7.76e-5 mGy/(MBq·s)) gives 3.050 Gy:

    >>> h = 3600.0
    >>> fit = madsen_tia(activity_bq=40e6, time_s=96 * h, effective_half_life_s=50 * h)
    >>> round(fit.time_integrated_activity_bq_s * 7.76e-5 * 1e-9, 3)
    3.05
    """
    _check_nonnegative_activity(activity_bq)
    _check_positive("time_s", time_s)
    _check_positive("effective_half_life_s", effective_half_life_s)
    _check_sd("effective_half_life_sd_s", effective_half_life_sd_s)
    _check_sd("activity_sd_bq", activity_sd_bq)
    lam_phys = physical_decay_constant_per_s(nuclide)
    physical_half_life_s = _LN2 / lam_phys
    if effective_half_life_s > physical_half_life_s * (1 + 1e-12) and not allow_net_uptake:
        raise InvalidInputError(
            "effective_half_life_s",
            effective_half_life_s,
            f"at most the physical half-life of {canonical_nuclide(nuclide)} "
            f"({physical_half_life_s:.6g} s)",
            hint="an effective half-life longer than the physical one means net uptake; "
            "pass allow_net_uptake=True only if that is intended",
        )
    rate = _LN2 / float(effective_half_life_s)
    rate_sd = (
        None
        if effective_half_life_sd_s is None
        else _LN2 * float(effective_half_life_sd_s) / float(effective_half_life_s) ** 2
    )
    return _stp_fit(
        model_name="stp_madsen_2018",
        method="Madsen 2018 (Med Phys 45:2318)",
        activity_bq=float(activity_bq),
        time_s=float(time_s),
        rate_per_s=rate,
        activity_sd_bq=activity_sd_bq,
        rate_sd_per_s=rate_sd,
        region=region,
        nuclide=nuclide,
        message=f"Madsen 2018 with population T_eff = {effective_half_life_s:.6g} s",
    )


def _check_nonnegative_activity(activity_bq: float) -> None:
    if (
        isinstance(activity_bq, bool)
        or not isinstance(activity_bq, int | float)
        or not math.isfinite(activity_bq)
    ):
        raise InvalidInputError("activity_bq", activity_bq, "a finite activity in Bq")
    if activity_bq < 0:
        raise InvalidInputError("activity_bq", activity_bq, "a non-negative activity in Bq")


def _single_point(tac: TimeActivityCurve, method: str) -> tuple[float, float, float | None]:
    if not isinstance(tac, TimeActivityCurve):
        raise InvalidInputError("tac", tac, "a TimeActivityCurve")
    if tac.n_points != 1:
        raise InvalidInputError(
            "tac.times_s",
            f"{tac.n_points} time points",
            f"exactly one time point for the {method} single-time-point method",
            hint="use fit_best for several time points",
        )
    sd = None if tac.uncertainties_bq is None else float(tac.uncertainties_bq[0])
    return float(tac.activities_bq[0]), float(tac.times_s[0]), sd


class HanscheidFitter:
    """Fitter-style access to :func:`hanscheid_tia` for a one-point curve.

    Examples
    --------
    >>> tac = TimeActivityCurve.from_text(times=["96 h"], activities=["40 MBq"])
    >>> round(HanscheidFitter().fit(tac).time_integrated_activity_bq_s / 3.6e9, 1)  # MBq·h
    11079.9
    """

    model_name = "stp_hanscheid_2018"
    parameter_names = ("a0_bq", "k_per_s")

    def fit(self, tac: TimeActivityCurve) -> TacFit:
        """Return the Hänscheid 2018 estimate for the single point of ``tac``."""
        activity, time, sd = _single_point(tac, "Hänscheid")
        return hanscheid_tia(
            activity_bq=activity,
            time_s=time,
            activity_sd_bq=sd,
            region=tac.region,
            nuclide=tac.nuclide,
        )


class MadsenFitter:
    """Fitter-style access to :func:`madsen_tia` with a fixed population half-life.

    Examples
    --------
    >>> tac = TimeActivityCurve.from_text(times=["96 h"], activities=["40 MBq"], region="kidneys")
    >>> fitter = MadsenFitter(effective_half_life_s=50 * 3600.0)
    >>> round(fitter.fit(tac).time_integrated_activity_bq_s / 3.6e9, 1)  # MBq·h
    10919.0
    """

    model_name = "stp_madsen_2018"
    parameter_names = ("a0_bq", "k_per_s")

    def __init__(
        self,
        *,
        effective_half_life_s: float,
        effective_half_life_sd_s: float | None = None,
        allow_net_uptake: bool = False,
    ) -> None:
        _check_positive("effective_half_life_s", effective_half_life_s)
        _check_sd("effective_half_life_sd_s", effective_half_life_sd_s)
        self.effective_half_life_s = float(effective_half_life_s)
        self.effective_half_life_sd_s = effective_half_life_sd_s
        self.allow_net_uptake = allow_net_uptake

    def fit(self, tac: TimeActivityCurve) -> TacFit:
        """Return the Madsen 2018 estimate for the single point of ``tac``."""
        activity, time, sd = _single_point(tac, "Madsen")
        return madsen_tia(
            activity_bq=activity,
            time_s=time,
            effective_half_life_s=self.effective_half_life_s,
            effective_half_life_sd_s=self.effective_half_life_sd_s,
            activity_sd_bq=sd,
            region=tac.region,
            nuclide=tac.nuclide,
            allow_net_uptake=self.allow_net_uptake,
        )
