"""Cox proportional-hazards models of cohort survival (lifelines ``CoxPHFitter``).

Efron's handling of ties, as R ``coxph``; hazard ratios with Wald intervals, the
likelihood-ratio test and Harrell's concordance, and the Schoenfeld-residual test of
proportional hazards per covariate (rank time transform; Grambsch & Therneau,
Biometrika 1994;81:515).

References
----------
Cox DR. Regression models and life-tables. J R Stat Soc B 1972;34:187-220.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd  # type: ignore[import-untyped]
from lifelines import CoxPHFitter
from lifelines.exceptions import ConvergenceError
from lifelines.statistics import proportional_hazard_test

from prrt._typing import ArrayLike, FloatArray
from prrt.errors import FitError, FitQualityWarning, InvalidInputError
from prrt.outcomes.survival import _inputs, _z

__all__ = ["CoxResult", "CoxTerm", "cox_model"]


@dataclass(frozen=True, slots=True)
class CoxTerm:
    """One covariate of a Cox model."""

    name: str
    coef: float
    se: float
    hazard_ratio: float
    hr_lower: float
    hr_upper: float
    p_value: float
    ph_test_p_value: float | None

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "name": self.name,
            "coef": self.coef,
            "se": self.se,
            "hazard_ratio": self.hazard_ratio,
            "hr_ci": [self.hr_lower, self.hr_upper],
            "p_value": self.p_value,
            "ph_test_p_value": self.ph_test_p_value,
        }


@dataclass(frozen=True, slots=True)
class CoxResult:
    """A fitted proportional-hazards model."""

    terms: tuple[CoxTerm, ...]
    n: int
    events: int
    log_likelihood_ratio: float
    df: int
    p_value: float
    concordance: float
    confidence_level: float
    ties: str = "efron"

    def term(self, name: str) -> CoxTerm:
        """The term called ``name``."""
        for t in self.terms:
            if t.name == name:
                return t
        raise InvalidInputError("name", name, "one of " + ", ".join(t.name for t in self.terms))

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary."""
        return {
            "terms": [t.to_dict() for t in self.terms],
            "n": self.n,
            "events": self.events,
            "likelihood_ratio_test": {
                "statistic": self.log_likelihood_ratio,
                "df": self.df,
                "p_value": self.p_value,
            },
            "concordance": self.concordance,
            "confidence_level": self.confidence_level,
            "ties": self.ties,
        }


def cox_model(
    time_months: ArrayLike,
    event: ArrayLike,
    covariates: Mapping[str, ArrayLike],
    *,
    confidence_level: float = 0.95,
    test_proportional_hazards: bool = True,
) -> CoxResult:
    """Fit a Cox proportional-hazards model (Efron ties).

    Parameters
    ----------
    covariates
        Name -> numeric values, one per patient (encode an arm as 0/1).
    test_proportional_hazards
        Add the Schoenfeld-residual test (rank time transform) per covariate
        (Grambsch & Therneau, Biometrika 1994;81:515).

    Raises
    ------
    InvalidInputError
        No covariate, non-numeric or non-finite values, or lengths that differ.
    FitError
        The partial likelihood did not converge (e.g. complete separation).

    References
    ----------
    Cox DR. J R Stat Soc B 1972;34:187-220.
    """
    t, e = _inputs(time_months, event)
    _z(confidence_level)
    if not covariates:
        raise InvalidInputError("covariates", {}, "at least one covariate")
    frame: dict[str, FloatArray] = {}
    for name, values in covariates.items():
        try:
            x = np.asarray(values, dtype=np.float64).ravel()
        except (TypeError, ValueError) as err:
            raise InvalidInputError(f"covariates[{name}]", "text", "numeric values") from err
        if x.size != t.size or not np.all(np.isfinite(x)):
            raise InvalidInputError(
                f"covariates[{name}]", x.size, f"{t.size} finite values, one per patient"
            )
        if np.ptp(x) == 0.0:
            raise InvalidInputError(
                f"covariates[{name}]", float(x[0]), "a covariate that varies between patients"
            )
        frame[name] = x
    data = pd.DataFrame({"time_months": t, "event": e, **frame})
    fitter = CoxPHFitter(alpha=1.0 - confidence_level)
    try:
        fitter.fit(data, duration_col="time_months", event_col="event")
    except (ConvergenceError, np.linalg.LinAlgError) as err:
        raise FitError(
            f"Cox model did not converge: {err}",
        ) from err
    ph: dict[str, float] = {}
    if test_proportional_hazards and int(e.sum()) > len(frame) + 1:
        test = proportional_hazard_test(fitter, data, time_transform="rank")
        ph = {str(k): float(v) for k, v in zip(test.name, test.p_value, strict=True)}
    if int(e.sum()) < 10 * len(frame):
        warnings.warn(
            f"Cox model with {int(e.sum())} events for {len(frame)} covariate(s): fewer than "
            "10 events per covariate, estimates may be unstable",
            FitQualityWarning,
            stacklevel=2,
        )
    summary = fitter.summary
    lr = fitter.log_likelihood_ratio_test()
    terms = []
    for name in frame:
        row = summary.loc[name]
        terms.append(
            CoxTerm(
                name=name,
                coef=float(row["coef"]),
                se=float(row["se(coef)"]),
                hazard_ratio=float(row["exp(coef)"]),
                hr_lower=float(np.exp(row["coef lower %g%%" % (confidence_level * 100)])),
                hr_upper=float(np.exp(row["coef upper %g%%" % (confidence_level * 100)])),
                p_value=float(row["p"]),
                ph_test_p_value=ph.get(name),
            )
        )
    return CoxResult(
        terms=tuple(terms),
        n=int(t.size),
        events=int(e.sum()),
        log_likelihood_ratio=float(lr.test_statistic),
        df=int(lr.degrees_freedom),
        p_value=float(lr.p_value),
        concordance=float(fitter.concordance_index_),
        confidence_level=confidence_level,
    )
