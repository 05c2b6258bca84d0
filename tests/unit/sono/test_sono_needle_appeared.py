"""A new track is reported on its first detection when the needle grew along its line since the frame
before while its shaft behind stayed as it was; a still structure and one moved by the probe wait for the
confirming frame."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest
from tests.unit.sono.test_sono_needle_detect_short import COLS, ROWS, SPACING_MM, _line

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleTracker

ANGLE_DEG = -40.0  # entering from the right, deeper to the left
ENTRY = (45.0, 8.0)
LEVEL = 28.0  # contrast about 3: under the strong contrast that reports a first detection at once


def _background(seed: int) -> np.ndarray:
    """Laterally elongated speckle that stays from frame to frame, as tissue under a still probe does."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, (ROWS, COLS)).astype(np.float32), (0, 0), 3.0, sigmaY=0.8)
    return np.asarray(70.0 + 10.0 * noise / float(noise.std()))


def _frame(
    base: np.ndarray,
    index: int,
    length_mm: float,
    *,
    shift_px: int = 0,
    entry: tuple[float, float] = ENTRY,
) -> Frame:
    """``base`` with a little noise of its own and a shaft of ``length_mm`` from ``entry`` (the right side),
    all moved ``shift_px`` pixels down (the probe moved)."""
    rng = np.random.default_rng(1000 + index)
    image = base + rng.normal(0.0, 1.0, base.shape)
    if length_mm > 0:
        image = image + _line(*entry, 180.0 + ANGLE_DEG, length_mm, LEVEL)
    image = np.roll(image, shift_px, axis=0)
    return Frame(np.clip(image, 0, 255).astype(np.uint8), SPACING_MM, SPACING_MM, 0.05 * index, index)


def _shown(frames: list[Frame], **options: float) -> list[bool]:
    tracker = NeedleTracker(**options)  # type: ignore[arg-type]
    out = []
    for frame in frames:
        seen = tracker(frame)
        out.append(seen.visible and abs(seen.angle_deg - ANGLE_DEG) <= 3.0)
    return out


@pytest.mark.parametrize("seed", range(3))
def test_needle_advancing_along_its_line_is_reported_on_its_first_detection(seed: int) -> None:
    base = _background(seed)
    frames = [_frame(base, i, length) for i, length in enumerate((0.0, 3.0, 6.0, 7.0, 8.0, 9.0, 10.0))]
    assert _shown(frames)[:3] == [False, False, True]
    assert _shown(frames, appeared_gain=math.inf)[:3] == [False, False, False]  # waits for a second frame
    assert _shown(frames)[3:] == [True] * 4


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("shift_px", [0, 6])
def test_still_shaft_and_one_moved_by_the_probe_wait_for_the_confirming_frame(
    seed: int, shift_px: int
) -> None:
    """The tracker forgets the track but keeps the frame before: the same shaft, in place (nothing
    changed) or 0.6 mm deeper (the probe moved: the whole shaft and its flanks changed), is not reported
    on its first detection, and is on the next one."""
    base = _background(seed)
    tracker = NeedleTracker(still_ratio=0.0)
    tracker(_frame(base, 1, 8.0))
    tracker.reset()
    first = tracker(_frame(base, 2, 8.0, shift_px=shift_px))
    second = tracker(_frame(base, 3, 8.0, shift_px=shift_px))
    assert not first.visible
    assert second.visible and abs(second.angle_deg - ANGLE_DEG) <= 3.0
