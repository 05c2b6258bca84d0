"""Coordinates of a straight needle shaft in a test frame, shared by the spread tests under the shaft."""

from __future__ import annotations

import math

import numpy as np


def line_coords(
    shape: tuple[int, int], start: tuple[float, float], angle_rad: float
) -> tuple[np.ndarray, np.ndarray]:
    """Distance along the line from ``start`` (x, z in pixels) at ``angle_rad`` below the horizontal, and
    across it (positive deeper), of every pixel of a frame of ``shape`` (rows, columns)."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float32)
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    along = (cols - start[0]) * c + (rows - start[1]) * s
    across = -(cols - start[0]) * s + (rows - start[1]) * c
    return along, across


def shaft_mm(
    start: tuple[float, float], tip: tuple[float, float], spacing_mm: float
) -> tuple[float, float, float, float]:
    """The shaft from ``start`` to ``tip`` (pixel indices) in millimetres at pixel centres, as the spread
    detector takes it."""
    half = spacing_mm / 2
    return (
        start[0] * spacing_mm + half,
        start[1] * spacing_mm + half,
        tip[0] * spacing_mm + half,
        tip[1] * spacing_mm + half,
    )
