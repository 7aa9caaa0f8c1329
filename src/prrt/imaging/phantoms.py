"""Synthetic patients with known truth: analytic anatomy, bi-exponential kinetics, SPECT-like maps.

:func:`make_synthetic_patient` builds an abdomen-like analytic body (elliptic
cylinder) with kidneys, liver, spleen, a lumbar-spine marrow region and two
spherical tumours, assigns each region a sum-of-exponentials whole-region
time-activity curve ``A(t) = Σ a_i exp(-λ_i t)`` (MIRD Pamphlet 21 notation;
dosimetry-reference §4.1), spreads it uniformly over the region's voxels and
samples it at chosen times.  Optionally the maps are blurred by a Gaussian of
the camera resolution (FWHM) and Poisson noise is drawn on the expected counts
(activity × sensitivity × duration × decay-during-acquisition factor) before
converting back to Bq with :func:`prrt.imaging.quantification.counts_to_activity`'s
formula, from an injected, seeded random generator.

The truth that comes with it: the time-integrated activity of every region,
``Ã = Σ a_i / λ_i`` (exact; dosimetry-reference §4.1), the true TIA map, the
true (noise- and blur-free) activity maps and the region masses
``m = Σ ρ V_voxel`` from the voxelised masks and densities.

The numbers are chosen to be realistic for [177Lu]Lu-DOTA-TATE, not measured:
kidneys ~150 g each with an effective half-life of ~50 h and a few per cent of
the injected activity (kidney absorbed dose of the order of 0.4–0.7 Gy/GBq, as
in dosimetry-reference §7), tumours with net uptake over the first hours.
Densities of 1.04–1.06 g/mL for soft-tissue organs follow dosimetry-reference
§2 ("Organ mass from CT").  The HU ↔ density table is the phantom's own
(:data:`PHANTOM_HU_DENSITY_CALIBRATION`), not a scanner's.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt
from scipy import ndimage

from prrt._typing import BoolArray, FloatArray
from prrt.errors import InvalidInputError
from prrt.imaging.quantification import HuDensityCalibration, decay_during_acquisition_factor
from prrt.imaging.volume import Volume, VoxelQuantity
from prrt.physics import get_nuclide
from prrt.provenance import History, Step
from prrt.units import SECONDS_PER_HOUR

__all__ = [
    "PHANTOM_HU_DENSITY_CALIBRATION",
    "REGION_NAMES",
    "SyntheticPatient",
    "make_synthetic_patient",
    "tia_of_exponentials",
]

#: The phantom's own CT calibration (illustrative: air, water and a soft-tissue/bone
#: line; not a scanner table).
PHANTOM_HU_DENSITY_CALIBRATION = HuDensityCalibration(
    hu=(-1000.0, 0.0, 100.0, 1500.0),
    density_g_per_ml=(0.00121, 1.0, 1.1, 1.9),
    source="prrt synthetic phantom (illustrative, not a scanner calibration)",
)

_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
_DEFAULT_INJECTION_TIME = datetime(2025, 1, 6, 9, 0, tzinfo=UTC)
_DEFAULT_SEED = 20250106
_AIR_HU = -1000.0
#: Body outline: elliptic cylinder along z, semi-axes (mm) along x (L) and y (P).
_BODY_SEMI_AXES_MM = (130.0, 95.0)


@dataclass(frozen=True)
class _Shape:
    """Ellipsoid (or, with ``infinite_z``, an elliptic cylinder along z) in LPS mm."""

    centre_mm: tuple[float, float, float]
    semi_axes_mm: tuple[float, float, float]
    infinite_z: bool = False

    def inside(self, x: FloatArray, y: FloatArray, z: FloatArray) -> BoolArray:
        cx, cy, cz = self.centre_mm
        ax, ay, az = self.semi_axes_mm
        r2 = ((x - cx) / ax) ** 2 + ((y - cy) / ay) ** 2
        if not self.infinite_z:
            r2 = r2 + ((z - cz) / az) ** 2
        mask: BoolArray = r2 <= 1.0
        return mask

    def extent_mm(self) -> tuple[tuple[float, float], ...]:
        return tuple(
            (c - a, c + a) for c, a in zip(self.centre_mm, self.semi_axes_mm, strict=True)
        )[: 2 if self.infinite_z else 3]


@dataclass(frozen=True)
class _Region:
    """A region: shapes (union), CT number, kinetics as fractions of the injected activity.

    ``terms`` holds ``(fraction_of_injected, biological_half_life_h)`` per exponential;
    the effective rate is ``λ_phys + ln2 / T_bio`` (so a term can never clear slower
    than physical decay; a biological half-life of ``inf`` means physical decay only).
    """

    name: str
    shapes: tuple[_Shape, ...]
    hu: float
    terms: tuple[tuple[float, float], ...]


# Order = priority where shapes overlap (earlier wins).  Effective half-lives quoted
# for Lu-177 (T_phys = 159.5 h): kidneys 3.0 h / 50 h, liver 4 h / 70 h, spleen 3 h / 65 h,
# marrow 2 h / 45 h, tumours uptake 2 h and clearance 90 h / 80 h, remainder 1.5 h / 40 h.
_REGIONS: tuple[_Region, ...] = (
    _Region(
        "tumour_1",
        (_Shape((-70.0, -10.0, 50.0), (15.0, 15.0, 15.0)),),
        40.0,
        ((-0.008, 2.03), (0.012, 206.3)),
    ),
    _Region(
        "tumour_2",
        (_Shape((15.0, -25.0, -30.0), (10.0, 10.0, 10.0)),),
        40.0,
        ((-0.003, 2.03), (0.005, 160.5)),
    ),
    _Region(
        "kidneys",
        (
            _Shape((-55.0, 50.0, -25.0), (28.0, 22.0, 55.0)),
            _Shape((55.0, 50.0, -20.0), (28.0, 22.0, 55.0)),
        ),
        50.0,
        ((0.02, 3.06), (0.024, 72.8)),
    ),
    _Region(
        "spleen",
        (_Shape((80.0, 30.0, 75.0), (32.0, 25.0, 42.0)),),
        60.0,
        ((0.005, 3.06), (0.012, 109.8)),
    ),
    _Region(
        "liver",
        (_Shape((-55.0, -5.0, 45.0), (70.0, 60.0, 65.0)),),
        60.0,
        ((0.03, 4.1), (0.045, 124.7)),
    ),
    _Region(
        "marrow",
        (_Shape((0.0, 55.0, 0.0), (18.0, 18.0, 1.0), infinite_z=True),),
        240.0,
        ((0.01, 2.03), (0.002, 62.7)),
    ),
    _Region(
        "remainder",
        (_Shape((0.0, 0.0, 0.0), (*_BODY_SEMI_AXES_MM, 1.0), infinite_z=True),),
        20.0,
        ((0.5, 1.51), (0.08, 53.4)),
    ),
)

#: Names of the regions (keys of the masks, truth and kinetics dictionaries).
REGION_NAMES: tuple[str, ...] = tuple(r.name for r in _REGIONS)


def tia_of_exponentials(terms: Sequence[tuple[float, float]]) -> float:
    """Time-integrated activity from 0 to ∞ of ``Σ a_i exp(-λ_i t)``: ``Σ a_i / λ_i`` (Bq·s).

    Examples
    --------
    >>> tia_of_exponentials([(100.0, 0.01), (50.0, 0.1)])
    10500.0
    """
    total = 0.0
    for amplitude_bq, rate_per_s in terms:
        if not rate_per_s > 0:
            raise InvalidInputError("rate_per_s", rate_per_s, "a positive clearance rate (1/s)")
        total += amplitude_bq / rate_per_s
    return total


@dataclass(frozen=True, eq=False)
class SyntheticPatient:
    """A synthetic SPECT/CT study with its ground truth.

    Attributes
    ----------
    ct_hu
        CT in HU (integers stored as float).
    density_g_per_ml
        True mass density (g/mL) = the phantom calibration applied to ``ct_hu``.
    masks
        One mask per region (disjoint; ``remainder`` is the rest of the body).
    times_s
        Imaging times after injection (s).
    activity_maps_bq
        Activity per voxel (Bq) at each time, blurred and noisy if requested.
    true_activity_maps_bq
        Noise- and blur-free activity per voxel at each time.
    true_tia_map_bq_s
        True time-integrated activity per voxel (Bq·s), ``Ã_region / N_voxels``.
    truth_tia_bq_s
        True time-integrated activity of each region (Bq·s).
    region_masses_kg
        Mass of each region, ``Σ ρ V_voxel`` over its mask (kg).
    region_kinetics
        ``((amplitude_bq, rate_per_s), ...)`` per region (whole-region activity).
    counts_maps
        Counts per voxel at each time (Poisson draws, or expected counts without noise).
    """

    ct_hu: Volume
    density_g_per_ml: Volume
    masks: dict[str, Volume]
    times_s: FloatArray
    activity_maps_bq: tuple[Volume, ...]
    true_activity_maps_bq: tuple[Volume, ...]
    true_tia_map_bq_s: Volume
    truth_tia_bq_s: dict[str, float]
    region_masses_kg: dict[str, float]
    region_kinetics: dict[str, tuple[tuple[float, float], ...]]
    nuclide: str
    injected_activity_bq: float
    injection_time: datetime
    counts_maps: tuple[Volume, ...]
    camera_sensitivity_cps_per_mbq: float
    acquisition_duration_s: float
    fwhm_mm: float | None
    hu_density_calibration: HuDensityCalibration

    def true_activity_bq(self, region: str, time_s: float) -> float:
        """Whole-region true activity at ``time_s`` after injection (Bq)."""
        terms = self.region_kinetics[region]
        return float(sum(a * math.exp(-k * time_s) for a, k in terms))

    @property
    def acquisition_times(self) -> tuple[datetime, ...]:
        """Acquisition start times (time-zone aware)."""
        return tuple(self.injection_time + timedelta(seconds=float(t)) for t in self.times_s)


def _check_positive(name: str, value: float, unit: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidInputError(name, value, f"a finite positive number in {unit}")
    if value <= 0:
        raise InvalidInputError(name, value, f"a positive number in {unit}")
    return float(value)


def _grid(
    shape: Sequence[int], spacing_mm: Sequence[float]
) -> tuple[tuple[int, int, int], tuple[float, float, float], tuple[float, float, float]]:
    if len(shape) != 3 or any(
        isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 8 for n in shape
    ):
        raise InvalidInputError("shape", tuple(shape), "three integers >= 8")
    if len(spacing_mm) != 3:
        raise InvalidInputError("spacing_mm", tuple(spacing_mm), "three positive spacings in mm")
    spacing = tuple(_check_positive("spacing_mm", float(s), "mm") for s in spacing_mm)
    dims = (int(shape[0]), int(shape[1]), int(shape[2]))
    origin = tuple(-(n - 1) / 2.0 * s for n, s in zip(dims, spacing, strict=True))
    return dims, (spacing[0], spacing[1], spacing[2]), (origin[0], origin[1], origin[2])


def _check_field_of_view(dims: tuple[int, int, int], spacing: tuple[float, float, float]) -> None:
    half_fov = [n * s / 2.0 for n, s in zip(dims, spacing, strict=True)]
    needed = [0.0, 0.0, 0.0]
    for region in _REGIONS:
        for shape in region.shapes:
            for axis, (lo, hi) in enumerate(shape.extent_mm()):
                needed[axis] = max(needed[axis], abs(lo), abs(hi))
    short = [axis for axis in range(3) if half_fov[axis] < needed[axis]]
    if short:
        fov = tuple(round(2 * h, 1) for h in half_fov)
        need = tuple(round(2 * n, 1) for n in needed)
        raise InvalidInputError(
            "shape",
            f"a field of view of {fov} mm",
            f"at least {need} mm so that every region fits",
            hint="increase shape or spacing_mm",
        )


def _label_map(
    dims: tuple[int, int, int],
    spacing: tuple[float, float, float],
    origin: tuple[float, float, float],
) -> npt.NDArray[np.int8]:
    x = (origin[0] + spacing[0] * np.arange(dims[0]))[:, None, None]
    y = (origin[1] + spacing[1] * np.arange(dims[1]))[None, :, None]
    z = (origin[2] + spacing[2] * np.arange(dims[2]))[None, None, :]
    xb, yb, zb = np.broadcast_arrays(x, y, z)
    labels = np.full(dims, -1, dtype=np.int8)
    body = _Shape((0.0, 0.0, 0.0), (*_BODY_SEMI_AXES_MM, 1.0), infinite_z=True).inside(xb, yb, zb)
    # Fill in reverse priority so that earlier regions overwrite later ones.
    for index in range(len(_REGIONS) - 1, -1, -1):
        inside = np.zeros(dims, dtype=bool)
        for shape in _REGIONS[index].shapes:
            inside |= shape.inside(xb, yb, zb)
        labels[inside & body] = index
    return labels


def make_synthetic_patient(
    *,
    shape: Sequence[int] = (64, 64, 64),
    spacing_mm: Sequence[float] = (4.42, 4.42, 4.42),
    times_h: Sequence[float] = (4.0, 24.0, 96.0, 168.0),
    nuclide: str = "Lu-177",
    injected_activity_bq: float = 7.4e9,
    fwhm_mm: float | None = 10.0,
    poisson_noise: bool = True,
    camera_sensitivity_cps_per_mbq: float = 10.0,
    acquisition_duration_s: float = 1200.0,
    injection_time: datetime | None = None,
    rng: np.random.Generator | None = None,
) -> SyntheticPatient:
    """Build a synthetic SPECT/CT patient with known TIA and masses.

    Parameters
    ----------
    shape
        Voxels along x (L), y (P), z (S); the grid is centred on the origin.
    spacing_mm
        Voxel spacing (mm).  The default 4.42 mm matches a published Lu-177
        voxel-S-value table (dosimetry-reference §3.2).
    times_h
        Imaging times after injection (h), strictly increasing.
    nuclide
        Radionuclide (physical decay sets the slowest possible clearance).
    injected_activity_bq
        Administered activity (Bq); region amplitudes are fractions of it.
    fwhm_mm
        Camera/reconstruction resolution (FWHM, mm) of the Gaussian blur; ``None``
        for no blur.
    poisson_noise
        Draw Poisson noise on the expected counts.
    camera_sensitivity_cps_per_mbq
        System sensitivity used to form counts (cps/MBq; 10 cps/MBq is an
        illustrative value of the order of a dual-head camera at 208 keV).
    acquisition_duration_s
        Acquisition duration (s) used to form counts.
    injection_time
        Time-zone aware injection time (a fixed date when omitted).
    rng
        Random generator for the noise (seed 20250106 when omitted, so that
        results are reproducible).

    Returns
    -------
    SyntheticPatient

    Raises
    ------
    InvalidInputError
        Field of view too small for the anatomy, non-positive spacing, activity,
        sensitivity or duration, unordered times, or an unknown nuclide.

    Examples
    --------
    >>> p = make_synthetic_patient(fwhm_mm=None, poisson_noise=False)
    >>> round(p.region_masses_kg["kidneys"], 3)  # two ~150 g kidneys
    0.299
    >>> round(p.truth_tia_bq_s["kidneys"] / 7.4e9 / 3600.0, 2)  # TIA / A0 in hours
    1.82
    """
    dims, spacing, origin = _grid(shape, spacing_mm)
    _check_field_of_view(dims, spacing)
    injected = _check_positive("injected_activity_bq", injected_activity_bq, "Bq")
    sensitivity = _check_positive(
        "camera_sensitivity_cps_per_mbq", camera_sensitivity_cps_per_mbq, "cps/MBq"
    )
    duration = _check_positive("acquisition_duration_s", acquisition_duration_s, "s")
    if fwhm_mm is not None:
        fwhm_mm = _check_positive("fwhm_mm", fwhm_mm, "mm")
    times = np.asarray([float(t) for t in times_h], dtype=np.float64) * SECONDS_PER_HOUR
    if times.size == 0 or not np.all(np.isfinite(times)) or np.any(times <= 0):
        raise InvalidInputError("times_h", tuple(times_h), "one or more positive times in h")
    if np.any(np.diff(times) <= 0):
        raise InvalidInputError("times_h", tuple(times_h), "strictly increasing times")
    t_inj = _DEFAULT_INJECTION_TIME if injection_time is None else injection_time
    if not isinstance(t_inj, datetime) or t_inj.tzinfo is None:
        raise InvalidInputError("injection_time", injection_time, "a time-zone aware datetime")
    generator = rng if rng is not None else np.random.default_rng(_DEFAULT_SEED)
    nuc = get_nuclide(nuclide)
    lambda_phys = nuc.decay_constant_per_s

    labels = _label_map(dims, spacing, origin)

    def volume(array: npt.ArrayLike, quantity: VoxelQuantity, t: datetime | None = None) -> Volume:
        return Volume.from_spacing(
            array, spacing_mm=spacing, origin_mm=origin, quantity=quantity, acquisition_time=t
        )

    # CT and density: per-region integer HU, density from the phantom calibration.
    hu_lut = np.array([r.hu for r in _REGIONS] + [_AIR_HU], dtype=np.float64)
    ct = hu_lut[labels]  # label -1 (outside the body) indexes the air entry
    calibration = PHANTOM_HU_DENSITY_CALIBRATION
    density = calibration.density_g_per_ml_at(ct)
    voxel_ml = spacing[0] * spacing[1] * spacing[2] * 1e-3

    masks: dict[str, Volume] = {}
    counts_per_region: list[int] = []
    masses: dict[str, float] = {}
    kinetics: dict[str, tuple[tuple[float, float], ...]] = {}
    truth: dict[str, float] = {}
    for index, region in enumerate(_REGIONS):
        inside = labels == index
        n = int(inside.sum())
        if n == 0:
            raise InvalidInputError(
                "spacing_mm", spacing, f"a grid on which region {region.name!r} has voxels"
            )
        counts_per_region.append(n)
        masks[region.name] = volume(inside, VoxelQuantity.MASK)
        masses[region.name] = float(density[inside].sum()) * voxel_ml * 1e-3
        terms = tuple(
            (fraction * injected, lambda_phys + math.log(2.0) / (t_bio_h * SECONDS_PER_HOUR))
            for fraction, t_bio_h in region.terms
        )
        kinetics[region.name] = terms
        truth[region.name] = tia_of_exponentials(terms)

    n_voxels = np.array([*counts_per_region, 1], dtype=np.float64)

    def per_voxel_map(values: Sequence[float]) -> FloatArray:
        lut = np.array([*values, 0.0], dtype=np.float64) / n_voxels
        out: FloatArray = lut[labels]
        return out

    true_tia = per_voxel_map([truth[r.name] for r in _REGIONS])
    factor = decay_during_acquisition_factor(
        acquisition_duration_s=duration, half_life_s=nuc.half_life_s
    )
    counts_per_bq = sensitivity * 1e-6 * duration * factor
    sigma_vox = None if fwhm_mm is None else [fwhm_mm / _FWHM_PER_SIGMA / s for s in spacing]

    true_maps: list[Volume] = []
    noisy_maps: list[Volume] = []
    count_maps: list[Volume] = []
    history = History()
    for t_s in times:
        when = t_inj + timedelta(seconds=float(t_s))
        activities = [
            float(sum(a * math.exp(-k * t_s) for a, k in kinetics[r.name])) for r in _REGIONS
        ]
        true_map = per_voxel_map(activities)
        imaged = true_map
        if sigma_vox is not None:
            imaged = ndimage.gaussian_filter(
                true_map, sigma=sigma_vox, mode="constant", truncate=4.0
            )
            imaged = np.clip(imaged, 0.0, None)
        expected_counts = imaged * counts_per_bq
        counts = (
            generator.poisson(expected_counts).astype(np.float64)
            if poisson_noise
            else expected_counts
        )
        step = Step(
            name="synthetic_spect",
            method="uniform regions, Gaussian blur, Poisson noise on counts",
            parameters={
                "time_after_injection_s": float(t_s),
                "fwhm_mm": fwhm_mm,
                "poisson_noise": poisson_noise,
                "camera_sensitivity_cps_per_mbq": sensitivity,
                "acquisition_duration_s": duration,
                "decay_during_acquisition_factor": factor,
            },
        )
        true_maps.append(volume(true_map, VoxelQuantity.ACTIVITY_BQ, when))
        count_maps.append(
            Volume.from_spacing(
                counts,
                spacing_mm=spacing,
                origin_mm=origin,
                quantity=VoxelQuantity.COUNTS,
                acquisition_time=when,
                history=history.append(step),
            )
        )
        noisy_maps.append(
            Volume.from_spacing(
                counts / counts_per_bq,
                spacing_mm=spacing,
                origin_mm=origin,
                quantity=VoxelQuantity.ACTIVITY_BQ,
                acquisition_time=when,
                history=history.append(step),
            )
        )

    return SyntheticPatient(
        ct_hu=volume(ct, VoxelQuantity.HU),
        density_g_per_ml=volume(density, VoxelQuantity.DENSITY_G_PER_ML),
        masks=masks,
        times_s=times,
        activity_maps_bq=tuple(noisy_maps),
        true_activity_maps_bq=tuple(true_maps),
        true_tia_map_bq_s=volume(true_tia, VoxelQuantity.TIA_BQ_S),
        truth_tia_bq_s=truth,
        region_masses_kg=masses,
        region_kinetics=kinetics,
        nuclide=nuc.name,
        injected_activity_bq=injected,
        injection_time=t_inj,
        counts_maps=tuple(count_maps),
        camera_sensitivity_cps_per_mbq=sensitivity,
        acquisition_duration_s=duration,
        fwhm_mm=fwhm_mm,
        hu_density_calibration=calibration,
    )
