"""Spread detection behind a needle that still advances at the injection start: the fluid that came out at
the tip stays where it came out while the tip moves on, so the smaller drop near the tip counts along the
tip's whole path since the injection start."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.spread import SpreadDetector, SpreadObservation

from .shaft_scene import line_coords, point_on_line, shaft_mm, speckle_tissue

WS = 0.25  # frames are made at the working spacing, so the working image is the frame itself
ANGLE = math.radians(20.0)
START = (0.0, 20.0)  # shallow end of the shaft (x, z) in pixels
INJECTION = 11  # the frame of the injection start
SOURCE_ALONG = 100.0  # the tip's distance along the shaft at the injection start, in pixels
STEP = 8.0  # the tip advances 2 mm per frame
FLUID_FROM = 15  # the pool shows from this frame on, once the tip is 8 mm beyond where it was at the start


def _point(along: float, across: float = 0.0) -> tuple[float, float]:
    """A point ``along`` the shaft line and ``across`` it (positive deeper), in pixels."""
    return point_on_line(START, ANGLE, along, across)


def _tip_along(i: int) -> float:
    return SOURCE_ALONG + STEP * (i - INJECTION)


def _tissue() -> np.ndarray:
    """Static speckle-like texture around grey level 120."""
    return speckle_tissue(21, (160, 220))


def _pool() -> np.ndarray:
    """Where the fluid came out: 1.5-3.5 mm above the shaft, 2 mm either side of the tip at the start."""
    along, across = line_coords((160, 220), START, ANGLE)
    return np.asarray((np.abs(along - SOURCE_ALONG) <= 8.0) & (across >= -14.0) & (across <= -6.0))


def _run(echo: float, *, jump: bool = False, tip_path: bool = True) -> list[SpreadObservation]:
    """Learn on 11 frames while the needle advances, signal the injection start, go on advancing; from
    ``FLUID_FROM`` on the pool's echo is ``echo`` times the tissue's. With ``jump`` the tracker reports a
    needle on another line after the start (the path of the tip is then not followed). The places kept
    unopened near where the tip was at the start (``behind_mm``, tested in test_sono_spread_left_behind.py)
    are turned off: the edge of the pool reaches the band along the shaft there."""
    detector = SpreadDetector(work_spacing_mm=WS, tip_path=tip_path, behind_mm=0.0)
    tissue, pool = _tissue(), _pool()
    rng = np.random.default_rng(22)
    seen = []
    for i in range(FLUID_FROM + 4):
        image = tissue.copy()
        if i >= FLUID_FROM:
            image[pool] *= np.float32(echo)
        start, tip = START, _point(_tip_along(i))
        cv2.line(image, (round(start[0]), round(start[1])), (round(tip[0]), round(tip[1])), 200.0, 2)
        if jump and i > INJECTION:
            start, tip = (0.0, 150.0), (60.0, 130.0)
        noisy = np.clip(image + rng.normal(0.0, 1.5, image.shape).astype(np.float32), 0, 255)
        shaft = shaft_mm(start, tip, WS)
        observation = detector(
            Frame(noisy.astype(np.uint8), WS, WS, i / 20.0),
            tip_mm=shaft[2:],
            shaft_mm=shaft,
            injecting=i >= INJECTION,
        )
        if i >= FLUID_FROM:
            seen.append(observation)
    return seen


def test_the_pool_is_more_than_the_near_tip_radius_behind_the_tip() -> None:
    nearest = min(
        math.dist((x, z), _point(_tip_along(FLUID_FROM))) for z, x in zip(*np.nonzero(_pool()), strict=True)
    )
    assert nearest * WS > SpreadDetector().near_tip_mm


def test_a_faint_pool_left_behind_by_the_advancing_tip_is_found() -> None:
    seen = _run(0.9)
    assert all(o.visible for o in seen)
    source = _point(SOURCE_ALONG, -10.0)
    assert all(math.dist((o.centre_x_mm / WS, o.centre_z_mm / WS), source) <= 8.0 for o in seen)


@pytest.mark.parametrize(
    ("jump", "tip_path"),
    [
        (False, False),  # only around the last tip
        (True, True),  # the needle seen now lies on another line: its tip did not come from there
    ],
)
def test_without_the_path_the_faint_pool_behind_is_missed(jump: bool, tip_path: bool) -> None:
    assert not any(o.visible for o in _run(0.9, jump=jump, tip_path=tip_path))


def test_a_clear_pool_behind_the_tip_is_found_without_the_path() -> None:
    assert all(o.visible for o in _run(0.5, tip_path=False))


def test_unchanged_tissue_along_the_path_is_not_fluid() -> None:
    assert not any(o.visible for o in _run(1.0))
