"""A short oblique shaft whose line runs on far beyond it into a brighter, mottled deep layer: its contrast
is taken against the background beside it, not along the whole line."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleDetector, ShaftCandidate

from .shaft_scene import bright_line, starts_on

SPACING_MM = 0.1
ROWS, COLS = 500, 450  # 50 x 45 mm
NEEDLE_ANGLE_DEG = 50.0  # entering from the left, deeper to the right
NEEDLE_ENTRY = (0.3, 8.0)
NEEDLE_LENGTH_MM = 6.0
LAYER_TOP_MM = 18.0  # the line reaches it 13 mm beyond the tip and runs on 30 mm through it


def _line(x0: float, z0: float, angle_deg: float, length_mm: float, level: float) -> np.ndarray:
    """A bright line of 0.25 mm half-width from (x0, z0) (mm) in the direction ``angle_deg``."""
    return bright_line((ROWS, COLS), SPACING_MM, x0, z0, angle_deg, length_mm, level)


def _frame(seed: int, *, layer: bool = True) -> Frame:
    """Speckle at grey level 55, a brighter deep layer (35 grey levels brighter, mottled by +-30) from
    :data:`LAYER_TOP_MM` down, and a 6 mm needle at 50 degrees entering from the left."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, (ROWS, COLS)).astype(np.float32), (0, 0), 3.0, sigmaY=0.8)
    image = 55.0 + 8.0 * noise / float(noise.std())
    if layer:
        zz = np.mgrid[0:ROWS, 0:COLS][0] * SPACING_MM
        mottle = cv2.GaussianBlur(
            rng.normal(0.0, 1.0, (ROWS, COLS)).astype(np.float32), (0, 0), 25.0, sigmaY=8.0
        )
        image += (zz >= LAYER_TOP_MM) * (35.0 + 30.0 * mottle / float(mottle.std()))
    image += _line(*NEEDLE_ENTRY, NEEDLE_ANGLE_DEG, NEEDLE_LENGTH_MM, 50.0)
    return Frame(np.clip(image, 0, 255).astype(np.uint8), SPACING_MM, SPACING_MM, 0.0, 0)


def _needle(candidates: list[ShaftCandidate]) -> list[ShaftCandidate]:
    return [c for c in candidates if starts_on(c, NEEDLE_ENTRY, NEEDLE_ANGLE_DEG)]


@pytest.mark.parametrize("seed", range(4))
def test_short_shaft_whose_line_runs_into_a_bright_deep_layer_is_found(seed: int) -> None:
    found = _needle(NeedleDetector()(_frame(seed)))
    assert found
    assert 4.0 <= found[0].length_mm <= 7.0
    assert found[0].contrast >= 2.0


def test_the_same_shaft_without_the_layer_is_found_as_before() -> None:
    found = _needle(NeedleDetector()(_frame(0, layer=False)))
    assert found
    assert found[0].contrast >= 2.0
