"""Time-activity curves: fitters, model selection, time-integrated activity and single-time-point methods.

Public surface (canonical units: s, Bq, Bq·s):

* :class:`TimeActivityCurve` — measured curve of one organ or lesion.
* Fitters returning a frozen :class:`TacFit`: :class:`MonoExponentialFitter`,
  :class:`MonoExponentialUptakeFitter`, :class:`BiExponentialFitter`,
  :class:`TriExponentialFitter`, :class:`TrapezoidFitter`; :func:`fit_best`
  (AICc selection); :func:`fit_many_biexponential` (vectorised).
* Single time point: :func:`hanscheid_tia`, :func:`madsen_tia`
  (:class:`HanscheidFitter`, :class:`MadsenFitter`).

See ``docs/kinetics.md`` and dosimetry-reference.md §4.
"""

from prrt.kinetics.batch import BatchTacFit, fit_many_biexponential
from prrt.kinetics.fit import FitSummary, ParameterEstimate, TacFit
from prrt.kinetics.fitters import (
    BiExponentialFitter,
    MonoExponentialFitter,
    MonoExponentialUptakeFitter,
    TacFitter,
    TriExponentialFitter,
    default_candidates,
    fit_best,
)
from prrt.kinetics.stp import (
    HanscheidFitter,
    MadsenFitter,
    PopulationHalfLife,
    hanscheid_ratio,
    hanscheid_tia,
    madsen_tia,
    population_effective_half_life,
)
from prrt.kinetics.tac import TimeActivityCurve
from prrt.kinetics.trapezoid import TrapezoidFitter

__all__ = [
    "BatchTacFit",
    "BiExponentialFitter",
    "FitSummary",
    "HanscheidFitter",
    "MadsenFitter",
    "MonoExponentialFitter",
    "MonoExponentialUptakeFitter",
    "ParameterEstimate",
    "PopulationHalfLife",
    "TacFit",
    "TacFitter",
    "TimeActivityCurve",
    "TrapezoidFitter",
    "TriExponentialFitter",
    "default_candidates",
    "fit_best",
    "fit_many_biexponential",
    "hanscheid_ratio",
    "hanscheid_tia",
    "madsen_tia",
    "population_effective_half_life",
]
