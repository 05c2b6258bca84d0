"""Reverberation bands beyond the tip: not the line going on (``band_mm``), and a tracked tip stops before one
(``band_stop``)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleDetector, ShaftCandidate

from .shaft_scene import speckled_line_mm

SPACING_MM = 0.07
ROWS, COLS = 500, 560
ANGLE_DEG = 25.0
ENTRY = np.array([0.3, 4.0])  # x, z in mm: the shaft enters from the left side
TIP_ALONG_MM = 14.0


def _scene(seed: int, *, band: bool, goes_on: bool = False) -> Frame:
    """Speckled tissue, a 25° shaft ending :data:`TIP_ALONG_MM` along its line and, with ``band``, a bright
    horizontal stripe across most of the width 1.2 mm deeper than the tip (a reverberation band); with
    ``goes_on`` a line as bright goes on from 1.2 mm beyond the tip, 6° steeper (a curving fascia, not a
    needle ending in tissue)."""
    theta = math.radians(ANGLE_DEG)
    xx, zz, along, below, speckle = speckled_line_mm(seed, (ROWS, COLS), SPACING_MM, ENTRY, ANGLE_DEG)
    shaft = np.exp(-0.5 * (below / 0.15) ** 2) * (along <= TIP_ALONG_MM) * (along >= 0)
    image = 100.0 + speckle + 60.0 * shaft
    if goes_on:
        bend = theta + math.radians(6.0)
        gx = xx - ENTRY[0] - (TIP_ALONG_MM + 1.2) * math.cos(theta)
        gz = zz - ENTRY[1] - (TIP_ALONG_MM + 1.2) * math.sin(theta)
        on = gx * math.cos(bend) + gz * math.sin(bend)
        off = gz * math.cos(bend) - gx * math.sin(bend)
        image += 60.0 * np.exp(-0.5 * (off / 0.15) ** 2) * (on >= 0) * (on <= 10.0)
    if band:
        tip_z = ENTRY[1] + TIP_ALONG_MM * math.sin(theta)
        stripe = np.exp(-(((zz - tip_z - 1.2) / 0.25) ** 2)) * (xx > 0.15 * COLS * SPACING_MM)
        image += 45.0 * stripe
    return Frame(np.clip(image, 0, 255).astype(np.uint8), SPACING_MM, SPACING_MM, 0.0)


def _found(detector: NeedleDetector, frame: Frame) -> list:
    tip = ENTRY + TIP_ALONG_MM * np.array(
        [math.cos(math.radians(ANGLE_DEG)), math.sin(math.radians(ANGLE_DEG))]
    )
    return [
        c
        for c in detector(frame)
        if abs(c.angle_deg - ANGLE_DEG) < 3.0 and math.hypot(c.tip_x_mm - tip[0], c.tip_z_mm - tip[1]) < 1.0
    ]


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_band_beyond_the_tip_does_not_count_as_the_line_going_on(seed: int) -> None:
    frame = _scene(seed, band=True)
    found = _found(NeedleDetector(), frame)
    assert found, "the shaft ends in tissue: the band crossing beyond its tip is no continuation"
    assert found[0].continuation <= 0.3
    assert not _found(NeedleDetector(band_mm=0.0), frame)  # counted as the line going on, it is turned down


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_line_that_goes_on_still_counts_beside_a_band(seed: int) -> None:
    frame = _scene(seed, band=True, goes_on=True)
    assert not _found(NeedleDetector(), frame)  # it does not end in tissue: no new track


STEEP_DEG = 50.0
STEEP_ENTRY = np.array([0.3, 2.0])
STEEP_TIP_MM = 16.0


def _steep_scene(seed: int) -> Frame:
    """Speckled tissue, a 50° shaft ending :data:`STEEP_TIP_MM` along its line and a bright horizontal band
    across most of the width crossing the line 0.9 mm beyond the tip (the run bridges the gap to it)."""
    theta = math.radians(STEEP_DEG)
    xx, zz, along, below, speckle = speckled_line_mm(seed, (ROWS, COLS), SPACING_MM, STEEP_ENTRY, STEEP_DEG)
    shaft = np.exp(-0.5 * (below / 0.15) ** 2) * (along <= STEEP_TIP_MM) * (along >= 0)
    band_z = STEEP_ENTRY[1] + (STEEP_TIP_MM + 0.9) * math.sin(theta)
    stripe = np.exp(-(((zz - band_z) / 0.25) ** 2)) * (xx > 0.15 * COLS * SPACING_MM)
    image = 100.0 + speckle + 60.0 * shaft + 60.0 * stripe
    return Frame(np.clip(image, 0, 255).astype(np.uint8), SPACING_MM, SPACING_MM, 0.0)


def _prior(advance_mm: float) -> ShaftCandidate:
    """The tracked shaft of the frame before, its tip ``advance_mm`` short of this frame's."""
    theta = math.radians(STEEP_DEG)
    tip = STEEP_ENTRY + (STEEP_TIP_MM - advance_mm) * np.array([math.cos(theta), math.sin(theta)])
    return ShaftCandidate(
        float(STEEP_ENTRY[0]), float(STEEP_ENTRY[1]), float(tip[0]), float(tip[1]), STEEP_DEG, 3.0, 0.05, 0.0
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tracked_tip_stops_where_a_band_just_beyond_it_begins(seed: int) -> None:
    frame = _steep_scene(seed)
    prior = _prior(3.3)  # the needle advanced 3.3 mm: the run into the band would jump more than 4 mm
    theta = math.radians(STEEP_DEG)
    tip = STEEP_ENTRY + STEEP_TIP_MM * np.array([math.cos(theta), math.sin(theta)])
    assert NeedleDetector(band_stop=False).follow(frame, prior) is None  # the run ends with the band
    found = NeedleDetector().follow(frame, prior)
    assert found is not None
    assert math.hypot(found.tip_x_mm - tip[0], found.tip_z_mm - tip[1]) <= 0.5
