"""Once the probe has moved away from where it was while learning, the floor near the dark structures of
the learned floor (a vessel's lumen) is taken widened for motion, as everywhere else, for the smaller
near-tip margin too: the edge of a lumen that the registration places a little off falls below the floor
as learned, but not below the widened one."""

from __future__ import annotations

import math

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.spread import SpreadDetector

from .shaft_scene import speckle_tissue

WS = 0.25
SHAPE = (160, 200)
LUMEN = (80, 100, 16)  # row, column and radius (4 mm) of a dark vessel lumen


def _learned(**options: float) -> SpreadDetector:
    """A detector that learned 12 frames of speckle with a dark lumen in it and has frozen."""
    detector = SpreadDetector(work_spacing_mm=WS, baseline_s=0.5, **options)  # type: ignore[arg-type]
    tissue = speckle_tissue(51, SHAPE)
    rows, cols = np.ogrid[: SHAPE[0], : SHAPE[1]]
    lumen = (rows - LUMEN[0]) ** 2 + (cols - LUMEN[1]) ** 2 <= LUMEN[2] ** 2
    tissue[lumen] *= np.float32(0.1)
    rng = np.random.default_rng(52)
    for i in range(12):
        image = np.clip(tissue + rng.normal(0.0, 1.5, SHAPE).astype(np.float32), 0, 255)
        detector(Frame(image.astype(np.uint8), WS, WS, i / 20.0), tip_mm=None, injecting=i >= 11)
    assert not detector.learning
    return detector


def _turned(degrees: float) -> np.ndarray:
    """The probe's motion as the registration reports it: a turn about the image centre."""
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    cx, cz = (SHAPE[1] - 1) / 2.0, (SHAPE[0] - 1) / 2.0
    return np.array([[c, -s, cx - c * cx + s * cz], [s, c, cz - s * cx - c * cz]])


def _lumen_edge_threshold(detector: SpreadDetector) -> float:
    """The near-tip threshold just outside the lumen's edge (0.5 mm out), in the learning's coordinates."""
    maps = detector._near_maps()
    return float(maps[LUMEN[0], LUMEN[1] + LUMEN[2] + 2, 0])


def test_after_the_probe_turned_the_lumen_edge_takes_the_widened_floor() -> None:
    detector = _learned()
    still = _lumen_edge_threshold(detector)
    detector._motion = _turned(2.0)
    turned = _lumen_edge_threshold(detector)
    assert turned < still - 20  # the lumen's darkness reaches 0.5 mm out once widened
    far = float(detector._near_maps()[20, 20, 0])  # far from the lumen: the floor as learned still
    detector._motion = _turned(0.0)
    assert far == pytest.approx(float(detector._near_maps()[20, 20, 0]))


def test_a_small_motion_keeps_the_floor_as_learned() -> None:
    detector = _learned()
    still = _lumen_edge_threshold(detector)
    detector._motion = _turned(0.5)  # under 1°, and its shift (about the centre) about 0.3 mm
    assert _lumen_edge_threshold(detector) == still


def test_turned_off_it_keeps_the_floor_as_learned() -> None:
    detector = _learned(near_wide_mm=0.0, near_wide_deg=0.0)
    still = _lumen_edge_threshold(detector)
    detector._motion = _turned(2.0)
    assert _lumen_edge_threshold(detector) == still


def _at_rest_in_the_lumen(**options: object) -> SpreadDetector:
    """A detector that learned the lumen with a needle resting in it (a bright shaft ending at the lumen's
    centre), then saw 5 more frames after the injection start: its level at rest is set."""
    detector = SpreadDetector(work_spacing_mm=WS, baseline_s=0.5, **options)  # type: ignore[arg-type]
    tissue = speckle_tissue(51, SHAPE)
    rows, cols = np.ogrid[: SHAPE[0], : SHAPE[1]]
    tissue[(rows - LUMEN[0]) ** 2 + (cols - LUMEN[1]) ** 2 <= LUMEN[2] ** 2] *= np.float32(0.1)
    tissue[LUMEN[0] - 1 : LUMEN[0] + 2, 20 : LUMEN[1] + 1] += np.float32(90.0)
    tip = ((LUMEN[1] + 0.5) * WS, (LUMEN[0] + 0.5) * WS)
    shaft = (20.5 * WS, tip[1], *tip)
    rng = np.random.default_rng(53)
    for i in range(17):
        image = np.clip(tissue + rng.normal(0.0, 1.5, SHAPE).astype(np.float32), 0, 255)
        detector(
            Frame(image.astype(np.uint8), WS, WS, i / 20.0), tip_mm=tip, shaft_mm=shaft, injecting=i >= 11
        )
    assert detector._rest_set
    return detector


@pytest.mark.parametrize(("rest_still", "tested"), [(True, False), (False, True)])
def test_once_the_probe_turned_the_level_at_rest_is_not_tested(rest_still: bool, tested: bool) -> None:
    # the level at rest tested in a lumen too (``rest_in_lumens``, off by default)
    detector = _at_rest_in_the_lumen(rest_still=rest_still, rest_in_lumens=True)
    local = np.zeros(SHAPE, np.uint8)  # everything fell to black: below any level at rest
    tip = ((LUMEN[1] + 0.5) * WS, (LUMEN[0] + 0.5) * WS)
    assert detector._fell_at_rest(np.zeros(SHAPE, np.uint8), local, tip) is not None  # still probe: tested
    detector._motion = _turned(2.0)
    x, z = detector._motion @ np.array([LUMEN[1], LUMEN[0], 1.0])
    moved_tip = ((x + 0.5) * WS, (z + 0.5) * WS)
    assert (detector._fell_at_rest(np.zeros(SHAPE, np.uint8), local, moved_tip) is not None) is tested


def test_by_default_the_level_at_rest_is_not_tested_in_the_lumen_that_holds_the_tip() -> None:
    detector = _at_rest_in_the_lumen()
    local = np.zeros(SHAPE, np.uint8)  # everything fell to black: below any level at rest
    tip = ((LUMEN[1] + 0.5) * WS, (LUMEN[0] + 0.5) * WS)
    assert detector._fell_at_rest(np.zeros(SHAPE, np.uint8), local, tip) is None
