"""Absorbed dose: organ-level MIRD, red marrow, voxel dosimetry and radiobiology (BED/EQD2)."""
