"""Hybrid integration: trapezoid over the measured points plus an analytic tail.

The conventions that change the result are explicit options
(dosimetry-reference.md §4.1, cases TIA-05/06):

* start segment before the first point: ``"zero"`` (linear ramp from A(0) = 0)
  or ``"rect"`` (constant back-extrapolation of the first activity);
* tail after the last point: ``"physical"`` (physical decay only,
  Ã_tail = A_last/λ_phys, conservative) or ``"fitted"`` (mono-exponential
  fitted log-linearly to the last ``tail_points`` points; a fitted rate slower
  than physical decay is clamped to λ_phys and flagged).

With activity uncertainties the TIA uncertainty is propagated from them (law of
propagation of uncertainty, independent points; Gear et al., EJNMMI 2018).
"""

from __future__ import annotations

import math
import warnings
from typing import Literal

import numpy as np

from prrt._typing import FloatArray
from prrt.errors import ExtrapolationWarning, FitError, FitQualityWarning, InvalidInputError
from prrt.kinetics._fitter_base import check_common_settings
from prrt.kinetics._physics import physical_decay_constant_per_s
from prrt.kinetics.fit import TacFit
from prrt.kinetics.tac import TimeActivityCurve

__all__ = ["TrapezoidFitter"]

Tail = Literal["physical", "fitted"]
Start = Literal["zero", "rect"]


class TrapezoidFitter:
    """Trapezoid integration of the measured points with a physical-decay or fitted tail.

    Parameters
    ----------
    tail
        ``"physical"`` or ``"fitted"`` (see module docstring).
    start
        ``"zero"`` or ``"rect"`` start segment.
    tail_points
        Number of last points for the fitted tail (≥ 2).
    allow_net_uptake
        Keep a fitted tail rate below λ_phys (it must still be positive).
    physical_decay_constant_per_s
        Override λ_phys (default: from the curve's nuclide).
    extrapolation_warning_fraction
        Warn when start segment plus tail exceed this fraction of the TIA.

    Examples
    --------
    TIA-05/06 of dosimetry-reference.md §4.1 (4, 24, 96, 168 h; 60, 55, 30, 18 MBq):

    >>> tac = TimeActivityCurve.from_text(
    ...     times=["4 h", "24 h", "96 h", "168 h"],
    ...     activities=["60 MBq", "55 MBq", "30 MBq", "18 MBq"],
    ... )
    >>> fit = TrapezoidFitter(tail="fitted").fit(tac)
    >>> areas = dict(fit.area_components_bq_s)
    >>> round((areas["before_first"] + areas["measured"]) / 3.6e9, 1), round(areas["after_last"] / 3.6e9, 1)
    (6058.0, 2537.1)
    """

    model_name = "trapezoid"
    parameter_names = ("tail_rate_per_s",)

    def __init__(
        self,
        *,
        tail: Tail = "physical",
        start: Start = "zero",
        tail_points: int = 2,
        allow_net_uptake: bool = False,
        physical_decay_constant_per_s: float | None = None,
        extrapolation_warning_fraction: float = 0.5,
    ) -> None:
        if tail not in ("physical", "fitted"):
            raise InvalidInputError("tail", tail, "'physical' or 'fitted'")
        if start not in ("zero", "rect"):
            raise InvalidInputError("start", start, "'zero' or 'rect'")
        if isinstance(tail_points, bool) or not isinstance(tail_points, int) or tail_points < 2:
            raise InvalidInputError("tail_points", tail_points, "an integer >= 2")
        check_common_settings(
            physical_decay_constant_per_s=physical_decay_constant_per_s,
            extrapolation_warning_fraction=extrapolation_warning_fraction,
        )
        self.tail = tail
        self.start = start
        self.tail_points = tail_points
        self.allow_net_uptake = allow_net_uptake
        self.physical_decay_constant_per_s = physical_decay_constant_per_s
        self.extrapolation_warning_fraction = extrapolation_warning_fraction

    def __repr__(self) -> str:
        """Show the class and its settings."""
        return f"TrapezoidFitter(tail={self.tail!r}, start={self.start!r}, tail_points={self.tail_points})"

    @property
    def n_parameters(self) -> int:
        """Number of estimated parameters (the tail rate)."""
        return 1

    def _tail_rate(self, t: FloatArray, y: FloatArray, lam_phys: float) -> tuple[float, bool]:
        """Return (tail rate, clamped) for activities ``y``."""
        if self.tail == "physical" or y[-1] <= 0:
            return lam_phys, False
        tt, yy = t[-self.tail_points :], y[-self.tail_points :]
        keep = yy > 0
        if np.count_nonzero(keep) < 2:
            raise FitError(
                f"fitted tail needs {self.tail_points} positive activities at the last points; "
                "use tail='physical'"
            )
        slope = float(np.polyfit(tt[keep], np.log(yy[keep]), 1)[0])
        rate = -slope
        if self.allow_net_uptake:
            if rate <= 0:
                raise FitError(
                    f"fitted tail rate {rate:.3g} 1/s is not positive (activity still rising); "
                    "the integral would be infinite: use tail='physical' or a later time point"
                )
            return rate, False
        if rate < lam_phys:
            return lam_phys, True
        return rate, False

    def _areas(
        self, t: FloatArray, y: FloatArray, lam_phys: float
    ) -> tuple[float, float, float, float, bool]:
        if t[0] > 0:
            before = float(y[0] * t[0] * (0.5 if self.start == "zero" else 1.0))
        else:
            before = 0.0
        measured = float(np.trapezoid(y, t)) if t.size > 1 else 0.0
        rate, clamped = self._tail_rate(t, y, lam_phys)
        after = float(y[-1] / rate)
        return before, measured, after, rate, clamped

    def fit(self, tac: TimeActivityCurve) -> TacFit:
        """Integrate ``tac``; return a :class:`~prrt.kinetics.fit.TacFit` with model ``"trapezoid"``.

        Raises
        ------
        InvalidInputError
            A fitted tail with fewer points than ``tail_points``.
        FitError
            A fitted tail that cannot be computed (non-positive activities, rising tail).

        Warns
        -----
        FitQualityWarning
            A fitted tail slower than physical decay was clamped to λ_phys.
        ExtrapolationWarning
            Start segment plus tail exceed ``extrapolation_warning_fraction``.
        """
        if not isinstance(tac, TimeActivityCurve):
            raise InvalidInputError("tac", tac, "a TimeActivityCurve")
        if self.tail == "fitted" and tac.n_points < self.tail_points:
            raise InvalidInputError(
                "tac.times_s",
                f"{tac.n_points} time point(s)",
                f"at least {self.tail_points} time points for a fitted tail",
                hint="use tail='physical'",
            )
        lam_phys = (
            self.physical_decay_constant_per_s
            if self.physical_decay_constant_per_s is not None
            else physical_decay_constant_per_s(tac.nuclide)
        )
        t, y = tac.times_s, tac.activities_bq
        before, measured, after, rate, clamped = self._areas(t, y, lam_phys)
        tia = before + measured + after
        if not tia > 0:
            raise InvalidInputError(
                "tac.activities_bq", y.tolist(), "at least one positive activity"
            )
        tia_sd = None
        if tac.uncertainties_bq is not None:
            gradient = self._gradient(t, y, lam_phys)
            tia_sd = float(math.sqrt(np.sum((gradient * tac.uncertainties_bq) ** 2)))
        extrapolated = (before + after) / tia
        if clamped:
            warnings.warn(
                f"trapezoid of region {tac.region or '-'}: fitted tail slower than physical decay; "
                "physical decay used for the tail",
                FitQualityWarning,
                stacklevel=2,
            )
        if extrapolated > self.extrapolation_warning_fraction:
            warnings.warn(
                f"trapezoid of region {tac.region or '-'}: {100 * extrapolated:.0f} % of the "
                "time-integrated activity lies outside the measured interval; "
                "consider a later time point",
                ExtrapolationWarning,
                stacklevel=2,
            )
        return TacFit(
            model_name=self.model_name,
            parameter_names=self.parameter_names,
            parameters=np.array([rate]),
            covariance=None,
            time_integrated_activity_bq_s=tia,
            time_integrated_activity_sd_bq_s=tia_sd,
            aicc=None,
            r_squared=None,
            extrapolated_fraction=extrapolated,
            converged=True,
            region=tac.region,
            nuclide=tac.nuclide,
            n_points=tac.n_points,
            weighting="uncertainties" if tac.uncertainties_bq is not None else "none",
            parameters_at_bound=(clamped,),
            area_components_bq_s=(
                ("before_first", before),
                ("measured", measured),
                ("after_last", after),
            ),
            knot_times_s=t,
            knot_activities_bq=y,
            options=(
                ("start", self.start),
                ("tail", self.tail),
                ("tail_points", str(self.tail_points)),
            ),
            message="tail rate clamped to the physical decay constant" if clamped else "",
        )

    def _gradient(self, t: FloatArray, y: FloatArray, lam_phys: float) -> FloatArray:
        """∂Ã/∂A_i by central differences (the TIA is piecewise smooth in the activities)."""
        gradient = np.zeros_like(y)
        for i in range(y.size):
            step = 1e-6 * max(float(y[i]), float(np.max(y)) * 1e-3)
            up, down = y.copy(), y.copy()
            up[i] += step
            down[i] = max(down[i] - step, 0.0)
            width = up[i] - down[i]
            gradient[i] = (
                sum(self._areas(t, up, lam_phys)[:3]) - sum(self._areas(t, down, lam_phys)[:3])
            ) / width
        return gradient
