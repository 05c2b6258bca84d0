"""A flat needle entering at the image side deeper than the skin-distance convention allows (its skin entry
would lie more than 60 mm from the probe) is returned as just entered and confirmed as it grows along its
line; the same line standing still at the image side (the flank of a bone surface) is never reported."""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleDetector, NeedleTracker, ShaftCandidate

SPACING_MM = 0.1
ROWS, COLS = 300, 400  # 30 x 40 mm
ANGLE_DEG = 11.0
ENTRY_Z_MM = 21.0  # deeper than 4 mm + 60 mm * tan(11 degrees) = 15.7 mm at the image side
GROWING_MM = (2.0, 4.5, 6.0, 7.5, 7.5, 7.5, 7.5, 7.5)  # enters, then stops


def _frame(seed: int, length_mm: float, index: int) -> Frame:
    """The same still speckle in every frame (a little noise of the frame's own) with a bright straight
    shaft of ``length_mm`` from the left side at :data:`ENTRY_Z_MM`."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, (ROWS, COLS)).astype(np.float32), (0, 0), 3.0, sigmaY=0.8)
    image = 70.0 + 10.0 * noise / float(noise.std())
    image += np.random.default_rng(1000 + index).normal(0.0, 1.0, image.shape)
    zz, xx = np.mgrid[0:ROWS, 0:COLS] * SPACING_MM
    d = (math.cos(math.radians(ANGLE_DEG)), math.sin(math.radians(ANGLE_DEG)))
    along = xx * d[0] + (zz - ENTRY_Z_MM) * d[1]
    across = -xx * d[1] + (zz - ENTRY_Z_MM) * d[0]
    image += 60.0 * np.exp(-0.5 * (across / 0.25) ** 2) * ((along >= 0) & (along <= length_mm))
    return Frame(np.clip(image, 0, 255).astype(np.uint8), SPACING_MM, SPACING_MM, 0.05 * index, index)


def _needle(candidates: list[ShaftCandidate]) -> list[ShaftCandidate]:
    return [c for c in candidates if abs(c.angle_deg - ANGLE_DEG) <= 3.0 and c.start_x_mm <= 1.0]


def _seen(tracker: NeedleTracker, frame: Frame, length_mm: float) -> bool:
    """Whether the shaft is reported with its tip within 1 mm."""
    shown = tracker(frame)
    theta = math.radians(ANGLE_DEG)
    tip = (length_mm * math.cos(theta), ENTRY_Z_MM + length_mm * math.sin(theta))
    return shown.visible and math.dist((shown.tip_x_mm, shown.tip_z_mm), tip) <= 1.0


@pytest.mark.parametrize("seed", range(3))
def test_deep_flat_shaft_at_the_side_is_returned_only_as_just_entered(seed: int) -> None:
    frame = _frame(seed, 7.0, 0)
    found = _needle(NeedleDetector()(frame))
    assert found and all(c.short for c in found)
    anywhere = _needle(NeedleDetector(max_skin_distance_mm=math.inf)(frame))
    assert anywhere and not any(c.short for c in anywhere)  # only the skin-distance convention held it


@pytest.mark.parametrize("seed", range(3))
def test_deep_flat_needle_entering_at_the_side_is_reported_once_it_grew(seed: int) -> None:
    tracker = NeedleTracker()
    seen = [_seen(tracker, _frame(seed, length, i), length) for i, length in enumerate(GROWING_MM)]
    assert not seen[0]  # too short to be returned
    assert all(seen[2:])  # grown along its line since the frame before, and held once it stopped


@pytest.mark.parametrize("seed", range(3))
def test_deep_flat_line_standing_still_at_the_side_is_not_reported(seed: int) -> None:
    tracker = NeedleTracker()
    assert not any(_seen(tracker, _frame(seed, 7.0, i), 7.0) for i in range(8))


def _line(
    start_mm: tuple[float, float], angle_deg: float, length_mm: float, contrast: float = 5.0, **flags: bool
) -> ShaftCandidate:
    """A straight shaft of ``length_mm`` from ``start_mm`` (x, z) at ``angle_deg`` (0.05 mm RMS)."""
    t = math.radians(angle_deg)
    sign = 1.0 if angle_deg > 0 else -1.0
    tip = (start_mm[0] + sign * length_mm * math.cos(t), start_mm[1] + length_mm * abs(math.sin(t)))
    return ShaftCandidate(*start_mm, *tip, angle_deg, contrast, 0.05, **flags)


def test_only_a_straight_shaft_at_the_side_is_returned_for_its_depth() -> None:
    detector = NeedleDetector()
    frame = _frame(0, 2.0, 0)
    deep = _line((0.2, ENTRY_Z_MM), ANGLE_DEG, 7.0)
    assert detector._entering_deep(deep, frame)
    assert not detector._entering_deep(replace(deep, residual_mm=0.2), frame)  # a bone flank or speckle chain
    inside = _line((3.0, ENTRY_Z_MM), ANGLE_DEG, 7.0)
    assert not detector._entering_deep(inside, frame)  # begins inside the image: it did not enter there


class _Script:
    """A detector stub that returns scripted shafts per frame (the same along a tracked line)."""

    def __init__(self, frames: list[list[ShaftCandidate]]) -> None:
        self.frames = frames
        self.min_contrast, self.max_residual_mm = 2.0, 0.35

    def follow(self, frame: Frame, prior: ShaftCandidate, **_: object) -> ShaftCandidate | None:
        return None

    def __call__(self, frame: Frame, **_: object) -> list[ShaftCandidate]:
        return list(self.frames[frame.index])


def _reported(frames: list[list[ShaftCandidate]]) -> list[float]:
    """The tip x reported in each frame (nan when nothing is)."""
    tracker = NeedleTracker(detector=_Script(frames))  # type: ignore[arg-type]
    pixels = np.zeros((50, 50), np.uint8)
    return [tracker(Frame(pixels, 0.2, 0.2, 0.05 * i, i)).tip_x_mm for i in range(len(frames))]


def test_still_deep_line_does_not_hold_off_or_end_a_needle_track() -> None:
    """A still straight line deep at the right side, returned for its depth in every frame and ranked first,
    neither keeps a needle entering from the left from being confirmed nor ends its track in a frame where
    the needle is not found."""
    flank = _line((39.8, 40.0), -10.0, 11.0, short=True, deep=True)
    needle = _line((0.2, 6.0), 40.0, 12.0, 3.0)  # not strong enough to be reported at once
    frames = [[flank], [flank, needle], [flank, needle], [flank, needle], [flank], [flank, needle]]
    shown = _reported(frames)
    assert all(math.isnan(x) for x in shown[:2])
    assert all(math.isclose(x, needle.tip_x_mm) for x in shown[2:4])  # confirmed on its second frame
    assert math.isnan(shown[4])  # a miss, not a new track on the flank
    assert math.isclose(shown[5], needle.tip_x_mm)  # the same track goes on, without new confirming frames


def _sliding(seed: int, index: int) -> Frame:
    """A still flat straight line deep at the left side, beyond which the probe slides 0.5 mm a frame: the
    line's part in the image grows along it from the side as a needle entering there would, but the tissue
    around it moves with it."""
    pad = 60
    rng = np.random.default_rng(seed)
    shape = (ROWS, COLS + pad)
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, shape).astype(np.float32), (0, 0), 3.0, sigmaY=0.8)
    image = 70.0 + 10.0 * noise / float(noise.std())
    zz, xx = np.mgrid[0 : shape[0], 0 : shape[1]] * SPACING_MM
    d = (math.cos(math.radians(ANGLE_DEG)), math.sin(math.radians(ANGLE_DEG)))
    along = xx * d[0] + (zz - ENTRY_Z_MM) * d[1]
    across = -xx * d[1] + (zz - ENTRY_Z_MM) * d[0]
    image += 60.0 * np.exp(-0.5 * (across / 0.25) ** 2) * (along <= pad * SPACING_MM + 2.0)
    left = pad - 5 * index  # the window moves 0.5 mm a frame towards the line's end
    window = image[:, left : left + COLS] + np.random.default_rng(1000 + index).normal(0.0, 1.0, (ROWS, COLS))
    return Frame(np.clip(window, 0, 255).astype(np.uint8), SPACING_MM, SPACING_MM, 0.05 * index, index)


@pytest.mark.parametrize("seed", range(3))
def test_deep_flat_line_sliding_in_with_the_probe_is_not_reported(seed: int) -> None:
    """Growth alone does not confirm a shaft returned for its depth: only a frame in which it appeared (its
    stretch before the tip new, its first half and its flanks as they were) does."""
    tracker = NeedleTracker()
    shown = [tracker(_sliding(seed, i)) for i in range(10)]
    assert not any(s.visible for s in shown)
