"""Coordinates of a straight needle shaft in a test frame and speckled tissue, shared by the spread tests
and the needle tests."""

from __future__ import annotations

import math

import cv2
import numpy as np

from painguide.sono.frames import Frame
from painguide.sono.needle import ShaftCandidate
from painguide.sono.spread import SpreadDetector, SpreadObservation


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


def point_on_line(
    start: tuple[float, float], angle_rad: float, along: float, across: float = 0.0
) -> tuple[float, float]:
    """The point ``along`` the line from ``start`` (x, z in pixels) at ``angle_rad`` below the horizontal and
    ``across`` it (positive deeper), in pixels."""
    c, s = math.cos(angle_rad), math.sin(angle_rad)
    return start[0] + along * c - across * s, start[1] + along * s + across * c


def along_line(start: tuple[float, float], angle_rad: float, x: float, z: float) -> float:
    """How far along the line from ``start`` at ``angle_rad`` below the horizontal the point (``x``, ``z``)
    lies (the inverse of :func:`point_on_line` along the line; any unit)."""
    return (x - start[0]) * math.cos(angle_rad) + (z - start[1]) * math.sin(angle_rad)


def speckle_tissue(seed: int, shape: tuple[int, int], level: float = 120.0) -> np.ndarray:
    """Static speckle-like texture around grey level ``level``, its cells wider than tall (float32)."""
    rng = np.random.default_rng(seed)
    speckle = cv2.GaussianBlur(rng.exponential(1.0, shape).astype(np.float32), (0, 0), sigmaX=1.4, sigmaY=0.7)
    return np.asarray(level * speckle / speckle.mean(), dtype=np.float32)


def starts_on(c: ShaftCandidate, entry_mm: tuple[float, float], angle_deg: float) -> bool:
    """Whether a detector's candidate lies on the needle entering at ``entry_mm`` (x, z) at ``angle_deg``:
    within 3° of its angle and starting within 1.5 mm of its entry."""
    return (
        abs(c.angle_deg - angle_deg) <= 3.0
        and math.hypot(c.start_x_mm - entry_mm[0], c.start_z_mm - entry_mm[1]) < 1.5
    )


def bright_line(
    shape: tuple[int, int],
    spacing_mm: float,
    x0: float,
    z0: float,
    angle_deg: float,
    length_mm: float,
    level: float,
) -> np.ndarray:
    """A bright line of 0.25 mm half-width from (x0, z0) (mm) in the direction ``angle_deg``, on a frame of
    ``shape`` (rows, columns) with square pixels of ``spacing_mm``."""
    zz, xx = np.mgrid[0 : shape[0], 0 : shape[1]] * spacing_mm
    d = (math.cos(math.radians(angle_deg)), math.sin(math.radians(angle_deg)))
    along = (xx - x0) * d[0] + (zz - z0) * d[1]
    across = -(xx - x0) * d[1] + (zz - z0) * d[0]
    return np.asarray(level * np.exp(-0.5 * (across / 0.25) ** 2) * ((along >= 0) & (along <= length_mm)))


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


def speckled_line_mm(
    seed: int,
    shape: tuple[int, int],
    spacing_mm: float,
    entry_mm: tuple[float, float] | np.ndarray,
    angle_deg: float,
    *,
    rms: float = 6.0,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pixel centres ``xx``, ``zz`` (mm), the distance of each along and across (positive deeper) the line
    from ``entry_mm`` (x, z) at ``angle_deg`` below the horizontal, and speckle of RMS ``rms`` grey levels
    whose cells are wider than tall (as the simulator's), the same for every call with ``seed``:
    ``(xx, zz, along, below, speckle)``."""
    theta = math.radians(angle_deg)
    zz, xx = np.mgrid[0 : shape[0], 0 : shape[1]] * spacing_mm
    dx, dz = xx - entry_mm[0], zz - entry_mm[1]
    along = dx * math.cos(theta) + dz * math.sin(theta)
    below = dz * math.cos(theta) - dx * math.sin(theta)
    noise = np.random.default_rng(seed).standard_normal(shape)
    speckle = cv2.GaussianBlur(noise, (0, 0), sigmaX=5.0, sigmaY=2.0)
    speckle *= rms / float(speckle.std())
    return xx, zz, along, below, speckle


def observe_with_shaft(
    detector: SpreadDetector,
    image: np.ndarray,
    rng: np.random.Generator,
    frame: int,
    shaft: tuple[float, float, float, float],
    injection: int,
    spacing_mm: float,
) -> SpreadObservation:
    """Add noise (SD 1.5 grey levels) to ``image`` (float32), and give it to the spread detector as frame
    number ``frame`` of a 15 Hz cine at ``spacing_mm``, with ``shaft`` (mm) tracked and its tip as the
    tip; the injection starts at frame ``injection``."""
    noisy = np.clip(image + rng.normal(0.0, 1.5, image.shape).astype(np.float32), 0, 255)
    return detector(
        Frame(noisy.astype(np.uint8), spacing_mm, spacing_mm, frame / 15.0),
        tip_mm=shaft[2:],
        shaft_mm=shaft,
        injecting=frame >= injection,
    )
