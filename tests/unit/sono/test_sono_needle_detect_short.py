"""A short shaft that has just entered from the side, outvoted in the Hough vote by longer flat layers."""

from __future__ import annotations

from functools import partial

import cv2
import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleDetector, NeedleTracker, ShaftCandidate
from painguide.sono.ridge import oriented_hough, ridge_response

from .shaft_scene import bright_line, starts_on

SPACING_MM = 0.1
ROWS, COLS = 400, 450  # 40 x 45 mm
NEEDLE_ANGLE_DEG = -40.0  # entering from the right, deeper to the left
NEEDLE_ENTRY = (45.0, 10.0)


def _line(x0: float, z0: float, angle_deg: float, length_mm: float, level: float) -> np.ndarray:
    """A bright line of 0.25 mm half-width from (x0, z0) (mm) in the direction ``angle_deg``."""
    return bright_line((ROWS, COLS), SPACING_MM, x0, z0, angle_deg, length_mm, level)


def _frame(seed: int, *, index: int = 0, needle: bool = True) -> Frame:
    """Laterally elongated speckle, seven long flat layers entering from the left and a 6 mm needle
    at 40 degrees entering from the right (a shaft that has just come in)."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, (ROWS, COLS)).astype(np.float32), (0, 0), 3.0, sigmaY=0.8)
    image = 70.0 + 10.0 * noise / float(noise.std())
    for k in range(7):
        image += _line(0.0, 6.0 + 4.0 * k, 10.0 + 0.5 * k, 30.0, 45.0)
    if needle:
        image += _line(*NEEDLE_ENTRY, 180.0 + NEEDLE_ANGLE_DEG, 6.0, 34.0)
    return Frame(np.clip(image, 0, 255).astype(np.uint8), SPACING_MM, SPACING_MM, 0.05 * index, index)


def _needle(candidates: list[ShaftCandidate]) -> list[ShaftCandidate]:
    return [c for c in candidates if starts_on(c, NEEDLE_ENTRY, NEEDLE_ANGLE_DEG)]


@pytest.mark.parametrize("seed", range(4))
def test_short_shaft_outvoted_by_long_layers_is_proposed_by_the_side_vote(seed: int) -> None:
    frame = _frame(seed)
    assert not _needle(NeedleDetector(side_lines=0)(frame))  # the main vote takes the seven layers
    found = _needle(NeedleDetector()(frame))
    assert found
    assert 4.0 <= found[0].length_mm <= 7.0


def test_still_short_shaft_is_tracked() -> None:
    """The still shaft is reported once confirmed; without the side vote the tracker follows a layer."""

    def tracked(detector: NeedleDetector) -> list[bool]:
        tracker = NeedleTracker(still_ratio=0.0, detector=detector)
        shown = []
        for i in range(6):
            seen = tracker(_frame(100 + i, index=i))
            shown.append(seen.visible and abs(seen.angle_deg - NEEDLE_ANGLE_DEG) <= 3.0)
        return shown

    assert tracked(NeedleDetector())[-3:] == [True, True, True]
    assert not any(tracked(NeedleDetector(side_lines=0)))


def test_side_vote_adds_no_candidate_without_a_needle() -> None:
    for seed in range(200, 203):
        frame = _frame(seed, needle=False)
        assert NeedleDetector()(frame) == NeedleDetector(side_lines=0)(frame)


def test_vote_region_limits_the_voting_pixels() -> None:
    frame = _frame(0)
    work = NeedleDetector().working(frame)
    strength, angle = ridge_response(work)
    left = np.zeros(work.shape, dtype=bool)
    left[:, : work.shape[1] // 4] = True
    vote = partial(oriented_hough, strength, angle, angle_range_deg=(8.0, 75.0), max_lines=3)
    everywhere, inside, outside = vote(), vote(region=left), vote(region=np.zeros_like(left))
    assert everywhere and inside and not outside
    assert all(line.score <= max(e.score for e in everywhere) for line in inside)
