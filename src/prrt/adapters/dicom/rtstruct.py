"""RT Structure Set (RTSTRUCT) <-> masks.

Writing: each mask is outlined slice by slice along voxel edges (closed planar
contours through voxel corners, collinear points removed), so the contours
enclose exactly the mask's voxels; holes and separate islands become separate
contours.  Reading: contours are rasterised on the grid of a reference image
(normally the CT they were drawn on) with the even-odd rule, a voxel being
inside when its centre is inside; several contours on one slice combine by
even-odd (a contour inside another is a hole), as DICOM PS3.3 C.8.8.6.3 allows.

Tolerance: the round trip of prrt's own contours is exact.  For contours drawn
elsewhere (smooth polygons) the mask boundary is within half a voxel in plane of
the contour; contours must lie on slice planes of the reference image (within
0.1 voxel), otherwise reading refuses them.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import RTStructureSetStorage, generate_uid

from prrt.adapters.dicom._common import DicomReference, new_dataset, read_datasets, save
from prrt.errors import InvalidInputError
from prrt.imaging.volume import Volume, VoxelQuantity, check_same_geometry
from prrt.provenance import History, Step

__all__ = ["read_rtstruct", "rtstruct_roi_names", "write_rtstruct"]

_STUDY_COMPONENT_SOP_CLASS = (
    "1.2.840.10008.3.1.2.3.1"  # Detached Study Management (retired), as commonly referenced
)
_COLOURS = (
    (255, 0, 0),
    (0, 160, 0),
    (0, 0, 255),
    (255, 160, 0),
    (160, 0, 160),
    (0, 160, 160),
    (128, 128, 0),
)


def _trace_loops(mask2d: np.ndarray[Any, Any]) -> list[list[tuple[int, int]]]:
    """Closed loops of voxel-corner coordinates around the foreground of a 2-D mask.

    Corner ``(a, b)`` is the point at index ``(a - 0.5, b - 0.5)``.  Edges are
    oriented counter-clockwise around foreground voxels; any partition of the
    edges into loops gives the same even-odd fill, so pinch points need no care.
    """
    m = np.pad(mask2d.astype(bool), 1)
    fg = m[1:-1, 1:-1]
    nexts: dict[tuple[int, int], list[tuple[int, int]]] = defaultdict(list)
    ii, jj = np.nonzero(fg & ~m[1:-1, :-2])  # background below (j - 1)
    for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
        nexts[(i, j)].append((i + 1, j))
    ii, jj = np.nonzero(fg & ~m[2:, 1:-1])  # background right (i + 1)
    for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
        nexts[(i + 1, j)].append((i + 1, j + 1))
    ii, jj = np.nonzero(fg & ~m[1:-1, 2:])  # background above (j + 1)
    for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
        nexts[(i + 1, j + 1)].append((i, j + 1))
    ii, jj = np.nonzero(fg & ~m[:-2, 1:-1])  # background left (i - 1)
    for i, j in zip(ii.tolist(), jj.tolist(), strict=True):
        nexts[(i, j + 1)].append((i, j))
    loops: list[list[tuple[int, int]]] = []
    while nexts:
        start = next(iter(nexts))
        loop = [start]
        current = start
        while True:
            targets = nexts[current]
            target = targets.pop()
            if not targets:
                del nexts[current]
            if target == start:
                break
            loop.append(target)
            current = target
        loops.append(_drop_collinear(loop))
    return loops


def _drop_collinear(loop: list[tuple[int, int]]) -> list[tuple[int, int]]:
    n = len(loop)
    kept = []
    for idx in range(n):
        prev, cur, nxt = loop[idx - 1], loop[idx], loop[(idx + 1) % n]
        d1 = (cur[0] - prev[0], cur[1] - prev[1])
        d2 = (nxt[0] - cur[0], nxt[1] - cur[1])
        if d1[0] * d2[1] - d1[1] * d2[0] != 0:
            kept.append(cur)
    return kept


def write_rtstruct(
    masks: Mapping[str, Volume],
    path: Path | str,
    *,
    reference: DicomReference | None = None,
    referenced_images: Sequence[Dataset | Path | str] = (),
    structure_set_label: str = "prrt VOIs",
) -> Path:
    """Write masks as an RT Structure Set of closed planar contours.

    Parameters
    ----------
    masks
        ROI name → mask, all on one grid with orthogonal axes; contours are drawn
        in the planes of array axis 2 (the slices of that grid).
    path
        Output file.
    reference
        Patient/study/frame-of-reference identifiers (those of the CT).
    referenced_images
        The image files or datasets (CT slices) the contours refer to; each contour
        refers to the slice at its position when given.
    structure_set_label
        Structure Set Label.

    Raises
    ------
    InvalidInputError
        No masks, masks on different grids, an empty mask or a non-mask volume.
    """
    if not masks:
        raise InvalidInputError("masks", {}, "one or more masks")
    names = list(masks)
    volumes = [masks[n] for n in names]
    for name, vol in zip(names, volumes, strict=True):
        if vol.quantity is not VoxelQuantity.MASK:
            raise InvalidInputError(f"masks[{name!r}]", vol.quantity.value, "a mask")
        if not np.any(vol.array):
            raise InvalidInputError(
                f"masks[{name!r}]", "an empty mask", "a VOI with at least one voxel"
            )
    check_same_geometry(*volumes, names=[f"masks[{n!r}]" for n in names])
    grid = volumes[0]
    if not grid.is_orthogonal:
        raise InvalidInputError("masks", grid.describe_geometry(), "orthogonal voxel axes")
    ref = reference or DicomReference()
    images = [
        d
        for _, d in read_datasets(
            [Path(p) for p in referenced_images if not isinstance(p, Dataset)]
        )
    ]
    images += [d for d in referenced_images if isinstance(d, Dataset)]
    by_slice: dict[int, Dataset] = {}
    for image in images:
        k = float(grid.voxel_indices([float(v) for v in image.ImagePositionPatient])[2])
        if abs(k - round(k)) < 0.1:
            by_slice[round(k)] = image

    ds = new_dataset(
        sop_class_uid=RTStructureSetStorage,
        modality="RTSTRUCT",
        reference=ref,
        series_instance_uid=generate_uid(),
        series_number=200,
        instance_number=1,
        series_description=structure_set_label,
    )
    ds.StructureSetLabel = structure_set_label[:16]
    ds.StructureSetName = structure_set_label[:64]
    ds.StructureSetDate = ds.ContentDate
    ds.StructureSetTime = ds.ContentTime
    frame = Dataset()
    frame.FrameOfReferenceUID = ref.frame_of_reference_uid
    if images:
        series_item = Dataset()
        series_item.SeriesInstanceUID = str(images[0].SeriesInstanceUID)
        series_item.ContourImageSequence = DicomSequence([_image_ref(d) for d in images])
        study_item = Dataset()
        study_item.ReferencedSOPClassUID = _STUDY_COMPONENT_SOP_CLASS
        study_item.ReferencedSOPInstanceUID = ref.study_instance_uid
        study_item.RTReferencedSeriesSequence = DicomSequence([series_item])
        frame.RTReferencedStudySequence = DicomSequence([study_item])
    ds.ReferencedFrameOfReferenceSequence = DicomSequence([frame])

    roi_items, contour_items, observation_items = [], [], []
    for number, (name, vol) in enumerate(zip(names, volumes, strict=True), start=1):
        roi = Dataset()
        roi.ROINumber = number
        roi.ReferencedFrameOfReferenceUID = ref.frame_of_reference_uid
        roi.ROIName = name[:64]
        roi.ROIGenerationAlgorithm = "AUTOMATIC"
        roi_items.append(roi)
        contours = []
        for k in range(vol.shape[2]):
            plane = vol.array[:, :, k]
            if not plane.any():
                continue
            for loop in _trace_loops(plane):
                corners = np.array(loop, dtype=np.float64) - 0.5
                index = np.column_stack([corners, np.full(len(corners), float(k))])
                points = vol.world_coordinates(index)
                contour = Dataset()
                contour.ContourGeometricType = "CLOSED_PLANAR"
                contour.NumberOfContourPoints = len(points)
                contour.ContourData = [f"{v:.6f}" for v in points.ravel()]
                if k in by_slice:
                    contour.ContourImageSequence = DicomSequence([_image_ref(by_slice[k])])
                contours.append(contour)
        item = Dataset()
        item.ROIDisplayColor = list(_COLOURS[(number - 1) % len(_COLOURS)])
        item.ReferencedROINumber = number
        item.ContourSequence = DicomSequence(contours)
        contour_items.append(item)
        obs = Dataset()
        obs.ObservationNumber = number
        obs.ReferencedROINumber = number
        obs.RTROIInterpretedType = (
            "GTV" if name.lower().startswith(("tumour", "tumor", "lesion")) else "ORGAN"
        )
        obs.ROIInterpreter = ""
        observation_items.append(obs)
    ds.StructureSetROISequence = DicomSequence(roi_items)
    ds.ROIContourSequence = DicomSequence(contour_items)
    ds.RTROIObservationsSequence = DicomSequence(observation_items)
    ds.ApprovalStatus = "UNAPPROVED"
    return save(ds, Path(path))


def _image_ref(image: Dataset) -> Dataset:
    item = Dataset()
    item.ReferencedSOPClassUID = str(image.SOPClassUID)
    item.ReferencedSOPInstanceUID = str(image.SOPInstanceUID)
    return item


def _load(path: Path | str) -> Dataset:
    items = read_datasets(Path(path))
    ds = items[0][1]
    if str(getattr(ds, "Modality", "")) != "RTSTRUCT":
        raise InvalidInputError("path", str(path), "an RTSTRUCT file")
    return ds


def rtstruct_roi_names(path: Path | str) -> tuple[str, ...]:
    """Names of the ROIs in an RTSTRUCT file."""
    ds = _load(path)
    return tuple(str(item.ROIName) for item in getattr(ds, "StructureSetROISequence", []))


def _fill_polygon(points_ij: np.ndarray[Any, Any], parity: np.ndarray[Any, Any]) -> None:
    """Toggle (even-odd) the voxels of ``parity`` whose centres lie inside a closed polygon."""
    nx, ny = parity.shape
    p1 = points_ij
    p2 = np.roll(points_ij, -1, axis=0)
    toggles = np.zeros((nx + 1, ny), dtype=np.int64)
    for (x1, y1), (x2, y2) in zip(p1.tolist(), p2.tolist(), strict=True):
        if y1 == y2:
            continue
        lo, hi = (y1, y2) if y1 < y2 else (y2, y1)
        rows = np.arange(max(int(np.ceil(lo)), 0), min(int(np.ceil(hi)), ny))
        if rows.size == 0:
            continue
        # Crossing of the horizontal line through row centres; half-open [lo, hi).
        xs = x1 + (rows - y1) * (x2 - x1) / (y2 - y1)
        upper = np.clip(np.ceil(xs).astype(np.int64), 0, nx)
        np.add.at(toggles, (np.zeros_like(rows), rows), 1)
        np.add.at(toggles, (upper, rows), -1)
    inside = (np.cumsum(toggles, axis=0)[:nx] % 2).astype(bool)
    parity ^= inside


def read_rtstruct(
    path: Path | str,
    *,
    reference: Volume,
    roi_names: Sequence[str] | None = None,
) -> dict[str, Volume]:
    """Rasterise the ROIs of an RTSTRUCT on the grid of ``reference``.

    Parameters
    ----------
    path
        RTSTRUCT file.
    reference
        Image whose grid the masks take (the image the contours were drawn on).
    roi_names
        ROIs to read (all when omitted).

    Returns
    -------
    dict
        ROI name → mask on ``reference``'s grid.

    Raises
    ------
    InvalidInputError
        A requested ROI is missing, has no contours or an empty mask (empty VOI),
        a contour lies outside the image (mask outside the image) or between
        slices, or a contour is not CLOSED_PLANAR.
    """
    ds = _load(path)
    numbers = {
        int(item.ROINumber): str(item.ROIName)
        for item in getattr(ds, "StructureSetROISequence", [])
    }
    wanted = list(numbers.values()) if roi_names is None else list(roi_names)
    missing = [n for n in wanted if n not in numbers.values()]
    if missing:
        raise InvalidInputError(
            "roi_names", missing, f"names present in the file: {sorted(numbers.values())}"
        )
    contours_of: dict[str, list[Dataset]] = {}
    for item in getattr(ds, "ROIContourSequence", []):
        name = numbers.get(int(item.ReferencedROINumber))
        if name in wanted:
            contours_of[name] = list(getattr(item, "ContourSequence", []) or [])
    nx, ny, nz = reference.shape
    inverse = np.linalg.inv(reference.affine)
    out: dict[str, Volume] = {}
    for name in wanted:
        contours = contours_of.get(name, [])
        if not contours:
            raise InvalidInputError(
                f"roi[{name!r}]", "no contours", "a VOI with at least one contour"
            )
        mask = np.zeros(reference.shape, dtype=bool)
        for contour in contours:
            kind = str(getattr(contour, "ContourGeometricType", ""))
            if kind == "POINT":
                continue
            if kind != "CLOSED_PLANAR":
                raise InvalidInputError(
                    f"roi[{name!r}].ContourGeometricType", kind, "CLOSED_PLANAR"
                )
            pts = np.asarray([float(v) for v in contour.ContourData], dtype=np.float64).reshape(
                -1, 3
            )
            idx = pts @ inverse[:3, :3].T + inverse[:3, 3]
            k_values = idx[:, 2]
            k = round(float(np.mean(k_values)))
            if np.max(np.abs(k_values - k)) > 0.1:
                raise InvalidInputError(
                    f"roi[{name!r}]",
                    f"a contour at slice index {float(np.mean(k_values)):.2f}",
                    "contours on slice planes of the reference image",
                    hint="rasterise on the image the contours were drawn on (the CT), then resample",
                )
            tol = 1e-3
            outside = (
                (idx[:, 0] < -0.5 - tol)
                | (idx[:, 0] > nx - 0.5 + tol)
                | (idx[:, 1] < -0.5 - tol)
                | (idx[:, 1] > ny - 0.5 + tol)
                | (k < 0)
                | (k >= nz)
            )
            if np.any(outside):
                raise InvalidInputError(
                    f"roi[{name!r}]",
                    f"{int(outside.sum())} contour point(s) outside the image, e.g. {pts[np.argmax(outside)].round(2).tolist()} mm",
                    f"a mask inside the image ({reference.describe_geometry()})",
                )
            plane = mask[:, :, k]
            _fill_polygon(idx[:, :2], plane)
            mask[:, :, k] = plane
        if not mask.any():
            raise InvalidInputError(
                f"roi[{name!r}]", "an empty mask after rasterising", "a VOI with at least one voxel"
            )
        step = Step(
            name="read_rtstruct",
            method="even-odd rasterisation of closed planar contours at voxel centres",
            parameters={"path": str(path), "roi": name},
        )
        out[name] = Volume(
            array=mask,
            affine=reference.affine,
            quantity=VoxelQuantity.MASK,
            history=History().append(step),
        )
    return out
