"""Adapters at the edges (CLI, DICOM, files); they may import the core, never the reverse."""
