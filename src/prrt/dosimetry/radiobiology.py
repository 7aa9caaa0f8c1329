"""Radiobiology of continuous irradiation: Lea–Catcheside G factor, BED and EQD2 (linear-quadratic model).

``BED = D·[1 + G·D/(α/β)]`` with the generalised Lea–Catcheside factor

    G = (2/D²) ∫_0^∞ Ḋ(t) ∫_0^t Ḋ(w) e^(−μ(t−w)) dw dt,   μ = ln2/T_rep.

For a dose-rate curve that is a sum of exponentials ``Ḋ(t) = Σ_i a_i e^(−b_i t)``
(``a_i`` may be negative for an uptake phase) the integral is closed:
``G = (2/D²) Σ_i Σ_j a_i a_j / [(b_i + b_j)(b_i + μ)]`` (dosimetry-reference.md
§5.1).  It reduces to ``T_rep/(T_rep + T_eff)`` for instant uptake and
mono-exponential clearance (Dale; Barone et al., J Nucl Med 2005;46:99S;
Wessels et al., MIRD Pamphlet 20, J Nucl Med 2008;49:1884) and to the closed
form of Baechler et al., Med Phys 2008;35:1123 for uptake and washout.  Any
other curve (trapezoid fits) is integrated numerically by
:func:`g_factor_sampled`.  Cycles add up with full repair between them;
``EQD2 = BED/(1 + 2/(α/β))``.

Tissue parameters (α/β, repair half-time) are data, in
``data/radiobiology_parameters.csv`` with their sources.
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

import numpy as np

from prrt._typing import ArrayLike
from prrt.errors import DataSourceError, InvalidInputError
from prrt.units import SECONDS_PER_HOUR

__all__ = [
    "BedResult",
    "ExponentialDoseRate",
    "RadiobiologyParameters",
    "bed_for_dose_rate",
    "bed_gy",
    "dose_for_bed_gy",
    "eqd2_gy",
    "g_factor",
    "g_factor_mono_exponential",
    "g_factor_sampled",
    "g_factor_uptake_washout",
    "radiobiology_parameters",
    "total_bed_gy",
]

_LN2 = math.log(2.0)
_TISSUE_ALIASES = {
    "kidney": "kidneys",
    "left_kidney": "kidneys",
    "right_kidney": "kidneys",
    "lesion": "tumour",
    "tumor": "tumour",
    "marrow": "red_marrow",
    "bone_marrow": "red_marrow",
}


def _positive(value: float, field: str, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInputError(field, value, f"{what} as a number")
    if not math.isfinite(value) or value <= 0.0:
        raise InvalidInputError(field, value, f"a positive, finite {what}")
    return float(value)


@dataclass(frozen=True, slots=True)
class RadiobiologyParameters:
    """Linear-quadratic parameters of a tissue.

    Examples
    --------
    >>> p = radiobiology_parameters("kidneys")
    >>> p.alpha_beta_gy, p.repair_half_time_s / 3600
    (2.6, 2.8)
    """

    tissue: str
    alpha_beta_gy: float
    repair_half_time_s: float
    source: str = ""

    def __post_init__(self) -> None:
        _positive(self.alpha_beta_gy, "alpha_beta_gy", "α/β in Gy")
        _positive(self.repair_half_time_s, "repair_half_time_s", "repair half-time in s")

    @property
    def repair_rate_per_s(self) -> float:
        """``μ = ln2/T_rep``."""
        return _LN2 / self.repair_half_time_s


@cache
def _parameter_table() -> dict[str, RadiobiologyParameters]:
    try:
        text = (
            resources.files("prrt.dosimetry")
            .joinpath("data", "radiobiology_parameters.csv")
            .read_text(encoding="utf-8")
        )
    except OSError as err:
        raise DataSourceError(f"packaged radiobiology table cannot be read: {err}") from err
    return {
        row["tissue"]: RadiobiologyParameters(
            tissue=row["tissue"],
            alpha_beta_gy=float(row["alpha_beta_gy"]),
            repair_half_time_s=float(row["repair_half_time_h"]) * SECONDS_PER_HOUR,
            source=f"[{row['reliability']}] {row['source']}",
        )
        for row in csv.DictReader(text.splitlines())
    }


def radiobiology_parameters(tissue: str) -> RadiobiologyParameters:
    """Return the packaged α/β and repair half-time of ``tissue``.

    Known tissues: ``kidneys`` (also ``left_kidney``/``right_kidney``),
    ``red_marrow``, ``tumour`` (also ``lesion``), ``liver``.

    Raises
    ------
    InvalidInputError
        For a tissue without packaged parameters.
    """
    table = _parameter_table()
    key = str(tissue).strip().lower().replace(" ", "_").replace("-", "_")
    key = _TISSUE_ALIASES.get(key, key)
    if key not in table:
        raise InvalidInputError(
            "tissue",
            tissue,
            "a tissue with packaged radiobiology parameters: " + ", ".join(table),
            hint="or give alpha_beta and repair_half_time explicitly",
        )
    return table[key]


@dataclass(frozen=True, slots=True)
class ExponentialDoseRate:
    """Dose-rate curve ``Ḋ(t) = Σ_i a_i e^(−b_i t)`` (``a_i`` in Gy/s, ``b_i`` in 1/s).

    Examples
    --------
    >>> rate = ExponentialDoseRate.mono_exponential(dose_gy=5.0, effective_half_life_s=50 * 3600)
    >>> round(rate.absorbed_dose_gy, 12)
    5.0
    """

    terms: tuple[tuple[float, float], ...]

    def __post_init__(self) -> None:
        if not self.terms:
            raise InvalidInputError("terms", self.terms, "at least one exponential term")
        for i, (amplitude, rate) in enumerate(self.terms):
            if not math.isfinite(amplitude):
                raise InvalidInputError(f"terms[{i}].amplitude", amplitude, "a finite dose rate")
            _positive(rate, f"terms[{i}].rate_per_s", "clearance rate in 1/s")

    @classmethod
    def mono_exponential(
        cls, *, dose_gy: float, effective_half_life_s: float
    ) -> ExponentialDoseRate:
        """Instant uptake and mono-exponential clearance delivering ``dose_gy``."""
        rate = _LN2 / _positive(effective_half_life_s, "effective_half_life_s", "half-life in s")
        return cls(((dose_gy * rate, rate),))

    @classmethod
    def from_activity_terms(
        cls, terms_bq: Iterable[tuple[float, float]], *, s_value_gy_per_bq_s: float
    ) -> ExponentialDoseRate:
        """Dose rate ``S·A(t)`` from the exponential terms ``(amplitude_bq, rate_per_s)`` of a TAC fit."""
        return cls(tuple((a * s_value_gy_per_bq_s, b) for a, b in terms_bq))

    @property
    def absorbed_dose_gy(self) -> float:
        """``D = Σ_i a_i/b_i``."""
        return float(sum(a / b for a, b in self.terms))

    def scaled(self, factor: float) -> ExponentialDoseRate:
        """Return the curve multiplied by ``factor`` (same shape)."""
        return ExponentialDoseRate(tuple((a * factor, b) for a, b in self.terms))

    def __add__(self, other: ExponentialDoseRate) -> ExponentialDoseRate:
        """Sum of two dose-rate curves (e.g. contributions of several sources)."""
        return ExponentialDoseRate(self.terms + other.terms)


def g_factor(dose_rate: ExponentialDoseRate, *, repair_half_time_s: float) -> float:
    """Lea–Catcheside factor of a sum-of-exponentials dose-rate curve.

    ``G = (2/D²) Σ_i Σ_j a_i a_j / [(b_i + b_j)(b_i + μ)]``.

    Raises
    ------
    InvalidInputError
        If the curve delivers no positive dose.

    References
    ----------
    dosimetry-reference.md §5.1 (RB-01..04).

    Examples
    --------
    RB-01: T_eff 50 h, T_rep 2.8 h → G = 0.05303.

    >>> rate = ExponentialDoseRate.mono_exponential(dose_gy=5.0, effective_half_life_s=50 * 3600)
    >>> round(g_factor(rate, repair_half_time_s=2.8 * 3600), 5)
    0.05303
    """
    mu = _LN2 / _positive(repair_half_time_s, "repair_half_time_s", "repair half-time in s")
    dose = dose_rate.absorbed_dose_gy
    if not dose > 0.0:
        raise InvalidInputError("dose_rate", dose, "a dose-rate curve with a positive total dose")
    a = np.array([t[0] for t in dose_rate.terms], dtype=np.float64)
    b = np.array([t[1] for t in dose_rate.terms], dtype=np.float64)
    pair = np.outer(a, a) / ((b[:, None] + b[None, :]) * (b[:, None] + mu))
    return float(2.0 * pair.sum() / dose**2)


def g_factor_mono_exponential(*, effective_half_life_s: float, repair_half_time_s: float) -> float:
    """``G = T_rep/(T_rep + T_eff)`` for instant uptake and mono-exponential clearance.

    Examples
    --------
    >>> round(g_factor_mono_exponential(effective_half_life_s=80 * 3600,
    ...                                 repair_half_time_s=1.5 * 3600), 6)
    0.018405
    """
    t_eff = _positive(effective_half_life_s, "effective_half_life_s", "half-life in s")
    t_rep = _positive(repair_half_time_s, "repair_half_time_s", "repair half-time in s")
    return t_rep / (t_rep + t_eff)


def g_factor_uptake_washout(
    *, uptake_half_life_s: float, washout_half_life_s: float, repair_half_time_s: float
) -> float:
    """Closed-form G for ``Ḋ ∝ e^(−λ_w t) − e^(−λ_u t)`` (Baechler et al., Med Phys 2008;35:1123).

    With ``λ_u > λ_w``, ``μ = ln2/T_rep`` and ``D ∝ 1/λ_w − 1/λ_u``::

        G = (2/D²) · [ 1/(2λ_w(λ_w+μ)) − 1/((λ_w+λ_u)(λ_w+μ))
                       − 1/((λ_u+λ_w)(λ_u+μ)) + 1/(2λ_u(λ_u+μ)) ]

    i.e. the double integral of the two-term curve written out; Baechler et
    al. give the same quantity in another arrangement (numerically identical,
    dosimetry-reference.md §5.1).

    Examples
    --------
    T_u 2 h, T_w 50 h, T_rep 2.8 h → 0.052180 (dosimetry-reference.md §5.1).

    >>> round(g_factor_uptake_washout(uptake_half_life_s=2 * 3600, washout_half_life_s=50 * 3600,
    ...                               repair_half_time_s=2.8 * 3600), 6)
    0.05218
    """
    lu = _LN2 / _positive(uptake_half_life_s, "uptake_half_life_s", "half-life in s")
    lw = _LN2 / _positive(washout_half_life_s, "washout_half_life_s", "half-life in s")
    mu = _LN2 / _positive(repair_half_time_s, "repair_half_time_s", "repair half-time in s")
    if not lu > lw:
        raise InvalidInputError(
            "uptake_half_life_s", uptake_half_life_s, "an uptake faster than the washout"
        )
    # ∫∫ for c(e^(−λw t) − e^(−λu t)) divided by c², and D/c = 1/λw − 1/λu.
    double_integral = (
        1.0 / (2.0 * lw * (lw + mu))
        - 1.0 / ((lw + lu) * (lw + mu))
        - 1.0 / ((lu + lw) * (lu + mu))
        + 1.0 / (2.0 * lu * (lu + mu))
    )
    dose = 1.0 / lw - 1.0 / lu
    return 2.0 * double_integral / dose**2


def g_factor_sampled(
    *,
    times_s: ArrayLike,
    dose_rate_gy_per_s: ArrayLike,
    repair_half_time_s: float,
    tail_rate_per_s: float | None = None,
    substeps: int = 64,
) -> float:
    """Generalised Lea–Catcheside G of a sampled dose-rate curve (numerical).

    The dose rate is linear between samples and, after the last sample,
    ``Ḋ_last·e^(−λ_tail (t − t_last))`` (no tail when ``tail_rate_per_s`` is
    None).  The repair integral ``q(t) = ∫_0^t Ḋ(w) e^(−μ(t−w)) dw`` obeys
    ``q' = Ḋ − μq`` and is propagated exactly over each linear piece;
    ``∫Ḋq dt`` is integrated with Simpson's rule on ``substeps`` sub-intervals;
    the tail integral is analytic: ``Ḋ_L q_L/(λ+μ) + Ḋ_L²/(2λ(λ+μ))``.

    Parameters
    ----------
    times_s
        Increasing sample times from administration (the first is usually 0).
    dose_rate_gy_per_s
        Non-negative dose rates at those times.
    repair_half_time_s
        Repair half-time of the tissue.
    tail_rate_per_s
        Clearance rate after the last sample (e.g. physical decay).
    substeps
        Sub-intervals per sample interval (even).

    Examples
    --------
    A densely sampled mono-exponential reproduces T_rep/(T_rep + T_eff):

    >>> import numpy as np
    >>> lam = np.log(2) / (50 * 3600)
    >>> t = np.linspace(0, 200 * 3600, 41)
    >>> g = g_factor_sampled(times_s=t, dose_rate_gy_per_s=np.exp(-lam * t),
    ...                      repair_half_time_s=2.8 * 3600, tail_rate_per_s=lam)
    >>> round(g, 4)
    0.053
    """
    t = np.asarray(times_s, dtype=np.float64)
    r = np.asarray(dose_rate_gy_per_s, dtype=np.float64)
    if t.ndim != 1 or t.shape != r.shape or t.size < 2:
        raise InvalidInputError("times_s", t.shape, "two or more times matching the dose rates")
    if not (np.all(np.isfinite(t)) and np.all(np.diff(t) > 0) and t[0] >= 0):
        raise InvalidInputError("times_s", t.tolist(), "finite, increasing, non-negative times")
    if not (np.all(np.isfinite(r)) and np.all(r >= 0)):
        raise InvalidInputError("dose_rate_gy_per_s", r.tolist(), "finite, non-negative rates")
    mu = _LN2 / _positive(repair_half_time_s, "repair_half_time_s", "repair half-time in s")
    if substeps < 2 or substeps % 2:
        raise InvalidInputError("substeps", substeps, "an even number ≥ 2")
    # Fine grid: linear interpolation of the samples (exact for the model).
    fractions = np.linspace(0.0, 1.0, substeps + 1)[:-1]
    fine_t = np.concatenate([t[:-1, None] + np.diff(t)[:, None] * fractions[None, :]]).ravel()
    fine_t = np.append(fine_t, t[-1])
    fine_r = np.interp(fine_t, t, r)
    h = np.diff(fine_t)
    slope = np.diff(fine_r) / h
    decay = np.exp(-mu * h)
    # Exact update of q over a linear piece d0 + s·w, w ∈ [0, h].
    gain = fine_r[:-1] * (1.0 - decay) / mu + slope * (h / mu - (1.0 - decay) / mu**2)
    q = np.empty_like(fine_r)
    q[0] = 0.0
    for k in range(h.size):
        q[k + 1] = q[k] * decay[k] + gain[k]
    integrand = fine_r * q
    weights = np.ones(fine_t.size)
    # Composite Simpson per sample interval (substeps even); equal spacing within an interval.
    total = 0.0
    for i in range(t.size - 1):
        lo = i * substeps
        seg = integrand[lo : lo + substeps + 1]
        w = weights[: substeps + 1].copy()
        w[1:-1:2] = 4.0
        w[2:-1:2] = 2.0
        total += float(np.dot(w, seg)) * (t[i + 1] - t[i]) / substeps / 3.0
    dose = float(np.trapezoid(r, t))
    if tail_rate_per_s is not None:
        lam = _positive(tail_rate_per_s, "tail_rate_per_s", "clearance rate in 1/s")
        total += r[-1] * q[-1] / (lam + mu) + r[-1] ** 2 / (2.0 * lam * (lam + mu))
        dose += r[-1] / lam
    if not dose > 0.0:
        raise InvalidInputError("dose_rate_gy_per_s", dose, "a curve with a positive total dose")
    return float(2.0 * total / dose**2)


def bed_gy(*, dose_gy: float, g_factor: float, alpha_beta_gy: float) -> float:
    """``BED = D·[1 + G·D/(α/β)]``.

    Examples
    --------
    RB-01: 5 Gy, G = 0.05303, α/β 2.6 Gy → 5.51 Gy.

    >>> round(bed_gy(dose_gy=5.0, g_factor=2.8 / 52.8, alpha_beta_gy=2.6), 2)
    5.51
    """
    if not (math.isfinite(dose_gy) and dose_gy >= 0.0):
        raise InvalidInputError("dose_gy", dose_gy, "a finite, non-negative absorbed dose")
    if not (math.isfinite(g_factor) and 0.0 <= g_factor <= 1.0):
        raise InvalidInputError("g_factor", g_factor, "a Lea–Catcheside factor between 0 and 1")
    ab = _positive(alpha_beta_gy, "alpha_beta_gy", "α/β in Gy")
    return dose_gy * (1.0 + g_factor * dose_gy / ab)


def dose_for_bed_gy(*, bed_gy: float, g_factor: float, alpha_beta_gy: float) -> float:
    """Absorbed dose whose BED equals ``bed_gy`` (inverse of :func:`bed_gy`).

    Solves ``G D² /(α/β) + D − BED = 0`` for the positive root.

    Examples
    --------
    >>> round(dose_for_bed_gy(bed_gy=5.509935, g_factor=2.8 / 52.8, alpha_beta_gy=2.6), 4)
    5.0
    """
    if not (math.isfinite(bed_gy) and bed_gy >= 0.0):
        raise InvalidInputError("bed_gy", bed_gy, "a finite, non-negative BED")
    ab = _positive(alpha_beta_gy, "alpha_beta_gy", "α/β in Gy")
    if g_factor <= 0.0:
        return bed_gy
    k = g_factor / ab
    # Numerically stable positive root of k D² + D − BED = 0.
    return 2.0 * bed_gy / (1.0 + math.sqrt(1.0 + 4.0 * k * bed_gy))


def eqd2_gy(*, bed_gy: float, alpha_beta_gy: float) -> float:
    """``EQD2 = BED/(1 + 2/(α/β))``.

    Examples
    --------
    >>> round(eqd2_gy(bed_gy=5.5099, alpha_beta_gy=2.6), 2)
    3.11
    """
    ab = _positive(alpha_beta_gy, "alpha_beta_gy", "α/β in Gy")
    return bed_gy / (1.0 + 2.0 / ab)


@dataclass(frozen=True, slots=True)
class BedResult:
    """BED of one irradiation (one cycle) of one tissue."""

    tissue: str
    dose_gy: float
    g_factor: float
    alpha_beta_gy: float
    repair_half_time_s: float
    bed_gy: float
    eqd2_gy: float
    method: str

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-serialisable dictionary."""
        return {
            "tissue": self.tissue,
            "absorbed_dose_gy": self.dose_gy,
            "g_factor": self.g_factor,
            "alpha_beta_gy": self.alpha_beta_gy,
            "repair_half_time_s": self.repair_half_time_s,
            "bed_gy": self.bed_gy,
            "eqd2_gy": self.eqd2_gy,
            "method": self.method,
        }


def bed_for_dose_rate(
    dose_rate: ExponentialDoseRate,
    parameters: RadiobiologyParameters,
    *,
    dose_gy: float | None = None,
) -> BedResult:
    """BED of a sum-of-exponentials dose-rate curve.

    Parameters
    ----------
    dose_rate
        Shape (and, unless ``dose_gy`` is given, magnitude) of the dose rate.
    parameters
        α/β and repair half-time of the tissue.
    dose_gy
        Total absorbed dose, if it differs from the integral of ``dose_rate``
        (the curve then only gives the time course, G being scale-free).

    Examples
    --------
    RB-01 (kidneys, 5 Gy, T_eff 50 h): BED 5.51 Gy, EQD2 3.11 Gy.

    >>> rate = ExponentialDoseRate.mono_exponential(dose_gy=5.0, effective_half_life_s=50 * 3600)
    >>> res = bed_for_dose_rate(rate, radiobiology_parameters("kidneys"))
    >>> round(res.bed_gy, 2), round(res.eqd2_gy, 2)
    (5.51, 3.11)
    """
    g = g_factor(dose_rate, repair_half_time_s=parameters.repair_half_time_s)
    dose = dose_rate.absorbed_dose_gy if dose_gy is None else dose_gy
    bed = bed_gy(dose_gy=dose, g_factor=g, alpha_beta_gy=parameters.alpha_beta_gy)
    return BedResult(
        tissue=parameters.tissue,
        dose_gy=dose,
        g_factor=g,
        alpha_beta_gy=parameters.alpha_beta_gy,
        repair_half_time_s=parameters.repair_half_time_s,
        bed_gy=bed,
        eqd2_gy=eqd2_gy(bed_gy=bed, alpha_beta_gy=parameters.alpha_beta_gy),
        method="linear-quadratic BED, generalised Lea–Catcheside G of a sum of exponentials",
    )


def total_bed_gy(results: Sequence[BedResult]) -> float:
    """Sum of BEDs over cycles (full repair between cycles, no repopulation; §5.1)."""
    return float(sum(r.bed_gy for r in results))
