"""DICOM Segmentation (SEG) <-> masks, through highdicom.

Masks are written as one BINARY Segmentation instance with one segment per mask,
on the grid of the source images (the CT); segments carry SNOMED CT property
codes (Anatomical Structure / organ for organs, Morphologically Abnormal
Structure / Neoplasm for names starting with "tumour", "tumor" or "lesion",
Tissue otherwise).  Reading returns one mask per segment label, moved onto a
reference grid by nearest-neighbour lookup when one is given (exact for grids
whose voxel centres coincide).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import highdicom as hd
import numpy as np
from pydicom.dataset import Dataset
from pydicom.sr.codedict import codes
from pydicom.sr.coding import Code
from pydicom.uid import generate_uid

from prrt.adapters.dicom._common import IMPLEMENTATION_VERSION, canonical_slices, read_datasets
from prrt.errors import InvalidInputError
from prrt.imaging.volume import Volume, VoxelQuantity, check_same_geometry, mask_on_grid
from prrt.provenance import History, Step

__all__ = ["read_seg", "write_seg"]

_ANATOMY = Code("91723000", "SCT", "Anatomical Structure")
_ABNORMAL = Code("49755003", "SCT", "Morphologically Abnormal Structure")
_ORGAN_TYPES: dict[str, Code] = {
    "kidney": codes.SCT.Kidney,
    "liver": codes.SCT.Liver,
    "spleen": codes.SCT.Spleen,
    "marrow": codes.SCT.BoneMarrow,
}


def _property_codes(name: str) -> tuple[Code, Code]:
    lower = name.lower()
    if lower.startswith(("tumour", "tumor", "lesion")):
        return _ABNORMAL, codes.SCT.Neoplasm
    for key, code in _ORGAN_TYPES.items():
        if key in lower:
            return _ANATOMY, code
    return codes.SCT.Tissue, codes.SCT.Tissue


def _to_hd_axes(
    array: np.ndarray[Any, Any], affine: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    """Our (column, row, slice) layout → highdicom's (slice, row, column)."""
    hd_affine = np.eye(4)
    hd_affine[:3, 0] = affine[:3, 2]
    hd_affine[:3, 1] = affine[:3, 1]
    hd_affine[:3, 2] = affine[:3, 0]
    hd_affine[:3, 3] = affine[:3, 3]
    return np.transpose(array, (2, 1, 0, *range(3, array.ndim))), hd_affine


def _from_hd_axes(
    array: np.ndarray[Any, Any], affine: np.ndarray[Any, Any]
) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
    ours = np.eye(4)
    ours[:3, 0] = affine[:3, 2]
    ours[:3, 1] = affine[:3, 1]
    ours[:3, 2] = affine[:3, 0]
    ours[:3, 3] = affine[:3, 3]
    return np.transpose(array, (2, 1, 0)), ours


def write_seg(
    masks: Mapping[str, Volume],
    path: Path | str,
    *,
    source_images: Sequence[Dataset | Path | str],
    series_description: str = "prrt VOIs",
) -> Path:
    """Write masks as a DICOM Segmentation (BINARY, one segment per mask).

    Parameters
    ----------
    masks
        Segment label → mask, all on one grid in the frame of reference of
        ``source_images``.
    path
        Output file.
    source_images
        The images segmented (CT slice files or datasets); patient, study and
        frame of reference are copied from them.
    series_description
        Series Description.

    Raises
    ------
    InvalidInputError
        No masks or source images, non-mask volumes, empty masks or masks on
        different grids.
    """
    if not masks:
        raise InvalidInputError("masks", {}, "one or more masks")
    if not source_images:
        raise InvalidInputError("source_images", [], "the image files the masks were drawn on")
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
    sources = [
        d for _, d in read_datasets([Path(p) for p in source_images if not isinstance(p, Dataset)])
    ]
    sources += [d for d in source_images if isinstance(d, Dataset)]
    stacked = np.stack([v.array for v in volumes], axis=-1).astype(np.uint8)
    hd_array, hd_affine = _to_hd_axes(stacked, volumes[0].affine)
    hd_volume = hd.Volume(
        array=hd_array,
        affine=hd_affine,
        coordinate_system="PATIENT",
        frame_of_reference_uid=str(sources[0].FrameOfReferenceUID),
        channels={"SegmentNumber": list(range(1, len(names) + 1))},
    )
    algorithm = hd.AlgorithmIdentificationSequence(
        name="prrt", version=IMPLEMENTATION_VERSION, family=codes.DCM.ArtificialIntelligence
    )
    descriptions = []
    for number, name in enumerate(names, start=1):
        category, kind = _property_codes(name)
        descriptions.append(
            hd.seg.SegmentDescription(
                segment_number=number,
                segment_label=name[:64],
                segmented_property_category=category,
                segmented_property_type=kind,
                algorithm_type=hd.seg.SegmentAlgorithmTypeValues.AUTOMATIC,
                algorithm_identification=algorithm,
            )
        )
    seg = hd.seg.Segmentation(
        source_images=sources,
        pixel_array=hd_volume,
        segmentation_type=hd.seg.SegmentationTypeValues.BINARY,
        segment_descriptions=descriptions,
        series_instance_uid=generate_uid(),
        series_number=300,
        sop_instance_uid=generate_uid(),
        instance_number=1,
        manufacturer="prrt",
        manufacturer_model_name="prrt",
        software_versions=IMPLEMENTATION_VERSION,
        device_serial_number="0",
        series_description=series_description[:64],
        omit_empty_frames=False,
    )
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    seg.save_as(out)
    return out


def read_seg(path: Path | str, *, reference: Volume | None = None) -> dict[str, Volume]:
    """Read a DICOM Segmentation into masks (one per segment label).

    Parameters
    ----------
    path
        SEG file.
    reference
        Grid to put the masks on (nearest-neighbour); the SEG's own grid when omitted.

    Raises
    ------
    InvalidInputError
        Not a SEG file, an empty segment, or segment voxels outside the
        reference image (mask outside the image).
    """
    try:
        seg = hd.seg.segread(Path(path))
    except (AttributeError, ValueError, OSError) as err:
        raise InvalidInputError("path", str(path), "a DICOM Segmentation file") from err
    out: dict[str, Volume] = {}
    for number in seg.segment_numbers:
        label = str(seg.get_segment_description(number).segment_label)
        hd_volume = seg.get_volume(segment_numbers=[number], combine_segments=True, relabel=True)
        array, affine = _from_hd_axes(np.asarray(hd_volume.array) > 0, np.asarray(hd_volume.affine))
        raw = Volume(array=array, affine=affine, quantity=VoxelQuantity.MASK)
        array, affine = canonical_slices(raw)
        mask = Volume(
            array=array,
            affine=affine,
            quantity=VoxelQuantity.MASK,
            history=History().append(
                Step(
                    name="read_seg",
                    method="highdicom",
                    parameters={"path": str(path), "segment": label},
                )
            ),
        )
        if not np.any(mask.array):
            raise InvalidInputError(
                f"segment[{label!r}]", "an empty segment", "a VOI with at least one voxel"
            )
        if reference is not None:
            mask = mask_on_grid(mask, reference, name=f"segment[{label!r}]")
        out[label] = mask
    return out
