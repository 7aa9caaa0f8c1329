"""DICOM and NIfTI adapters (pydicom, highdicom, nibabel) to and from prrt.imaging volumes."""
