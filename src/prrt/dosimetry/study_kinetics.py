"""Kinetics of an organ-dosimetry study: curve fits, their TIAs and fit-quality warnings.

Each region, lesion and blood curve of a study is fitted
(:func:`prrt.kinetics.fit_best` or a chosen model) or given as a TIA;
:func:`fit_quality_warnings` flags the fits whose TIA should not be trusted as
reported.  Used by :func:`prrt.dosimetry.study.run_study`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np

from prrt.errors import FitError, InvalidInputError, PrrtWarning
from prrt.kinetics import (
    BiExponentialFitter,
    HanscheidFitter,
    MadsenFitter,
    MonoExponentialFitter,
    MonoExponentialUptakeFitter,
    TacFit,
    TimeActivityCurve,
    TrapezoidFitter,
    TriExponentialFitter,
    fit_best,
    population_effective_half_life,
)

__all__ = ["POOR_FIT_R_SQUARED", "fit_quality_warnings", "residual_dof"]

_FITTERS: dict[str, Any] = {
    "mono_exponential": MonoExponentialFitter,
    "mono_exponential_uptake": MonoExponentialUptakeFitter,
    "bi_exponential": BiExponentialFitter,
    "tri_exponential": TriExponentialFitter,
    "trapezoid": TrapezoidFitter,
}


@dataclass(frozen=True, slots=True)
class _Kinetics:
    """A source's TIA with, when available, its curve or effective half-life."""

    tia_bq_s: float
    fit: TacFit | None = None
    effective_half_life_s: float | None = None
    warnings: tuple[str, ...] = ()

    @property
    def tia_sd_fraction(self) -> float | None:
        """Relative SD of the fitted TIA (None without a fit or its covariance)."""
        if self.fit is None or self.fit.time_integrated_activity_sd_bq_s is None:
            return None
        if self.tia_bq_s <= 0.0:
            return None
        return self.fit.time_integrated_activity_sd_bq_s / self.tia_bq_s


# --------------------------------------------------------------------------- computation


def _fitter(model: str, tac: TimeActivityCurve, half_life_s: float | None) -> Any:
    if model == "stp_hanscheid_2018":
        return HanscheidFitter()
    if model == "stp_madsen_2018":
        if half_life_s is None:
            half_life_s = population_effective_half_life(tac.region).effective_half_life_s
        return MadsenFitter(effective_half_life_s=half_life_s)
    return _FITTERS[model]()


def _fit(
    tac: TimeActivityCurve,
    model: str,
    path: str,
    notes: list[str],
    half_life_s: float | None = None,
) -> TacFit:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", PrrtWarning)
        try:
            fit = fit_best(tac) if model == "auto" else _fitter(model, tac, half_life_s).fit(tac)
        except FitError as err:
            raise InvalidInputError(
                path,
                f"{tac.n_points} points",
                "a curve that a kinetic model can be fitted to",
                hint=str(err),
            ) from err
        except InvalidInputError as err:
            raise type(err)(f"{path} ({err.field})", err.value, err.expected, err.hint) from err
    notes.extend(f"{path}: {w.message}" for w in caught if issubclass(w.category, PrrtWarning))
    return fit


#: R² below this marks a poor fit (negative: worse than the mean of the points).
POOR_FIT_R_SQUARED = 0.5
_NO_DOF_MODELS = ("trapezoid", "stp_hanscheid_2018", "stp_madsen_2018")


def _fmt_r2(r2: float) -> str:
    return f"{r2:.3g}".replace("-", "−")


def fit_quality_warnings(fit: TacFit, tac: TimeActivityCurve | None) -> tuple[str, ...]:
    """Short warnings on a fit whose TIA should not be trusted as reported.

    * no residual degrees of freedom (as many points as parameters): R² is 1 by
      construction and the TIA SD is undefined or meaningless;
    * R² < :data:`POOR_FIT_R_SQUARED` (or R² undefined on constant data);
    * net uptake: the activity is highest at the last point, so the TIA is
      dominated by the assumed tail after it (physical decay at most).

    Trapezoid and single-time-point models have no R² and are not judged.

    Examples
    --------
    >>> import numpy as np
    >>> from prrt.kinetics import MonoExponentialFitter, TimeActivityCurve
    >>> tac = TimeActivityCurve(times_s=np.array([24.0, 96.0]) * 3600,
    ...                         activities_bq=np.array([100e6, 60e6]), region="kidneys")
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     fit = MonoExponentialFitter().fit(tac)
    >>> fit_quality_warnings(fit, tac)
    ('kidneys fit has no residual degrees of freedom (2 points, 2 parameters)',)
    """
    region = fit.region or (tac.region if tac is not None else "region")
    found: list[str] = []
    if fit.model_name not in _NO_DOF_MODELS:
        n_par = len(fit.parameters)
        if fit.n_points - n_par <= 0:
            found.append(
                f"{region} fit has no residual degrees of freedom "
                f"({fit.n_points} points, {n_par} parameters)"
            )
        elif fit.r_squared is None:
            found.append(f"{region} fit R² undefined (constant activities)")
        elif fit.r_squared < POOR_FIT_R_SQUARED:
            found.append(f"{region} fit R² {_fmt_r2(fit.r_squared)}")
    if tac is not None and tac.n_points >= 2:
        activities = np.asarray(tac.activities_bq, dtype=np.float64)
        if activities[-1] > activities[:-1].max():
            found.append(f"{region} still rising at the last point (net uptake)")
    return tuple(found)


def _consequence(warning: str) -> str:
    if "net uptake" in warning:
        return (
            ": the TIA is dominated by an assumption (the tail after the last point, at most "
            "physical decay), not by the data; add a later time point"
        )
    if "degrees of freedom" in warning:
        return ": R² is 1 by construction and the TIA uncertainty is unknown"
    return ": the TIA and its SD should not be trusted; check the points or choose another model"


def residual_dof(fit: TacFit) -> int | None:
    """Points minus parameters of a least-squares fit (None for trapezoid/STP models)."""
    if fit.model_name in _NO_DOF_MODELS:
        return None
    return fit.n_points - len(fit.parameters)


def _kinetics_record(name: str, path: str, kin: _Kinetics) -> dict[str, Any]:
    record: dict[str, Any] = {
        "region": name,
        "path": path,
        "time_integrated_activity_bq_s": kin.tia_bq_s,
        "effective_half_life_s": kin.effective_half_life_s,
    }
    if kin.fit is not None:
        fit = kin.fit
        dof = residual_dof(fit)
        record.update(
            {
                "model": fit.model_name,
                "parameters": dict(fit.parameter_dict),
                "time_integrated_activity_sd_bq_s": fit.time_integrated_activity_sd_bq_s,
                "r_squared": None if dof is not None and dof <= 0 else fit.r_squared,
                "residual_dof": dof,
                "fit_warnings": list(kin.warnings),
                "aicc": fit.aicc,
                "extrapolated_fraction": fit.extrapolated_fraction,
                "converged": fit.converged,
            }
        )
    else:
        record["model"] = "given TIA"
    return record


def _kinetics(
    tac: TimeActivityCurve | None,
    tia: float | None,
    half_life: float | None,
    model: str,
    path: str,
    notes: list[str],
) -> _Kinetics:
    if tac is not None:
        fit = _fit(tac, model, f"{path}.tac", notes, half_life)
        quality = fit_quality_warnings(fit, tac)
        notes.extend(f"{path}.tac: warning: {w}" + _consequence(w) for w in quality)
        return _Kinetics(fit.time_integrated_activity_bq_s, fit, half_life, quality)
    if tia is None:
        raise InvalidInputError(path, None, "a 'tac' or a 'tia'")
    return _Kinetics(tia, None, half_life)
