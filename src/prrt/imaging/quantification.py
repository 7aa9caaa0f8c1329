"""Quantitative SPECT: counts to activity, decay correction, recovery, CT HU to density.

* Counts → activity with a camera (system) sensitivity in cps/MBq and the
  acquisition duration, corrected for physical decay during the acquisition so
  that the activity refers to the acquisition start (MIRD Pamphlet 26 /
  EANM-SNMMI guideline for quantitative 177Lu SPECT, Ljungberg et al., J Nucl Med
  2016;57:151, doi:10.2967/jnumed.115.159012).
* Recovery coefficients for small volumes (partial-volume effect): a measured
  curve (:class:`RecoveryCurve`) or the analytic coefficient of a uniform sphere
  blurred by a Gaussian point-spread function (:func:`sphere_recovery_coefficient`).
* CT number → mass density with a piecewise-linear calibration table
  (:class:`HuDensityCalibration`), the approach of Schneider et al., Phys Med Biol
  2000;45:459 (doi:10.1088/0031-9155/45/2/314).  No scanner table is built in:
  the calibration of the CT used must be supplied.
"""

from __future__ import annotations

import itertools
import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import numpy.typing as npt
from scipy import integrate, stats

from prrt._typing import FloatArray
from prrt.errors import ExtrapolationWarning, InvalidInputError
from prrt.imaging.volume import Volume, VoxelQuantity
from prrt.provenance import Step

__all__ = [
    "HuDensityCalibration",
    "RecoveryCurve",
    "activity_to_concentration",
    "concentration_to_activity",
    "counts_to_activity",
    "decay_correct_volume",
    "decay_during_acquisition_factor",
    "hu_to_density",
    "sphere_recovery_coefficient",
]

_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
_BQ_PER_MBQ = 1e6
_ACTIVITY_QUANTITIES = (
    VoxelQuantity.ACTIVITY_BQ,
    VoxelQuantity.ACTIVITY_CONCENTRATION_BQ_PER_ML,
    VoxelQuantity.COUNTS,
    VoxelQuantity.DOSE_RATE_GY_PER_S,
)


def _positive(name: str, value: float, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(name, value, f"a finite positive number in {unit}")
    if value <= 0:
        raise InvalidInputError(name, value, f"a positive number in {unit}")
    return float(value)


def decay_during_acquisition_factor(*, acquisition_duration_s: float, half_life_s: float) -> float:
    """Mean activity over an acquisition divided by the activity at its start.

    ``(1 - exp(-λT)) / (λT)`` for a frame of duration ``T``; divide measured
    count rates by it to refer the activity to the acquisition start.

    Examples
    --------
    >>> f = decay_during_acquisition_factor(acquisition_duration_s=3600.0, half_life_s=3600.0)
    >>> round(f, 6)  # (1 - 1/2) / ln 2
    0.721348
    """
    duration = _positive("acquisition_duration_s", acquisition_duration_s, "s")
    half_life = _positive("half_life_s", half_life_s, "s")
    x = math.log(2.0) * duration / half_life
    return -math.expm1(-x) / x


def counts_to_activity(
    counts: Volume,
    *,
    sensitivity_cps_per_mbq: float,
    acquisition_duration_s: float,
    half_life_s: float | None = None,
) -> Volume:
    """Convert reconstructed counts per voxel to activity per voxel (Bq).

    ``A = C / (S · T · f)`` with ``S`` the system sensitivity (cps/Bq),
    ``T`` the acquisition duration and ``f`` the decay-during-acquisition factor
    (1 when ``half_life_s`` is omitted).  The result refers to the acquisition
    start (the volume's ``acquisition_time``).

    Parameters
    ----------
    counts
        Volume of quantity ``counts``.
    sensitivity_cps_per_mbq
        Calibrated system sensitivity for the reconstruction protocol (cps/MBq).
    acquisition_duration_s
        Total acquisition duration (s).
    half_life_s
        Physical half-life of the nuclide (s), to correct for decay during the
        acquisition; omit only for frames much shorter than the half-life.

    Raises
    ------
    InvalidInputError
        Wrong quantity, or non-positive sensitivity or duration.

    Examples
    --------
    >>> import numpy as np
    >>> c = Volume.from_spacing(np.full((2, 2, 2), 1200.0), spacing_mm=(4, 4, 4), quantity="counts")
    >>> a = counts_to_activity(c, sensitivity_cps_per_mbq=10.0, acquisition_duration_s=1200.0)
    >>> float(a.array[0, 0, 0])  # 1200 counts / (1e-5 cps/Bq * 1200 s)
    100000.0
    """
    if counts.quantity is not VoxelQuantity.COUNTS:
        raise InvalidInputError("counts", counts.quantity.value, "a volume of quantity 'counts'")
    sensitivity = _positive("sensitivity_cps_per_mbq", sensitivity_cps_per_mbq, "cps/MBq")
    duration = _positive("acquisition_duration_s", acquisition_duration_s, "s")
    factor = 1.0
    if half_life_s is not None:
        factor = decay_during_acquisition_factor(
            acquisition_duration_s=duration, half_life_s=half_life_s
        )
    bq_per_count = _BQ_PER_MBQ / (sensitivity * duration * factor)
    step = Step(
        name="counts_to_activity",
        method="A = C / (S T f), f = (1 - exp(-λT))/(λT) (MIRD Pamphlet 26)",
        parameters={
            "sensitivity_cps_per_mbq": sensitivity,
            "acquisition_duration_s": duration,
            "half_life_s": half_life_s,
            "decay_during_acquisition_factor": factor,
        },
    )
    return counts.with_array(
        counts.array.astype(np.float64) * bq_per_count,
        quantity=VoxelQuantity.ACTIVITY_BQ,
        step=step,
    )


def decay_correct_volume(volume: Volume, *, half_life_s: float, to_time: datetime) -> Volume:
    """Refer activity (or counts, or dose rate) values to another time by physical decay.

    Multiplies by ``exp(-λ (to_time - acquisition_time))`` (values at a later
    time are smaller) and sets ``acquisition_time`` to ``to_time``.

    Raises
    ------
    InvalidInputError
        The volume has no acquisition time, is not an activity-like quantity, or
        ``to_time`` is naive.

    Examples
    --------
    >>> import numpy as np
    >>> from datetime import UTC, datetime, timedelta
    >>> t0 = datetime(2025, 1, 1, tzinfo=UTC)
    >>> a = Volume.from_spacing(np.full((1, 1, 1), 8.0), spacing_mm=(1, 1, 1),
    ...                         quantity="activity_bq", acquisition_time=t0)
    >>> float(decay_correct_volume(a, half_life_s=3600.0, to_time=t0 + timedelta(hours=3)).array[0, 0, 0])
    1.0
    """
    if volume.quantity not in _ACTIVITY_QUANTITIES:
        raise InvalidInputError(
            "volume", volume.quantity.value, "activity, activity concentration, counts or dose rate"
        )
    if volume.acquisition_time is None:
        raise InvalidInputError(
            "volume.acquisition_time",
            None,
            "the time the values refer to",
            hint="read it from the DICOM header or supply acquisition_time",
        )
    if not isinstance(to_time, datetime) or to_time.tzinfo is None:
        raise InvalidInputError("to_time", to_time, "a time-zone aware datetime")
    half_life = _positive("half_life_s", half_life_s, "s")
    elapsed_s = (to_time - volume.acquisition_time).total_seconds()
    factor = 2.0 ** (-elapsed_s / half_life)
    step = Step(
        name="decay_correct_volume",
        method="A(t) = A(t0) exp(-λ (t - t0))",
        parameters={"half_life_s": half_life, "elapsed_s": elapsed_s, "factor": factor},
    )
    return volume.with_array(volume.array * factor, step=step, acquisition_time=to_time)


def activity_to_concentration(activity: Volume) -> Volume:
    """Activity per voxel (Bq) → activity concentration (Bq/mL)."""
    if activity.quantity is not VoxelQuantity.ACTIVITY_BQ:
        raise InvalidInputError("activity", activity.quantity.value, "quantity 'activity_bq'")
    return activity.with_array(
        activity.array / activity.voxel_volume_ml,
        quantity=VoxelQuantity.ACTIVITY_CONCENTRATION_BQ_PER_ML,
        step=Step(name="activity_to_concentration", method="C = A / V_voxel"),
    )


def concentration_to_activity(concentration: Volume) -> Volume:
    """Activity concentration (Bq/mL) → activity per voxel (Bq)."""
    if concentration.quantity is not VoxelQuantity.ACTIVITY_CONCENTRATION_BQ_PER_ML:
        raise InvalidInputError(
            "concentration",
            concentration.quantity.value,
            "quantity 'activity_concentration_bq_per_ml'",
        )
    return concentration.with_array(
        concentration.array * concentration.voxel_volume_ml,
        quantity=VoxelQuantity.ACTIVITY_BQ,
        step=Step(name="concentration_to_activity", method="A = C * V_voxel"),
    )


# -- recovery (partial volume) ----------------------------------------------------------------
def sphere_recovery_coefficient(*, volume_ml: float, fwhm_mm: float) -> float:
    """Fraction of a uniform sphere's activity imaged inside the sphere after Gaussian blur.

    For a source point at radius ``r`` the probability that an isotropic Gaussian
    displacement (σ = FWHM / 2√(2 ln 2)) keeps it inside the sphere of radius
    ``R`` is the non-central χ² (3 degrees of freedom, non-centrality (r/σ)²)
    CDF at (R/σ)²; the coefficient averages it over the sphere:
    ``RC = 3/R³ ∫₀ᴿ r² P(r) dr``.

    Parameters
    ----------
    volume_ml
        Sphere volume (mL).
    fwhm_mm
        Full width at half maximum of the system resolution (mm).

    Returns
    -------
    float
        Recovery coefficient in (0, 1].

    Examples
    --------
    >>> round(sphere_recovery_coefficient(volume_ml=1000.0, fwhm_mm=10.0), 3)
    0.918
    >>> round(sphere_recovery_coefficient(volume_ml=1.0, fwhm_mm=10.0), 3)
    0.307
    """
    volume = _positive("volume_ml", volume_ml, "mL")
    fwhm = _positive("fwhm_mm", fwhm_mm, "mm")
    radius_mm = (3.0 * volume * 1000.0 / (4.0 * math.pi)) ** (1.0 / 3.0)
    sigma_mm = fwhm / _FWHM_PER_SIGMA
    limit = (radius_mm / sigma_mm) ** 2

    def integrand(u: float) -> float:
        # u = r/R; weight 3u² is the radial density of a uniform sphere.
        nc = (u * radius_mm / sigma_mm) ** 2
        return 3.0 * u * u * float(stats.ncx2.cdf(limit, 3, nc)) if nc > 0 else 0.0

    value, _ = integrate.quad(integrand, 0.0, 1.0, limit=200)
    return float(value)


@dataclass(frozen=True)
class RecoveryCurve:
    """Measured recovery coefficients against object volume (e.g. NEMA IEC spheres).

    Interpolated linearly in log(volume).  Below the smallest measured volume the
    curve is not extrapolated (error); above the largest it is held constant with
    an :class:`~prrt.errors.ExtrapolationWarning`.

    Parameters
    ----------
    volumes_ml
        Object volumes (mL), strictly increasing.
    coefficients
        Recovery coefficient at each volume (imaged / true activity), in (0, 1.5].
    source
        Where the curve comes from (phantom, protocol, date).

    Examples
    --------
    >>> curve = RecoveryCurve(volumes_ml=(1.0, 10.0, 100.0), coefficients=(0.3, 0.6, 0.9),
    ...                       source="example")
    >>> round(curve.coefficient(volume_ml=10.0 ** 0.5), 6)
    0.45
    >>> round(curve.correct(activity_bq=45.0, volume_ml=10.0 ** 0.5), 6)
    100.0
    """

    volumes_ml: tuple[float, ...]
    coefficients: tuple[float, ...]
    source: str

    def __post_init__(self) -> None:
        volumes = tuple(float(v) for v in self.volumes_ml)
        coefs = tuple(float(c) for c in self.coefficients)
        if len(volumes) < 2 or len(volumes) != len(coefs):
            raise InvalidInputError(
                "volumes_ml", list(self.volumes_ml), "two or more volumes, one per coefficient"
            )
        if any(not math.isfinite(v) or v <= 0 for v in volumes) or any(
            b <= a for a, b in itertools.pairwise(volumes)
        ):
            raise InvalidInputError(
                "volumes_ml", list(volumes), "positive, strictly increasing volumes"
            )
        if any(not math.isfinite(c) or not 0.0 < c <= 1.5 for c in coefs):
            raise InvalidInputError(
                "coefficients", list(coefs), "recovery coefficients in (0, 1.5]"
            )
        if not self.source:
            raise InvalidInputError("source", self.source, "where the curve was measured")
        object.__setattr__(self, "volumes_ml", volumes)
        object.__setattr__(self, "coefficients", coefs)

    def coefficient(self, *, volume_ml: float) -> float:
        """Recovery coefficient for an object of ``volume_ml``."""
        volume = _positive("volume_ml", volume_ml, "mL")
        if volume < self.volumes_ml[0]:
            raise InvalidInputError(
                "volume_ml",
                volume,
                f"at least the smallest calibrated volume {self.volumes_ml[0]} mL",
                hint="recovery below the calibrated range is not extrapolated",
            )
        if volume > self.volumes_ml[-1]:
            warnings.warn(
                ExtrapolationWarning(
                    f"volume_ml {volume} above the largest calibrated volume "
                    f"{self.volumes_ml[-1]} mL; using its coefficient {self.coefficients[-1]}"
                ),
                stacklevel=2,
            )
            return self.coefficients[-1]
        return float(np.interp(math.log(volume), np.log(self.volumes_ml), self.coefficients))

    def correct(self, *, activity_bq: float, volume_ml: float) -> float:
        """Recovery-corrected activity: measured activity / RC(volume)."""
        if not math.isfinite(activity_bq) or activity_bq < 0:
            raise InvalidInputError("activity_bq", activity_bq, "a non-negative activity in Bq")
        return float(activity_bq) / self.coefficient(volume_ml=volume_ml)


#: Plausible mass densities of patient tissue and implants seen on CT (g/mL): above 0
#: (air 0.0012) and at most 3.5 (cortical bone ~1.9, titanium 4.5 is beyond a tissue table).
_MAX_DENSITY_G_PER_ML = 3.5
#: Water (0 HU by definition of the Hounsfield scale) must map to about 1 g/mL.
_WATER_DENSITY_RANGE_G_PER_ML = (0.9, 1.1)
_TABLE_EXPECTED = {
    "hu": "a list of two or more finite, strictly increasing CT numbers (HU)",
    "density_g_per_ml": "a list of densities in g/mL, one per CT number",
    "source": "a non-empty string naming the scanner/protocol of the table",
}


def _number_list(values: object, name: str) -> tuple[float, ...]:
    if isinstance(values, np.ndarray):
        values = values.tolist()
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Sequence):
        raise InvalidInputError(name, values, "a list of numbers")
    out: list[float] = []
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
            raise InvalidInputError(f"{name}[{index}]", value, "a number")
        number = float(value)
        if not math.isfinite(number):
            raise InvalidInputError(f"{name}[{index}]", value, "a finite number")
        out.append(number)
    return tuple(out)


def _validated_table(
    hu_values: object, rho_values: object, source: object, *, field: str
) -> tuple[tuple[float, ...], tuple[float, ...]]:
    """Check a HU → density table as written; ``field`` prefixes the key names."""
    hu_name, rho_name = f"{field}hu", f"{field}density_g_per_ml"
    hu = _number_list(hu_values, hu_name)
    rho = _number_list(rho_values, rho_name)
    if len(hu) < 2:
        raise InvalidInputError(hu_name, hu_values, _TABLE_EXPECTED["hu"])
    if len(hu) != len(rho):
        raise InvalidInputError(
            rho_name, rho_values, f"{len(hu)} densities in g/mL, one per CT number"
        )
    if any(b <= a for a, b in itertools.pairwise(hu)):
        raise InvalidInputError(hu_name, hu_values, "strictly increasing CT numbers (HU)")
    for index, r in enumerate(rho):
        if not 0.0 < r <= _MAX_DENSITY_G_PER_ML:
            raise InvalidInputError(
                f"{rho_name}[{index}]",
                rho_values[index],  # type: ignore[index]
                f"a plausible density in g/mL (0 < density <= {_MAX_DENSITY_G_PER_ML})",
            )
    if any(b <= a for a, b in itertools.pairwise(rho)):
        raise InvalidInputError(
            rho_name, rho_values, "strictly increasing densities in g/mL (one per CT number)"
        )
    if hu[0] <= 0.0 <= hu[-1]:
        water = float(np.interp(0.0, hu, rho))
        low, high = _WATER_DENSITY_RANGE_G_PER_ML
        if not low <= water <= high:
            raise InvalidInputError(
                rho_name,
                rho_values,
                f"a plausible table: water (0 HU) at {low}-{high} g/mL, got {water:.4g} g/mL",
                hint="densities in g/mL (not kg/m^3 or relative to another material)?",
            )
    if not isinstance(source, str) or not source.strip():
        raise InvalidInputError(f"{field}source", source, _TABLE_EXPECTED["source"])
    return hu, rho


# -- CT number to density ---------------------------------------------------------------------
@dataclass(frozen=True)
class HuDensityCalibration:
    """Piecewise-linear CT number → mass density calibration (Schneider et al. 2000 approach).

    Values outside the table are held at the end densities (no extrapolation).

    Parameters
    ----------
    hu
        CT numbers (HU), strictly increasing.
    density_g_per_ml
        Mass density at each CT number (g/mL), positive and strictly increasing
        (so the table can also be inverted).
    source
        Scanner, protocol and how the table was measured.

    Examples
    --------
    >>> cal = HuDensityCalibration(hu=(-1000.0, 0.0, 1000.0),
    ...                            density_g_per_ml=(0.001, 1.0, 1.6), source="example")
    >>> cal.density_g_per_ml_at([-500.0, 500.0]).round(4).tolist()
    [0.5005, 1.3]
    >>> cal.hu_at([1.3]).round(6).tolist()
    [500.0]
    """

    hu: tuple[float, ...]
    density_g_per_ml: tuple[float, ...]
    source: str

    def __post_init__(self) -> None:
        hu, rho = _validated_table(self.hu, self.density_g_per_ml, self.source, field="")
        object.__setattr__(self, "hu", hu)
        object.__setattr__(self, "density_g_per_ml", rho)

    @classmethod
    def from_mapping(cls, data: object, *, field: str) -> HuDensityCalibration:
        """Build a table from its JSON form ``{hu, density_g_per_ml, source}``.

        Every value is checked as written (types, lengths, order, plausibility)
        and an error names ``field`` plus the key (e.g. ``--hu-density.hu``).

        Raises
        ------
        InvalidInputError
            Not an object, a key missing or of the wrong type, fewer than two
            points, unequal lengths, CT numbers not strictly increasing,
            implausible densities (outside (0, 3.5] g/mL, water (0 HU) outside
            0.9-1.1 g/mL), empty source.

        Examples
        --------
        >>> HuDensityCalibration.from_mapping(
        ...     {"hu": [-1000, 0, 1000], "density_g_per_ml": [0.001, 1.0, 1.6], "source": "x"},
        ...     field="table").density_g_per_ml_at([0.0]).tolist()
        [1.0]
        """
        if not isinstance(data, dict):
            raise InvalidInputError(
                field, data, "a JSON object {hu: [...], density_g_per_ml: [...], source: '...'}"
            )
        for key in ("hu", "density_g_per_ml", "source"):
            if key not in data:
                raise InvalidInputError(f"{field}.{key}", None, _TABLE_EXPECTED[key])
        hu, rho = _validated_table(
            data["hu"], data["density_g_per_ml"], data["source"], field=f"{field}."
        )
        return cls(hu=hu, density_g_per_ml=rho, source=data["source"])

    def density_g_per_ml_at(self, hu: npt.ArrayLike) -> FloatArray:
        """Density (g/mL) at the given CT numbers."""
        out: FloatArray = np.interp(
            np.asarray(hu, dtype=np.float64), self.hu, self.density_g_per_ml
        )
        return out

    def hu_at(self, density_g_per_ml: npt.ArrayLike) -> FloatArray:
        """CT numbers (HU) that map to the given densities (inverse of the table)."""
        out: FloatArray = np.interp(
            np.asarray(density_g_per_ml, dtype=np.float64), self.density_g_per_ml, self.hu
        )
        return out

    def to_dict(self) -> dict[str, object]:
        """JSON-serialisable form (for provenance)."""
        return {
            "hu": list(self.hu),
            "density_g_per_ml": list(self.density_g_per_ml),
            "source": self.source,
        }


def hu_to_density(ct: Volume, *, calibration: HuDensityCalibration) -> Volume:
    """Convert a CT volume in HU to mass density (g/mL) with ``calibration``.

    Raises
    ------
    InvalidInputError
        ``ct`` is not in HU.
    """
    if ct.quantity is not VoxelQuantity.HU:
        raise InvalidInputError("ct", ct.quantity.value, "a volume of quantity 'hu'")
    step = Step(
        name="hu_to_density",
        method="piecewise-linear HU to density table (Schneider et al. 2000)",
        parameters=calibration.to_dict(),
    )
    return ct.with_array(
        calibration.density_g_per_ml_at(ct.array),
        quantity=VoxelQuantity.DENSITY_G_PER_ML,
        step=step,
    )
