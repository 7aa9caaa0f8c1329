"""Meta-analysis: inverse-variance fixed and random effects, and pooled single proportions.

* :func:`combine_effects` — fixed-effect and random-effects pooling of any effect
  sizes (log RR, log HR, transformed proportions) with Cochran's Q, I², H² and τ² by
  DerSimonian–Laird (Controlled Clin Trials 1986;7:177) or Paule–Mandel, via
  ``statsmodels.stats.meta_analysis.combine_effects``.  statsmodels 0.15 does not
  truncate the DerSimonian–Laird τ² at zero; it is truncated here as in metafor and
  in the original paper.  Hartung–Knapp–Sidik–Jonkman intervals are an option; the
  prediction interval is μ ± z·√(τ² + SE²) (metafor's default).
* :func:`pool_proportions` — single proportions (ORR, DCR) pooled on the logit,
  Freeman–Tukey double-arcsine (metafor ``"PFT"``: half the sum of the two arcsines,
  variance 1/(4n + 2); Freeman & Tukey 1950) or arcsine scale, then back-transformed.
  The Freeman–Tukey back-transformation needs a sample size; the harmonic mean of
  the study sizes is used (Miller, Am Stat 1978;32:138) and a
  :class:`BackTransformWarning` is always emitted, because that back-transformation
  can be badly wrong when study sizes differ (Schwarzer G et al., Res Synth Methods
  2019;10:476; doi:10.1002/jrsm.1348).  The logit scale is the default.
* :func:`read_studies_csv` — the study table (``study``, ``n``, ``events`` or
  ``proportion``) with errors that name the row and column.
"""

from __future__ import annotations

import csv
import io
import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
from scipy import stats
from statsmodels.stats.meta_analysis import (  # type: ignore[import-untyped]
    combine_effects as _sm_combine_effects,
)

from prrt._typing import ArrayLike, FloatArray
from prrt.errors import InvalidInputError, NonConformingInputWarning, PrrtWarning
from prrt.outcomes.rates import RateEstimate, clopper_pearson

__all__ = [
    "BackTransformWarning",
    "MetaAnalysisResult",
    "PooledEstimate",
    "ProportionMetaResult",
    "ProportionTransform",
    "StudyProportion",
    "TauMethod",
    "combine_effects",
    "freeman_tukey",
    "inverse_freeman_tukey",
    "pool_proportions",
    "read_studies_csv",
]


class BackTransformWarning(PrrtWarning):
    """A pooled value was back-transformed by an approximation known to mislead."""


class TauMethod(str, Enum):
    """Estimator of the between-study variance τ²."""

    DERSIMONIAN_LAIRD = "dersimonian-laird"
    PAULE_MANDEL = "paule-mandel"


class ProportionTransform(str, Enum):
    """Scale on which single proportions are pooled."""

    LOGIT = "logit"
    FREEMAN_TUKEY = "freeman-tukey"
    ARCSINE = "arcsine"


@dataclass(frozen=True, slots=True)
class PooledEstimate:
    """A pooled estimate on the analysis scale."""

    estimate: float
    se: float
    lower: float
    upper: float

    def to_dict(self) -> dict[str, float]:
        """JSON-serialisable dictionary."""
        return {"estimate": self.estimate, "se": self.se, "lower": self.lower, "upper": self.upper}


@dataclass(frozen=True, slots=True)
class MetaAnalysisResult:
    """Fixed- and random-effects pooling with heterogeneity statistics."""

    labels: tuple[str, ...]
    effects: tuple[float, ...]
    variances: tuple[float, ...]
    fixed: PooledEstimate
    random: PooledEstimate
    tau2: float
    q: float
    df: int
    q_p_value: float
    i2_percent: float
    h2: float
    prediction_lower: float
    prediction_upper: float
    weights_fixed_percent: tuple[float, ...]
    weights_random_percent: tuple[float, ...]
    tau_method: TauMethod
    hartung_knapp: bool
    confidence_level: float

    @property
    def k(self) -> int:
        """Number of studies."""
        return len(self.effects)

    @property
    def tau(self) -> float:
        """Between-study standard deviation."""
        return math.sqrt(self.tau2)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary (analysis scale)."""
        return {
            "k": self.k,
            "studies": [
                {
                    "label": lab,
                    "effect": y,
                    "variance": v,
                    "weight_fixed_percent": wf,
                    "weight_random_percent": wr,
                }
                for lab, y, v, wf, wr in zip(
                    self.labels,
                    self.effects,
                    self.variances,
                    self.weights_fixed_percent,
                    self.weights_random_percent,
                    strict=True,
                )
            ],
            "fixed": self.fixed.to_dict(),
            "random": self.random.to_dict(),
            "prediction_interval": [self.prediction_lower, self.prediction_upper],
            "heterogeneity": {
                "tau2": self.tau2,
                "tau": self.tau,
                "q": self.q,
                "df": self.df,
                "q_p_value": self.q_p_value,
                "i2_percent": self.i2_percent,
                "h2": self.h2,
            },
            "tau_method": self.tau_method.value,
            "hartung_knapp": self.hartung_knapp,
            "confidence_level": self.confidence_level,
        }


def combine_effects(
    effects: ArrayLike,
    variances: ArrayLike,
    *,
    labels: Sequence[str] | None = None,
    tau_method: TauMethod = TauMethod.DERSIMONIAN_LAIRD,
    hartung_knapp: bool = False,
    confidence_level: float = 0.95,
) -> MetaAnalysisResult:
    """Pool effect sizes by inverse variance (fixed effect and random effects).

    Raises
    ------
    InvalidInputError
        Fewer than two studies, non-finite effects, variances that are not positive.

    References
    ----------
    DerSimonian R, Laird N. Control Clin Trials 1986;7:177-88. doi:10.1016/0197-2456(86)90046-2.
    Higgins JPT, Thompson SG. Stat Med 2002;21:1539-58 (I², H²).

    Examples
    --------
    >>> res = combine_effects([0.1, 0.3, -0.2], [0.01, 0.02, 0.03])
    >>> round(res.q, 6), round(res.tau2, 6), round(res.i2_percent, 6)
    (5.0, 0.0275, 60.0)
    """
    y = np.asarray(effects, dtype=np.float64).ravel()
    v = np.asarray(variances, dtype=np.float64).ravel()
    if y.size < 2:
        raise InvalidInputError("effects", y.size, "at least two studies to pool")
    if v.shape != y.shape:
        raise InvalidInputError("variances", v.size, f"{y.size} variances, one per effect")
    for name, arr in (("effects", y), ("variances", v)):
        bad = np.flatnonzero(~np.isfinite(arr) | ((arr <= 0) if name == "variances" else False))
        if bad.size:
            raise InvalidInputError(
                f"{name}[{int(bad[0])}]",
                float(arr[bad[0]]),
                "a finite value" + (" > 0" if name == "variances" else ""),
            )
    if not 0.0 < confidence_level < 1.0:
        raise InvalidInputError("confidence_level", confidence_level, "a level between 0 and 1")
    names = tuple(labels) if labels is not None else tuple(f"study {i + 1}" for i in range(y.size))
    if len(names) != y.size:
        raise InvalidInputError("labels", len(names), f"{y.size} labels, one per study")
    alpha = 1.0 - confidence_level
    method = "dl" if tau_method is TauMethod.DERSIMONIAN_LAIRD else "iterated"
    # An untruncated negative DL tau² makes statsmodels take square roots of negative
    # variances; those random-effects values are replaced below (tau² truncated at 0).
    with np.errstate(invalid="ignore", divide="ignore"):
        res = _sm_combine_effects(y, v, method_re=method, alpha=alpha)
    z = float(stats.norm.isf(alpha / 2.0))
    df = y.size - 1
    q = float(res.q)
    w_fe = 1.0 / v
    fixed_se = float(res.sd_eff_w_fe)
    fixed_mu = float(res.mean_effect_fe)
    if float(res.tau2) > 0.0:
        tau2 = float(res.tau2)
        random_mu, random_se = float(res.mean_effect_re), float(res.sd_eff_w_re)
        w_re = 1.0 / (v + tau2)
        var_hksj = float(res.var_hksj_re)
    else:  # DL estimate truncated at 0: the random-effects model is the fixed-effect model
        tau2 = 0.0
        random_mu, random_se = fixed_mu, fixed_se
        w_re = w_fe
        var_hksj = float(res.var_hksj_fe)
    if hartung_knapp:
        crit = float(stats.t.isf(alpha / 2.0, df))
        rse = math.sqrt(var_hksj)
        random = PooledEstimate(random_mu, rse, random_mu - crit * rse, random_mu + crit * rse)
    else:
        random = PooledEstimate(
            random_mu, random_se, random_mu - z * random_se, random_mu + z * random_se
        )
    pi_half = z * math.sqrt(tau2 + random.se**2)
    i2 = max(0.0, (q - df) / q) * 100.0 if q > 0 else 0.0
    return MetaAnalysisResult(
        labels=names,
        effects=tuple(float(x) for x in y),
        variances=tuple(float(x) for x in v),
        fixed=PooledEstimate(fixed_mu, fixed_se, fixed_mu - z * fixed_se, fixed_mu + z * fixed_se),
        random=random,
        tau2=tau2,
        q=q,
        df=df,
        q_p_value=float(stats.chi2.sf(q, df)),
        i2_percent=i2,
        h2=q / df if df > 0 else float("nan"),
        prediction_lower=random_mu - pi_half,
        prediction_upper=random_mu + pi_half,
        weights_fixed_percent=tuple(float(x) for x in 100.0 * w_fe / w_fe.sum()),
        weights_random_percent=tuple(float(x) for x in 100.0 * w_re / w_re.sum()),
        tau_method=tau_method,
        hartung_knapp=hartung_knapp,
        confidence_level=confidence_level,
    )


# --- single proportions -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StudyProportion:
    """Events (responders) out of ``n`` patients in one study."""

    label: str
    events: int
    n: int

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 1:
            raise InvalidInputError(f"{self.label}.n", self.n, "a whole number of patients >= 1")
        if isinstance(self.events, bool) or not isinstance(self.events, int):
            raise InvalidInputError(f"{self.label}.events", self.events, "a whole number")
        if not 0 <= self.events <= self.n:
            raise InvalidInputError(
                f"{self.label}.events", self.events, f"a count between 0 and n = {self.n}"
            )

    @property
    def proportion(self) -> float:
        """events / n."""
        return self.events / self.n


def freeman_tukey(events: ArrayLike, n: ArrayLike) -> tuple[FloatArray, FloatArray]:
    """Freeman–Tukey double arcsine on metafor's ``"PFT"`` scale (half the sum) and its variance.

    t = ½[asin √(x/(n+1)) + asin √((x+1)/(n+1))], var = 1/(4n + 2).

    Examples
    --------
    >>> t, v = freeman_tukey([3], [11])
    >>> round(2 * float(t[0]), 4), round(4 * float(v[0]), 4)
    (1.1391, 0.087)
    """
    x = np.asarray(events, dtype=np.float64)
    m = np.asarray(n, dtype=np.float64)
    t = 0.5 * (np.arcsin(np.sqrt(x / (m + 1.0))) + np.arcsin(np.sqrt((x + 1.0) / (m + 1.0))))
    return t, 1.0 / (4.0 * m + 2.0)


def inverse_freeman_tukey(t: ArrayLike, n: ArrayLike) -> FloatArray:
    """Miller's (1978) inverse of the ``"PFT"`` transform for sample size ``n``.

    p = ½{1 − sgn(cos 2t) √(1 − [sin 2t + (sin 2t − 1/sin 2t)/n]²)}; values beyond the
    transforms of 0/n and n/n map to 0 and 1 (as metafor's ``transf.ipft``).

    Examples
    --------
    >>> t, _ = freeman_tukey([0, 4, 9, 16, 20], [10, 10, 15, 20, 20])
    >>> [round(float(p), 6) for p in inverse_freeman_tukey(t, [10, 10, 15, 20, 20])]
    [0.0, 0.4, 0.6, 0.8, 1.0]
    """
    tt = np.asarray(t, dtype=np.float64)
    m = np.broadcast_to(np.asarray(n, dtype=np.float64), tt.shape)
    s = np.sin(2.0 * tt)
    with np.errstate(divide="ignore", invalid="ignore"):
        inner = 1.0 - (s + (s - 1.0 / s) / m) ** 2
        p = 0.5 * (1.0 - np.sign(np.cos(2.0 * tt)) * np.sqrt(inner))
    t0, _ = freeman_tukey(np.zeros_like(m), m)
    t1, _ = freeman_tukey(m, m)
    p = np.where(np.isnan(p), np.where(tt < np.pi / 4.0, 0.0, 1.0), p)
    p = np.where(tt > t1, 1.0, p)
    p = np.where(tt < t0, 0.0, p)
    return np.asarray(np.clip(p, 0.0, 1.0), dtype=np.float64)


def _transform(
    x: FloatArray, n: FloatArray, transform: ProportionTransform
) -> tuple[FloatArray, FloatArray]:
    if transform is ProportionTransform.LOGIT:
        # 0.5 added to both cells of studies with 0 or n events only (metafor's to="only0")
        add = np.where((x == 0) | (x == n), 0.5, 0.0)
        a, b = x + add, n - x + add
        return np.log(a / b), 1.0 / a + 1.0 / b
    if transform is ProportionTransform.FREEMAN_TUKEY:
        return freeman_tukey(x, n)
    return np.arcsin(np.sqrt(x / n)), 1.0 / (4.0 * n)


def _back(values: FloatArray, transform: ProportionTransform, n_hm: float) -> FloatArray:
    if transform is ProportionTransform.LOGIT:
        return np.asarray(1.0 / (1.0 + np.exp(-values)), dtype=np.float64)
    if transform is ProportionTransform.FREEMAN_TUKEY:
        return inverse_freeman_tukey(values, n_hm)
    return np.asarray(np.sin(np.clip(values, 0.0, np.pi / 2.0)) ** 2, dtype=np.float64)


@dataclass(frozen=True, slots=True)
class ProportionMetaResult:
    """Pooled single proportion: per-study exact intervals, pooled values on the 0-1 scale."""

    studies: tuple[StudyProportion, ...]
    study_rates: tuple[RateEstimate, ...]
    transform: ProportionTransform
    analysis: MetaAnalysisResult
    fixed: tuple[float, float, float]
    random: tuple[float, float, float]
    prediction: tuple[float, float]
    back_transform: str
    harmonic_mean_n: float | None
    notes: tuple[str, ...]

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable dictionary (proportions as fractions 0-1)."""
        return {
            "transform": self.transform.value,
            "back_transform": self.back_transform,
            "harmonic_mean_n": self.harmonic_mean_n,
            "studies": [
                {
                    "label": s.label,
                    "events": s.events,
                    "n": s.n,
                    "proportion": r.rate,
                    "ci_exact": [r.lower, r.upper],
                    "weight_fixed_percent": wf,
                    "weight_random_percent": wr,
                }
                for s, r, wf, wr in zip(
                    self.studies,
                    self.study_rates,
                    self.analysis.weights_fixed_percent,
                    self.analysis.weights_random_percent,
                    strict=True,
                )
            ],
            "fixed": dict(zip(("proportion", "lower", "upper"), self.fixed, strict=True)),
            "random": dict(zip(("proportion", "lower", "upper"), self.random, strict=True)),
            "prediction_interval": list(self.prediction),
            "analysis_scale": self.analysis.to_dict(),
            "notes": list(self.notes),
        }


def pool_proportions(
    studies: Sequence[StudyProportion],
    *,
    transform: ProportionTransform = ProportionTransform.LOGIT,
    tau_method: TauMethod = TauMethod.DERSIMONIAN_LAIRD,
    hartung_knapp: bool = False,
    confidence_level: float = 0.95,
) -> ProportionMetaResult:
    """Pool single proportions (e.g. ORR of single-arm PRRT series) and back-transform.

    Report the random-effects estimate with its prediction interval; choosing fixed or
    random effects by a heterogeneity test (as seed reference [9] did) is not offered.

    Warns
    -----
    BackTransformWarning
        Always for the Freeman–Tukey scale (harmonic-mean back-transformation).

    Examples
    --------
    >>> s = [StudyProportion("A", 5, 20), StudyProportion("B", 10, 40)]
    >>> round(pool_proportions(s).random[0], 6)
    0.25
    """
    items = tuple(studies)
    if len(items) < 2:
        raise InvalidInputError("studies", len(items), "at least two studies to pool")
    x = np.array([s.events for s in items], dtype=np.float64)
    n = np.array([s.n for s in items], dtype=np.float64)
    y, v = _transform(x, n, transform)
    res = combine_effects(
        y,
        v,
        labels=[s.label for s in items],
        tau_method=tau_method,
        hartung_knapp=hartung_knapp,
        confidence_level=confidence_level,
    )
    n_hm = float(len(n) / np.sum(1.0 / n))
    notes: list[str] = []
    back = {
        ProportionTransform.LOGIT: "inverse logit",
        ProportionTransform.ARCSINE: "sin²",
        ProportionTransform.FREEMAN_TUKEY: f"Miller (1978) inverse with harmonic-mean n = {n_hm:.4g}",
    }[transform]
    if transform is ProportionTransform.FREEMAN_TUKEY:
        message = (
            f"Freeman-Tukey pooled proportion back-transformed with the harmonic mean of the "
            f"study sizes (n = {n_hm:.4g}; Miller 1978); this back-transformation can be "
            f"misleading when study sizes differ (here {int(n.min())}-{int(n.max())}; Schwarzer "
            "et al., Res Synth Methods 2019;10:476). Prefer the logit scale."
        )
        notes.append(message)
        warnings.warn(message, BackTransformWarning, stacklevel=2)

    def bt(*vals: float) -> tuple[float, ...]:
        return tuple(float(p) for p in _back(np.array(vals, dtype=np.float64), transform, n_hm))

    fixed = bt(res.fixed.estimate, res.fixed.lower, res.fixed.upper)
    random = bt(res.random.estimate, res.random.lower, res.random.upper)
    prediction = bt(res.prediction_lower, res.prediction_upper)
    return ProportionMetaResult(
        studies=items,
        study_rates=tuple(
            clopper_pearson(s.events, s.n, confidence_level=confidence_level) for s in items
        ),
        transform=transform,
        analysis=res,
        fixed=(fixed[0], fixed[1], fixed[2]),
        random=(random[0], random[1], random[2]),
        prediction=(prediction[0], prediction[1]),
        back_transform=back,
        harmonic_mean_n=n_hm if transform is ProportionTransform.FREEMAN_TUKEY else None,
        notes=tuple(notes),
    )


def _cell_int(text: str, row: int, column: str, source: str) -> int:
    try:
        value = float(text)
    except ValueError:
        raise InvalidInputError(
            f"row {row}, column {column}", text, "a whole number", hint=f"in {source}"
        ) from None
    if not math.isfinite(value) or value != int(value):
        raise InvalidInputError(
            f"row {row}, column {column}", text, "a whole number", hint=f"in {source}"
        )
    return int(value)


def read_studies_csv(text: str, *, source: str = "studies.csv") -> tuple[StudyProportion, ...]:
    """Read a study table: ``study``, ``n`` and either ``events`` or ``proportion`` (0-1).

    Raises
    ------
    InvalidInputError
        A missing column, a proportion outside 0-1 (a percentage?), events above n, a
        size below 1 — the field names the data row and the column.

    Examples
    --------
    >>> read_studies_csv("study,events,n\\nA,3,11\\nB,6,17\\n")[1]
    StudyProportion(label='B', events=6, n=17)
    """
    lines = [ln for ln in text.splitlines() if not ln.lstrip().startswith("#")]
    rows = [r for r in csv.reader(io.StringIO("\n".join(lines))) if any(c.strip() for c in r)]
    if not rows:
        raise InvalidInputError(source, "an empty file", "a CSV table with a header row")
    header = [h.strip() for h in rows[0]]
    for required in ("study", "n"):
        if required not in header:
            raise InvalidInputError("columns", header, f"a {required!r} column")
    if ("events" in header) == ("proportion" in header):
        raise InvalidInputError(
            "columns", header, "exactly one of 'events' (count) or 'proportion' (0-1)"
        )
    kind = "events" if "events" in header else "proportion"
    out = []
    for i, raw in enumerate(rows[1:], start=1):
        if len(raw) != len(header):
            raise InvalidInputError(f"row {i}", f"{len(raw)} cells", f"{len(header)} cells")
        rec = {h: c.strip() for h, c in zip(header, raw, strict=True)}
        label = rec["study"] or f"study {i}"
        n = _cell_int(rec["n"], i, "n", source)
        if n < 1:
            raise InvalidInputError(f"row {i}, column n", rec["n"], "a study size >= 1")
        if kind == "events":
            events = _cell_int(rec["events"], i, "events", source)
            if not 0 <= events <= n:
                raise InvalidInputError(
                    f"row {i}, column events", rec["events"], f"a count between 0 and n = {n}"
                )
        else:
            try:
                p = float(rec["proportion"])
            except ValueError:
                raise InvalidInputError(
                    f"row {i}, column proportion", rec["proportion"], "a proportion between 0 and 1"
                ) from None
            if not math.isfinite(p) or not 0.0 <= p <= 1.0:
                hint = "a percentage? divide by 100" if math.isfinite(p) and 1 < p <= 100 else None
                raise InvalidInputError(
                    f"row {i}, column proportion",
                    rec["proportion"],
                    "a proportion between 0 and 1",
                    hint=hint,
                )
            events = round(p * n)
            if abs(p * n - events) > 1e-6:
                warnings.warn(
                    f"{source} row {i}: proportion {p:g} of n = {n} is {p * n:.3g} patients; "
                    f"rounded to {events}",
                    NonConformingInputWarning,
                    stacklevel=2,
                )
        out.append(StudyProportion(label, events, n))
    if not out:
        raise InvalidInputError(source, "a header without data rows", "at least one study")
    return tuple(out)
