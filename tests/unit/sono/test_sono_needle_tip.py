"""The tip of a shaft running from bright into darker tissue, under the whole-shaft threshold there."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleTracker, ShaftCandidate, _ridge_holds

SPACING_MM = 0.07
ROWS, COLS = 480, 640
ANGLE_DEG = 35.0
ENTRY = np.array([0.5, 1.0])  # x, z in mm: the shaft enters from the left under the probe


def _scene(
    seed: int, *, tip_along_mm: float, layer_z_mm: float, bright_excess: float, dark_excess: float
) -> Frame:
    """Speckled tissue, bright above ``layer_z_mm`` and darker below, crossed by a straight shaft.

    The shaft stands ``bright_excess`` grey levels above the bright tissue and ``dark_excess`` above the
    darker tissue; it ends ``tip_along_mm`` along its line from ``ENTRY``.
    """
    rng = np.random.default_rng(seed)
    z = np.arange(ROWS)[:, None] * SPACING_MM
    x = np.arange(COLS)[None, :] * SPACING_MM
    speckle = cv2.GaussianBlur(rng.normal(0.0, 1.0, (ROWS, COLS)), (0, 0), sigmaX=5.0, sigmaY=2.0)
    speckle *= 12.0 / float(speckle.std())
    deep = z > layer_z_mm
    tissue = np.where(deep, 70.0, 150.0) + speckle
    theta = math.radians(ANGLE_DEG)
    d = np.array([math.cos(theta), math.sin(theta)])
    along = (x - ENTRY[0]) * d[0] + (z - ENTRY[1]) * d[1]
    across = -(x - ENTRY[0]) * d[1] + (z - ENTRY[1]) * d[0]
    excess = np.where(deep, dark_excess, bright_excess)
    ridge = np.exp(-0.5 * (across / 0.12) ** 2) * 0.5 * (1.0 - np.tanh((along - tip_along_mm) / 0.1))
    pixels = np.clip(tissue + excess * ridge, 0, 255).astype(np.uint8)
    return Frame(pixels, SPACING_MM, SPACING_MM, 0.0)


def _tip_error_mm(frame: Frame, tip_along_mm: float) -> float:
    """Tip error of the tracker's report after three frames of the same scene (a confirmed track)."""
    tracker = NeedleTracker()
    seen = [tracker(frame) for _ in range(3)][-1]
    assert seen.visible, "the shaft is not reported at all"
    theta = math.radians(ANGLE_DEG)
    truth = ENTRY + tip_along_mm * np.array([math.cos(theta), math.sin(theta)])
    return math.hypot(seen.tip_x_mm - truth[0], seen.tip_z_mm - truth[1])


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tip_of_a_shaft_running_into_darker_tissue_is_not_reported_short(seed: int) -> None:
    # 12 mm of the shaft lie in the bright layer, the last 10 mm in darker tissue: there it stands 50 grey
    # levels above the tissue beside it, but under half-way between the bright shaft and the tissue
    tip_along = 22.0
    layer_z = ENTRY[1] + 12.0 * math.sin(math.radians(ANGLE_DEG))
    frame = _scene(seed, tip_along_mm=tip_along, layer_z_mm=layer_z, bright_excess=60.0, dark_excess=50.0)
    assert _tip_error_mm(frame, tip_along) < 0.5


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_tip_ending_in_speckle_is_not_carried_on_along_the_line(seed: int) -> None:
    # the shaft ends in the bright tissue: the speckle beyond it is no shaft
    tip_along = 12.0
    frame = _scene(seed, tip_along_mm=tip_along, layer_z_mm=100.0, bright_excess=60.0, dark_excess=50.0)
    assert _tip_error_mm(frame, tip_along) < 0.5


def _short_shaft(tip_along_mm: float) -> ShaftCandidate:
    """The shaft of the scenes above, detected only up to ``tip_along_mm``."""
    theta = math.radians(ANGLE_DEG)
    tip = ENTRY + tip_along_mm * np.array([math.cos(theta), math.sin(theta)])
    return ShaftCandidate(
        float(ENTRY[0]), float(ENTRY[1]), float(tip[0]), float(tip[1]), ANGLE_DEG, 3.0, 0.05
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_ridge_still_there_keeps_a_tip_reported_further_on(seed: int) -> None:
    # detected up to the darker layer, reported 10 mm further in the frame before: the ridge is there,
    # standing as far above the tissue beside it as before the layer
    layer_z = ENTRY[1] + 12.0 * math.sin(math.radians(ANGLE_DEG))
    frame = _scene(seed, tip_along_mm=22.0, layer_z_mm=layer_z, bright_excess=55.0, dark_excess=55.0)
    assert _ridge_holds(frame, _short_shaft(12.0), 9.8)


@pytest.mark.parametrize("seed", [4, 5, 6])
def test_speckle_beyond_the_tip_does_not_keep_a_tip_reported_further_on(seed: int) -> None:
    frame = _scene(seed, tip_along_mm=12.0, layer_z_mm=100.0, bright_excess=60.0, dark_excess=50.0)
    assert not _ridge_holds(frame, _short_shaft(12.0), 4.0)
