"""Rigid registration of SPECT/CT time points to a reference (SimpleITK).

Every time point of a multi-time-point study is registered to one reference
time point with a rigid (Euler 3-D) transform, multi-resolution gradient descent
and a correlation (default) or Mattes mutual-information metric, then resampled
onto the reference grid.  The transform is kept as a 4×4 matrix in patient LPS
(mm) and recorded in the registered volume's provenance, so that the
resampling can be replayed exactly with :func:`prrt.imaging.resample_to`.

The transform maps a point of the reference (fixed) image to the corresponding
point of the moving image, the convention of ITK (Yoo et al., Stud Health Technol
Inform 2002;85:586; Lowekamp et al., Front Neuroinform 2013;7:45,
doi:10.3389/fninf.2013.00045).  SimpleITK is imported lazily.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

import numpy as np
import numpy.typing as npt

from prrt._typing import FloatArray
from prrt.errors import FitError, InvalidInputError
from prrt.imaging.volume import Volume, VoxelQuantity, resample_to
from prrt.provenance import Step

__all__ = [
    "RegistrationMetric",
    "RegistrationResult",
    "RigidTransform",
    "register_rigid",
    "register_time_points",
    "to_simpleitk",
]


class RegistrationMetric(str, Enum):
    """Similarity metric: correlation (same modality, any global scale) or mutual information."""

    CORRELATION = "correlation"
    MATTES_MUTUAL_INFORMATION = "mattes_mutual_information"
    MEAN_SQUARES = "mean_squares"


@dataclass(frozen=True, eq=False)
class RigidTransform:
    """A 4×4 matrix mapping reference (fixed) LPS points to moving LPS points (mm).

    Examples
    --------
    >>> t = RigidTransform.from_translation((1.0, -2.0, 3.0))
    >>> t.translation_mm, t.rotation_deg
    ((1.0, -2.0, 3.0), 0.0)
    >>> t.apply((0.0, 0.0, 0.0)).tolist()
    [1.0, -2.0, 3.0]
    """

    matrix: FloatArray

    def __post_init__(self) -> None:
        m = np.array(self.matrix, dtype=np.float64)
        if m.shape != (4, 4) or not np.all(np.isfinite(m)):
            raise InvalidInputError("matrix", self.matrix, "a finite 4x4 matrix")
        if not np.allclose(m[3], (0, 0, 0, 1)) or not np.allclose(
            m[:3, :3].T @ m[:3, :3], np.eye(3), atol=1e-6
        ):
            raise InvalidInputError(
                "matrix", m.tolist(), "a rigid transform (rotation + translation)"
            )
        m.flags.writeable = False
        object.__setattr__(self, "matrix", m)

    @classmethod
    def from_translation(cls, translation_mm: Sequence[float]) -> RigidTransform:
        """A pure translation (mm)."""
        m = np.eye(4)
        m[:3, 3] = np.asarray(translation_mm, dtype=np.float64)
        return cls(m)

    @property
    def translation_mm(self) -> tuple[float, float, float]:
        """Translation part (mm)."""
        t = self.matrix[:3, 3]
        return (float(t[0]), float(t[1]), float(t[2]))

    @property
    def rotation_deg(self) -> float:
        """Rotation angle about the rotation axis (degrees)."""
        cos = (float(np.trace(self.matrix[:3, :3])) - 1.0) / 2.0
        return float(np.degrees(np.arccos(np.clip(cos, -1.0, 1.0))))

    def apply(self, points_mm: npt.ArrayLike) -> FloatArray:
        """Map reference-space points ``(..., 3)`` to moving-space points (mm)."""
        p = np.asarray(points_mm, dtype=np.float64)
        out: FloatArray = p @ self.matrix[:3, :3].T + self.matrix[:3, 3]
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable form."""
        return {
            "matrix_lps_mm": self.matrix.tolist(),
            "maps": "reference (fixed) LPS point -> moving LPS point",
        }


@dataclass(frozen=True, eq=False)
class RegistrationResult:
    """The moving volume on the reference grid, the transform and the final metric."""

    registered: Volume
    transform: RigidTransform
    metric_value: float
    metric: RegistrationMetric


def _simpleitk() -> Any:
    """Import SimpleITK lazily (its stubs leave most calls untyped, hence ``Any``)."""
    return importlib.import_module("SimpleITK")


def to_simpleitk(volume: Volume) -> Any:
    """Convert a volume to a SimpleITK image (float32 values; LPS physical space, as ITK)."""
    sitk = _simpleitk()

    if not volume.is_orthogonal:
        raise InvalidInputError(
            "volume", volume.describe_geometry(), "orthogonal voxel axes (ITK has no shear)"
        )
    # ITK index (x, y, z) = our (i, j, k); GetImageFromArray expects [k, j, i].
    image = sitk.GetImageFromArray(np.transpose(volume.array.astype(np.float32), (2, 1, 0)))
    image.SetSpacing(volume.spacing_mm)
    image.SetOrigin(volume.origin_mm)
    image.SetDirection(tuple(float(v) for v in volume.direction.flatten()))
    return image


def _matrix_of(transform: Any) -> FloatArray:
    """4×4 matrix of a (composite) ITK transform from the images of the origin and unit vectors."""
    origin = np.asarray(transform.TransformPoint((0.0, 0.0, 0.0)), dtype=np.float64)
    m = np.eye(4)
    for axis in range(3):
        unit = [0.0, 0.0, 0.0]
        unit[axis] = 1.0
        m[:3, axis] = np.asarray(transform.TransformPoint(tuple(unit))) - origin
    m[:3, 3] = origin
    return m


def register_rigid(
    moving: Volume,
    reference: Volume,
    *,
    metric: RegistrationMetric | str = RegistrationMetric.CORRELATION,
    max_iterations: int = 200,
    shrink_factors: Sequence[int] = (4, 2, 1),
    smoothing_sigmas_mm: Sequence[float] = (8.0, 4.0, 0.0),
) -> RegistrationResult:
    """Register ``moving`` to ``reference`` with a rigid transform and resample it.

    Parameters
    ----------
    moving
        Volume to align (e.g. a later SPECT or CT time point).
    reference
        Fixed volume whose grid and position are kept.
    metric
        Similarity metric (:class:`RegistrationMetric`).
    max_iterations
        Iterations of the gradient-descent optimiser per resolution level.
    shrink_factors, smoothing_sigmas_mm
        Multi-resolution pyramid (one entry per level, coarse to fine).

    Returns
    -------
    RegistrationResult
        ``registered`` is on the reference grid with the moving volume's quantity
        and acquisition time; its history ends with a ``register_rigid`` step holding
        the transform.

    Raises
    ------
    InvalidInputError
        Mask/label volumes (register the images, then move masks with
        :func:`resample_to` and the transform), bad settings.
    FitError
        The optimiser failed.
    """
    sitk = _simpleitk()
    try:
        chosen = RegistrationMetric(metric)
    except ValueError as err:
        allowed = ", ".join(m.value for m in RegistrationMetric)
        raise InvalidInputError("metric", metric, f"one of {allowed}") from err
    for name, vol in (("moving", moving), ("reference", reference)):
        if vol.quantity in (VoxelQuantity.MASK, VoxelQuantity.LABEL):
            raise InvalidInputError(name, vol.quantity.value, "an image (not a mask or label map)")
    if len(shrink_factors) != len(smoothing_sigmas_mm) or not shrink_factors:
        raise InvalidInputError(
            "shrink_factors", list(shrink_factors), "one smoothing sigma per shrink factor"
        )
    if max_iterations < 1:
        raise InvalidInputError("max_iterations", max_iterations, "a positive number of iterations")

    fixed_image = to_simpleitk(reference)
    moving_image = to_simpleitk(moving)
    method = sitk.ImageRegistrationMethod()
    if chosen is RegistrationMetric.CORRELATION:
        method.SetMetricAsCorrelation()
    elif chosen is RegistrationMetric.MATTES_MUTUAL_INFORMATION:
        method.SetMetricAsMattesMutualInformation(numberOfHistogramBins=50)
    else:
        method.SetMetricAsMeanSquares()
    # Every voxel is used: no random sampling, so the result is reproducible.
    method.SetMetricSamplingStrategy(method.NONE)
    method.SetInterpolator(sitk.sitkLinear)
    method.SetOptimizerAsRegularStepGradientDescent(
        learningRate=4.0,
        minStep=1e-3,
        numberOfIterations=int(max_iterations),
        relaxationFactor=0.5,
        gradientMagnitudeTolerance=1e-8,
    )
    method.SetOptimizerScalesFromPhysicalShift()
    method.SetShrinkFactorsPerLevel([int(f) for f in shrink_factors])
    method.SetSmoothingSigmasPerLevel([float(s) for s in smoothing_sigmas_mm])
    method.SmoothingSigmasAreSpecifiedInPhysicalUnitsOn()
    initial = sitk.CenteredTransformInitializer(
        fixed_image,
        moving_image,
        sitk.Euler3DTransform(),
        sitk.CenteredTransformInitializerFilter.GEOMETRY,
    )
    method.SetInitialTransform(initial, inPlace=False)
    try:
        final = method.Execute(fixed_image, moving_image)
    except RuntimeError as err:
        raise FitError(f"rigid registration failed: {err}") from err
    matrix = _matrix_of(final)
    # Orthonormalise against round-off before validating as rigid.
    u, _, vt = np.linalg.svd(matrix[:3, :3])
    matrix[:3, :3] = u @ vt
    transform = RigidTransform(matrix)
    metric_value = float(method.GetMetricValue())
    registered = resample_to(moving, reference, transform=transform.matrix)
    step = Step(
        name="register_rigid",
        method="SimpleITK Euler3D, regular-step gradient descent, multi-resolution",
        parameters={
            **transform.to_dict(),
            "metric": chosen.value,
            "metric_value": metric_value,
            "stop_condition": method.GetOptimizerStopConditionDescription(),
            "shrink_factors": [int(f) for f in shrink_factors],
            "smoothing_sigmas_mm": [float(s) for s in smoothing_sigmas_mm],
            "reference_geometry": reference.describe_geometry(),
        },
        data_sources=(f"SimpleITK {sitk.Version.VersionString()}",),
    )
    return RegistrationResult(
        registered=registered.with_step(step),
        transform=transform,
        metric_value=metric_value,
        metric=chosen,
    )


def register_time_points(
    volumes: Sequence[Volume],
    *,
    reference_index: int = 0,
    metric: RegistrationMetric | str = RegistrationMetric.CORRELATION,
) -> tuple[RegistrationResult, ...]:
    """Register every time point to ``volumes[reference_index]``.

    The reference itself is returned unchanged with an identity transform (and a
    ``register_rigid`` step saying so), so the output has one result per input,
    in order.

    Raises
    ------
    InvalidInputError
        Empty sequence or ``reference_index`` out of range.
    """
    if not volumes:
        raise InvalidInputError("volumes", [], "one or more volumes")
    if not 0 <= reference_index < len(volumes):
        raise InvalidInputError(
            "reference_index", reference_index, f"an index in 0..{len(volumes) - 1}"
        )
    reference = volumes[reference_index]
    results: list[RegistrationResult] = []
    for index, volume in enumerate(volumes):
        if index == reference_index:
            identity = RigidTransform(np.eye(4))
            step = Step(
                name="register_rigid",
                method="reference time point (identity)",
                parameters=identity.to_dict(),
            )
            results.append(
                RegistrationResult(
                    registered=reference.with_step(step),
                    transform=identity,
                    metric_value=float("nan"),
                    metric=RegistrationMetric(metric),
                )
            )
        else:
            results.append(register_rigid(volume, reference, metric=metric))
    return tuple(results)
