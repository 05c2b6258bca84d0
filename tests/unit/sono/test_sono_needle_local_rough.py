"""A short steep shaft whose ridge is rougher than a straight line (0.18-0.23 mm RMS) and whose line runs on
far beyond it into a brighter, mottled deep layer: a clear excess over the background beside it lifts its
contrast to what a new track needs, and no further."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleDetector, ShaftCandidate

from .shaft_scene import bright_line, starts_on

SPACING_MM = 0.1
ROWS, COLS = 500, 450  # 50 x 45 mm
NEEDLE_ANGLE_DEG = 40.0  # entering from the left, deeper to the right
NEEDLE_ENTRY = (0.3, 8.0)
NEEDLE_LENGTH_MM = 9.0
PIECE_MM = 1.5  # the shaft is drawn in pieces shifted across it in turn, so its ridge is not straight
JITTER_MM = 0.15
LAYER_TOP_MM = 22.0  # the line reaches it about 13 mm beyond the tip and runs on through it


def _frame(seed: int) -> Frame:
    """Speckle at grey level 55, a brighter deep layer (35 grey levels brighter, mottled by +-30) from
    :data:`LAYER_TOP_MM` down, and a faint 9 mm needle at 40 degrees entering from the left whose pieces lie
    alternately 0.15 mm either side of its line."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, (ROWS, COLS)).astype(np.float32), (0, 0), 3.0, sigmaY=0.8)
    image = 55.0 + 8.0 * noise / float(noise.std())
    zz = np.mgrid[0:ROWS, 0:COLS][0] * SPACING_MM
    mottle = cv2.GaussianBlur(rng.normal(0.0, 1.0, (ROWS, COLS)).astype(np.float32), (0, 0), 25.0, sigmaY=8.0)
    image += (zz >= LAYER_TOP_MM) * (35.0 + 30.0 * mottle / float(mottle.std()))
    theta = math.radians(NEEDLE_ANGLE_DEG)
    normal = (-math.sin(theta), math.cos(theta))
    for k in range(int(NEEDLE_LENGTH_MM / PIECE_MM)):
        shift = JITTER_MM if k % 2 == 0 else -JITTER_MM
        x0 = NEEDLE_ENTRY[0] + k * PIECE_MM * math.cos(theta) + shift * normal[0]
        z0 = NEEDLE_ENTRY[1] + k * PIECE_MM * math.sin(theta) + shift * normal[1]
        image += bright_line((ROWS, COLS), SPACING_MM, x0, z0, NEEDLE_ANGLE_DEG, PIECE_MM, 40.0)
    return Frame(np.clip(image, 0, 255).astype(np.uint8), SPACING_MM, SPACING_MM, 0.0, 0)


def _needle(candidates: list[ShaftCandidate]) -> list[ShaftCandidate]:
    return [c for c in candidates if starts_on(c, NEEDLE_ENTRY, NEEDLE_ANGLE_DEG)]


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_rough_short_steep_shaft_is_found_by_its_local_background(seed: int) -> None:
    found = _needle(NeedleDetector()(_frame(seed)))
    assert found
    assert 7.0 <= found[0].length_mm <= 10.0
    assert 0.12 < found[0].residual_mm <= 0.3
    # lifted to the contrast a new track needs, no further: it does not outrank a straighter fit
    assert found[0].contrast == pytest.approx(2.0)


@pytest.mark.parametrize("seed", [0, 2, 3])
def test_rough_short_steep_shaft_is_not_found_with_the_rule_off(seed: int) -> None:
    assert not _needle(NeedleDetector(local_rough_mm=0.0)(_frame(seed)))


def test_rough_shaft_flatter_than_the_rule_is_not_lifted() -> None:
    found = NeedleDetector(local_rough_deg=45.0)(_frame(0))
    assert not _needle(found)


def test_rough_shaft_shorter_than_the_rule_is_not_lifted() -> None:
    found = NeedleDetector(local_rough_length_mm=10.0)(_frame(0))
    assert not _needle(found)
