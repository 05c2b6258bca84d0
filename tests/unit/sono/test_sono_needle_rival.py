"""A short false track does not hold while a much longer, stronger needle enters elsewhere."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleObservation, NeedleTracker, ShaftCandidate

from .shaft_scene import bright_line

SPACING_MM = 0.1
ROWS, COLS = 350, 400  # 35 x 40 mm
LINE = (3.0, 4.0, 15.0, 4.0)  # a short bright line near the left side: x0, z0 (mm), angle, length (mm)
NEEDLE_ANGLE_DEG = -13.0  # entering at the right edge, deeper to the left
ENTRY = (40.0, 8.0)
SPEED_MM = 1.2  # per frame, from frame 6 on


def _tip(index: int) -> tuple[float, float, float]:
    """Length inside the image and tip (x, z) of the needle in frame ``index``."""
    length = max(0.0, (index - 5) * SPEED_MM)
    theta = math.radians(180.0 + NEEDLE_ANGLE_DEG)
    return length, ENTRY[0] + length * math.cos(theta), ENTRY[1] + length * math.sin(theta)


def _frame(index: int, seed: int) -> Frame:
    rng = np.random.default_rng(seed * 1000 + index)
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, (ROWS, COLS)).astype(np.float32), (0, 0), 2.0, sigmaY=0.8)
    image = 80.0 + 10.0 * noise / float(noise.std())
    image += bright_line((ROWS, COLS), SPACING_MM, LINE[0], LINE[1], LINE[2], LINE[3], 75.0)
    length, _, _ = _tip(index)
    if length > 0:
        image += bright_line((ROWS, COLS), SPACING_MM, *ENTRY, 180.0 + NEEDLE_ANGLE_DEG, length, 90.0)
    return Frame(np.clip(image, 0, 255).astype(np.uint8), SPACING_MM, SPACING_MM, index / 15.0, index)


def _run(seed: int, **settings: float) -> list[NeedleObservation]:
    tracker = NeedleTracker(**settings)  # type: ignore[arg-type]
    return [tracker(_frame(i, seed)) for i in range(30)]


def _on_needle(seen: NeedleObservation, index: int) -> bool:
    _, x, z = _tip(index)
    return seen.visible and math.hypot(seen.tip_x_mm - x, seen.tip_z_mm - z) <= 1.0


def _on_line(seen: NeedleObservation) -> bool:
    return seen.visible and abs(seen.angle_deg - LINE[2]) <= 4.0


@pytest.mark.parametrize("seed", [1, 2, 4])
def test_a_needle_twice_as_long_and_strong_takes_the_place_of_a_short_track(seed: int) -> None:
    held = _run(seed, rival_every=0)
    assert _on_line(held[5])  # the short line was a confirmed track before the needle came
    assert all(_on_line(s) for s in held[20:])  # searched along its own line only, it holds
    switched = _run(seed)
    assert _on_line(switched[5])
    taken = next(i for i, s in enumerate(switched) if _on_needle(s, i))
    assert _tip(taken)[0] <= 22.0  # within a few checks of the needle being twice as long and strong
    assert all(_on_needle(s, i) for i, s in enumerate(switched) if i >= taken + 1)


def test_a_needle_not_much_longer_than_the_track_does_not_take_its_place() -> None:
    """Only a shaft at least ``rival_ratio`` times as long and as strong wins: a true short needle is not
    left for a structure only somewhat longer."""
    seen = _run(1, rival_ratio=20.0)
    assert all(_on_line(s) for s in seen[5:])


class _Rival:
    """A detector stub: along the track it finds the short shaft; the whole-frame search returns the short
    one in the first 3 frames (it becomes the track), then a long shaft elsewhere (best first) besides it."""

    def __init__(self, short: ShaftCandidate, long: ShaftCandidate) -> None:
        self.short, self.long = short, long
        self.min_contrast, self.max_residual_mm = 2.0, 0.35

    def follow(self, frame: Frame, prior: ShaftCandidate, **_: object) -> ShaftCandidate | None:
        return self.short

    def __call__(
        self, frame: Frame, *, prior: ShaftCandidate | None = None, **_: object
    ) -> list[ShaftCandidate]:
        return [self.short] if prior is not None or frame.index < 3 else [self.long, self.short]


def _stub_run(entered_at: int) -> list[NeedleObservation]:
    """The long shaft's line shows in the image from frame ``entered_at`` on (0: there all along)."""
    short = ShaftCandidate(3.0, 4.0, 3.0 + 4.0 * math.cos(0.26), 4.0 + 4.0 * math.sin(0.26), 15.0, 3.0, 0.2)
    theta = math.radians(180.0 + NEEDLE_ANGLE_DEG)
    tip = (ENTRY[0] + 25.0 * math.cos(theta), ENTRY[1] + 25.0 * math.sin(theta))
    long = ShaftCandidate(*ENTRY, tip[0], tip[1], NEEDLE_ANGLE_DEG, 6.0, 0.1)
    tracker = NeedleTracker(still_ratio=0.0, detector=_Rival(short, long))  # type: ignore[arg-type]
    rng = np.random.default_rng(7)
    tissue = 80.0 + 10.0 * rng.standard_normal((ROWS, COLS)).astype(np.float32)
    line = bright_line((ROWS, COLS), SPACING_MM, *ENTRY, 180.0 + NEEDLE_ANGLE_DEG, 25.0, 90.0)
    seen = []
    for i in range(30):
        image = tissue + 3.0 * rng.standard_normal((ROWS, COLS)).astype(np.float32)  # still, with noise
        if i >= entered_at:
            image += line
        pixels = np.clip(image, 0, 255).astype(np.uint8)
        seen.append(tracker(Frame(pixels, SPACING_MM, SPACING_MM, i / 15, i)))
    return seen


def test_a_rival_that_was_there_all_along_does_not_take_the_place_of_the_track() -> None:
    """A still structure, however long and strong, has not changed the image on its line since the tracker
    first looked; a needle that entered since has."""
    still = _stub_run(entered_at=0)
    assert all(_on_line(s) for s in still[3:])
    entered = _stub_run(entered_at=10)
    assert all(_on_line(s) for s in entered[3:10])
    assert any(s.visible and abs(s.angle_deg - NEEDLE_ANGLE_DEG) <= 1.0 for s in entered[10:])


def test_crossing_tells_shafts_that_cross_from_those_that_do_not() -> None:
    from painguide.sono.needle import _crossing

    def shaft(x0: float, z0: float, x1: float, z1: float) -> ShaftCandidate:
        return ShaftCandidate(x0, z0, x1, z1, math.degrees(math.atan2(z1 - z0, x1 - x0)), 2.0, 0.1)

    assert _crossing(shaft(0, 0, 10, 10), shaft(0, 10, 10, 0))
    assert not _crossing(shaft(0, 0, 10, 10), shaft(0, 1, 10, 11))  # parallel
    assert not _crossing(shaft(0, 0, 4, 4), shaft(0, 10, 10, 0))  # would cross beyond the first's end
    assert _crossing(shaft(0, 0, 5, 5), shaft(0, 10, 10, 0))  # touching at the end


def _crossing_run(short_start: tuple[float, float], crossing_mm: float) -> list[NeedleObservation]:
    """A 12 mm track (longer than ``rival_below_mm``) and, from frame 10, a 36 mm needle entering at the right
    edge, three times as long but only 1.15 times as strong, that crosses the track or not."""
    angle = math.radians(15.0)
    short = ShaftCandidate(
        *short_start,
        short_start[0] + 12.0 * math.cos(angle),
        short_start[1] + 12.0 * math.sin(angle),
        15.0,
        3.0,
        0.2,
    )
    theta = math.radians(180.0 + NEEDLE_ANGLE_DEG)
    tip = (ENTRY[0] + 36.0 * math.cos(theta), ENTRY[1] + 36.0 * math.sin(theta))
    long = ShaftCandidate(*ENTRY, tip[0], tip[1], NEEDLE_ANGLE_DEG, 2.0, 0.1)
    tracker = NeedleTracker(still_ratio=0.0, detector=_Rival(short, long), rival_crossing_mm=crossing_mm)  # type: ignore[arg-type]
    rng = np.random.default_rng(7)
    tissue = 80.0 + 10.0 * rng.standard_normal((ROWS, COLS)).astype(np.float32)
    line = bright_line((ROWS, COLS), SPACING_MM, *ENTRY, 180.0 + NEEDLE_ANGLE_DEG, 36.0, 90.0)
    seen = []
    for i in range(30):
        image = tissue + 3.0 * rng.standard_normal((ROWS, COLS)).astype(np.float32)
        if i >= 10:
            image += line
        seen.append(
            tracker(Frame(np.clip(image, 0, 255).astype(np.uint8), SPACING_MM, SPACING_MM, i / 15, i))
        )
    return seen


@pytest.mark.parametrize("crossing_mm", [15.0, 0.0])
def test_a_longer_needle_crossing_a_track_takes_its_place(crossing_mm: float) -> None:
    """``sono simulate --seed 47``: a 10 mm line of speckle crossing a faint needle where it enters became the
    track, and the needle, 37 mm long but only 1.6 times as strong, never took over. A shaft three times as
    long that crosses the track takes its place with ``rival_crossing_mm`` (the two cannot both be the
    needle); one that does not cross it, or without the option, does not."""
    switched = any(
        s.visible and abs(s.angle_deg - NEEDLE_ANGLE_DEG) <= 1.0
        for s in _crossing_run((25.0, 6.0), crossing_mm)[10:]
    )
    assert switched == (crossing_mm > 0)
    apart = _crossing_run((3.0, 4.0), crossing_mm)
    assert not any(s.visible and abs(s.angle_deg - NEEDLE_ANGLE_DEG) <= 1.0 for s in apart[10:])
