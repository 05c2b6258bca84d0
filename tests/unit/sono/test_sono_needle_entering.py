"""A needle that has just entered from the side: a short shaft confirmed as it grows along its line."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleDetector, NeedleTracker, ShaftCandidate

SPACING_MM = 0.1
ROWS, COLS = 300, 400  # 30 x 40 mm
ANGLE_DEG = 40.0
ENTRY_Z_MM = 6.0


def _frame(seed: int, length_mm: float, *, index: int = 0, start_x_mm: float = 0.0) -> Frame:
    """Speckle with a bright straight shaft of ``length_mm`` at 40 degrees from ``(start_x_mm, 6 mm)``."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, (ROWS, COLS)).astype(np.float32), (0, 0), 3.0, sigmaY=0.8)
    image = 70.0 + 10.0 * noise / float(noise.std())
    zz, xx = np.mgrid[0:ROWS, 0:COLS] * SPACING_MM
    d = (math.cos(math.radians(ANGLE_DEG)), math.sin(math.radians(ANGLE_DEG)))
    along = (xx - start_x_mm) * d[0] + (zz - ENTRY_Z_MM) * d[1]
    across = -(xx - start_x_mm) * d[1] + (zz - ENTRY_Z_MM) * d[0]
    image += 60.0 * np.exp(-0.5 * (across / 0.25) ** 2) * ((along >= 0) & (along <= length_mm))
    return Frame(np.clip(image, 0, 255).astype(np.uint8), SPACING_MM, SPACING_MM, 0.05 * index, index)


def _needle(candidates: list[ShaftCandidate]) -> list[ShaftCandidate]:
    return [c for c in candidates if abs(c.angle_deg - ANGLE_DEG) <= 4.0]


@pytest.mark.parametrize("seed", range(3))
def test_short_shaft_at_the_side_is_returned_flagged_short(seed: int) -> None:
    frame = _frame(seed, 3.8)
    found = _needle(NeedleDetector()(frame))
    assert found and found[0].short
    assert found[0].length_mm < 3.5
    assert not _needle(NeedleDetector(entry_length_mm=math.inf)(frame))  # shorter than min_length_mm
    inside = _frame(seed, 3.8, start_x_mm=6.0)  # the same shaft beginning inside the image
    assert not _needle(NeedleDetector()(inside))


def _shaft(start: float, tip: float, angle_deg: float = 40.0, *, short: bool = False) -> ShaftCandidate:
    """A shaft along the 40 degree line from arc length ``start`` to ``tip`` (mm), at ``angle_deg``."""
    d = (math.cos(math.radians(40.0)), math.sin(math.radians(40.0)))
    return ShaftCandidate(
        start * d[0], 6.0 + start * d[1], tip * d[0], 6.0 + tip * d[1], angle_deg, 3.0, 0.15, short=short
    )


class _Script:
    """A detector stub that returns one scripted shaft per frame."""

    def __init__(self, shafts: list[ShaftCandidate]) -> None:
        self.shafts = shafts
        self.min_contrast, self.max_residual_mm = 2.0, 0.35

    def follow(self, frame: Frame, prior: ShaftCandidate, **_: object) -> ShaftCandidate | None:
        return self.shafts[frame.index]

    def __call__(
        self, frame: Frame, *, prior: ShaftCandidate | None = None, **_: object
    ) -> list[ShaftCandidate]:
        return [self.shafts[frame.index]]


def _reported(shafts: list[ShaftCandidate]) -> list[bool]:
    tracker = NeedleTracker(still_ratio=0.0, detector=_Script(shafts))  # type: ignore[arg-type]
    pixels = np.zeros((50, 50), np.uint8)
    return [tracker(Frame(pixels, 0.2, 0.2, 0.05 * i, i)).visible for i in range(len(shafts))]


def test_growing_short_shaft_is_confirmed_on_its_second_frame() -> None:
    growing = [_shaft(0.0, 3.0, short=True), _shaft(0.1, 4.0, 42.0), _shaft(0.0, 5.0, 39.0)]
    assert _reported(growing) == [False, True, True]
    still = [_shaft(0.0, 4.0), _shaft(0.0, 4.1, 42.0), _shaft(0.0, 4.0, 39.0)]
    assert _reported(still) == [False, False, True]  # a short shaft that stands still needs a third frame


def test_short_shaft_that_does_not_grow_is_never_confirmed() -> None:
    assert not any(_reported([_shaft(0.0, 3.0, short=True)] * 6))
    sideways = [_shaft(0.0, 3.0, short=True), _shaft(1.0, 4.0, short=True), _shaft(0.0, 3.0, short=True)]
    assert not any(_reported(sideways))  # its start moved: not the same shaft grown
