"""A shaft that has just entered from the side is reported on its first detection when it grew along its
line since the frame before (its stretch before the tip new, its start as it was); the same short shaft
standing still since the frame before waits until it grows."""

from __future__ import annotations

import math

import numpy as np
import pytest
from tests.unit.sono.test_sono_needle_entering import ANGLE_DEG, ENTRY_Z_MM, _frame

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleDetector, NeedleTracker

SHORT_MM = 3.8  # returned only as just entered (under the detector's min_length_mm)
BEFORE_MM = 1.8  # the frame before: too short to be returned


def _noisy(seed: int, length_mm: float, index: int) -> Frame:
    """The same still speckle in every frame, with a little noise of the frame's own."""
    frame = _frame(seed, length_mm, index=index)
    rng = np.random.default_rng(1000 + index)
    image = np.clip(frame.pixels + rng.normal(0.0, 1.0, frame.pixels.shape), 0, 255).astype(np.uint8)
    return Frame(image, frame.row_spacing_mm, frame.col_spacing_mm, frame.time_s, index)


def _seen(tracker: NeedleTracker, frame: Frame) -> bool:
    """Whether the shaft of :data:`SHORT_MM` is reported, its tip within 1 mm (a short shaft's fitted angle
    may be several degrees off)."""
    shown = tracker(frame)
    theta = math.radians(ANGLE_DEG)
    tip = (SHORT_MM * math.cos(theta), ENTRY_Z_MM + SHORT_MM * math.sin(theta))
    return shown.visible and math.dist((shown.tip_x_mm, shown.tip_z_mm), tip) <= 1.0


@pytest.mark.parametrize("seed", range(3))
def test_shaft_entering_since_the_frame_before_is_reported_on_its_first_detection(seed: int) -> None:
    first = _noisy(seed, SHORT_MM, 1)
    assert any(c.short for c in NeedleDetector()(first))  # only as a just-entered shaft
    tracker = NeedleTracker()
    assert not _seen(tracker, _noisy(seed, BEFORE_MM, 0))
    assert _seen(tracker, first)
    off = NeedleTracker(appeared_entering=False)  # waits for the shaft to grow in the next frame
    assert [_seen(off, _noisy(seed, BEFORE_MM, 0)), _seen(off, first)] == [False, False]


@pytest.mark.parametrize("seed", range(3))
def test_short_shaft_standing_still_is_not_reported_on_its_first_detection(seed: int) -> None:
    """The tracker forgets the track but keeps the frame before: the same short shaft in place has not
    appeared, and a just-entered shaft that has not grown is not confirmed."""
    tracker = NeedleTracker()
    tracker(_noisy(seed, SHORT_MM, 0))
    tracker.reset()
    assert not any(_seen(tracker, _noisy(seed, SHORT_MM, i)) for i in range(1, 4))
    assert math.isfinite(tracker.appeared_gain)
