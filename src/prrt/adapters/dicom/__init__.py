"""DICOM and NIfTI adapters (pydicom, highdicom, nibabel) to and from prrt.imaging volumes.

Reading: :func:`read_ct_series`, :func:`read_nm` (SPECT reconstructions with
acquisition and injection times), :func:`read_rtstruct`, :func:`read_seg`,
:func:`read_rtdose`, :func:`read_nifti`, and :func:`read_study` (a whole
multi-time-point SPECT/CT study from a manifest or a DICOM directory).
Writing: :func:`write_ct_series`, :func:`write_nm`, :func:`write_rtstruct`,
:func:`write_seg`, :func:`write_rtdose`, :func:`write_nifti` and
:func:`write_synthetic_study`.  Formats and tolerances: ``docs/imaging.md``.
"""

from __future__ import annotations

from prrt.adapters.dicom._common import DicomReference
from prrt.adapters.dicom.nifti import read_nifti, write_nifti
from prrt.adapters.dicom.rtdose import read_rtdose, write_rtdose
from prrt.adapters.dicom.rtstruct import read_rtstruct, rtstruct_roi_names, write_rtstruct
from prrt.adapters.dicom.seg import read_seg, write_seg
from prrt.adapters.dicom.series import NmImage, read_ct_series, read_nm, write_ct_series, write_nm
from prrt.adapters.dicom.study import Study, read_study, write_synthetic_study

__all__ = [
    "DicomReference",
    "NmImage",
    "Study",
    "read_ct_series",
    "read_nifti",
    "read_nm",
    "read_rtdose",
    "read_rtstruct",
    "read_seg",
    "read_study",
    "rtstruct_roi_names",
    "write_ct_series",
    "write_nifti",
    "write_nm",
    "write_rtdose",
    "write_rtstruct",
    "write_seg",
    "write_synthetic_study",
]
