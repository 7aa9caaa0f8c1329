"""Voxel dosimetry: voxel TIA, local deposition, kernel convolution, density correction, DVH.

See ``docs/dosimetry-voxel.md`` for the methods, settings and sources.
"""
