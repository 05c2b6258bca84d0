"""Spread onset for fluid that darkens its place only slowly (a level-over-time test near the tip's path)
and for fluid ahead of a needle that is no longer seen (the tip's path reaches on along the last shaft)."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.spread import SpreadDetector, SpreadObservation

WS = 0.25  # frames are made at the working spacing, so the working image is the frame itself
ANGLE = math.radians(20.0)
START = (0.0, 20.0)  # shallow end of the shaft (x, z) in pixels
TIP_ALONG = 100.0  # the tip's distance along the shaft at the injection start, in pixels
INJECTION = 11  # the frame of the injection start
FPS = 20.0


def _point(along: float, across: float = 0.0) -> tuple[float, float]:
    """A point ``along`` the shaft line and ``across`` it (positive deeper), in pixels."""
    c, s = math.cos(ANGLE), math.sin(ANGLE)
    return START[0] + along * c - across * s, START[1] + along * s + across * c


def _frame_axes() -> tuple[np.ndarray, np.ndarray]:
    """Every pixel's distance along the shaft line and across it (positive deeper)."""
    rows, cols = np.mgrid[0:160, 0:220].astype(np.float32)
    c, s = math.cos(ANGLE), math.sin(ANGLE)
    return (cols - START[0]) * c + (rows - START[1]) * s, -(cols - START[0]) * s + (rows - START[1]) * c


def _tissue() -> np.ndarray:
    """Static speckle-like texture around grey level 120."""
    rng = np.random.default_rng(31)
    speckle = cv2.GaussianBlur(
        rng.exponential(1.0, (160, 220)).astype(np.float32), (0, 0), sigmaX=1.4, sigmaY=0.7
    )
    return np.asarray(120.0 * speckle / speckle.mean(), dtype=np.float32)


def _shaft_mm(tip_along: float) -> tuple[float, float, float, float]:
    tip = _point(tip_along)
    return (START[0] * WS + WS / 2, START[1] * WS + WS / 2, tip[0] * WS + WS / 2, tip[1] * WS + WS / 2)


def _tip_along(i: int) -> float:
    """The tip advances 2 mm per frame for 3 frames after the injection start, then rests."""
    return TIP_ALONG + 8.0 * min(max(i - INJECTION, 0), 3)


def _under_shaft() -> np.ndarray:
    """A pool 0.75-3 mm below the shaft, up to 3 mm behind where the tip was at the injection start (in the
    shaft's band; the tip then moves 6 mm on)."""
    along, across = _frame_axes()
    return np.asarray((along >= TIP_ALONG - 12.0) & (along <= TIP_ALONG) & (across >= 3) & (across <= 12))


def _look(
    detector: SpreadDetector,
    image: np.ndarray,
    i: int,
    rng: np.random.Generator,
    tip_mm: tuple[float, float],
    shaft_mm: tuple[float, float, float, float] | None,
) -> SpreadObservation:
    """Frame ``i`` (``image`` with noise) through the detector; the injection starts at ``INJECTION``."""
    noisy = np.clip(image + rng.normal(0.0, 1.0, image.shape).astype(np.float32), 0, 255)
    frame = Frame(noisy.astype(np.uint8), WS, WS, i / FPS)
    return detector(frame, tip_mm=tip_mm, shaft_mm=shaft_mm, injecting=i >= INJECTION)


def _slow(echo: list[float], *, fall_s: float = 0.25, dark_floor: bool = False) -> list[SpreadObservation]:
    """A needle at rest, learned over ``INJECTION`` frames, that moves 6 mm on after the injection start;
    from then on the pool under its shaft is ``echo[k]`` times as bright as the tissue in the k-th frame
    after the start (the last value stays)."""
    detector = SpreadDetector(work_spacing_mm=WS, fall_s=fall_s)
    tissue, pool = _tissue(), _under_shaft()
    if dark_floor:  # a structure that was dark already during the learning (a vessel, a shadow)
        tissue[pool] *= np.float32(0.3)
    rng = np.random.default_rng(32)
    seen = []
    for i in range(INJECTION + len(echo) + 3):
        shaft, tip = _shaft_mm(_tip_along(i)), _point(_tip_along(i))
        image = tissue.copy()
        if i >= INJECTION:
            image[pool] *= np.float32(echo[min(i - INJECTION, len(echo) - 1)])
        cv2.line(image, (round(START[0]), round(START[1])), (round(tip[0]), round(tip[1])), 200.0, 2)
        observation = _look(detector, image, i, rng, shaft[2:], shaft)
        if i >= INJECTION:
            seen.append(observation)
    return seen


# the pool darkens by 1.25 % of its echo per frame for 6 frames (0.3 s), 7.5 % in all: below the drop of
# the band under the shaft and far from the speckle loss of that band's texture test
SLOW = [1.0 - 0.0125 * k for k in range(7)]


def test_a_pool_that_darkens_slowly_under_the_shaft_is_found() -> None:
    seen = _slow(SLOW)
    first = next(k for k, o in enumerate(seen) if o.visible)
    assert first <= 6
    o = seen[first]
    assert math.dist((o.centre_x_mm / WS, o.centre_z_mm / WS), _point(TIP_ALONG - 6.0, 7.5)) <= 6.0


def test_without_the_level_over_time_the_slow_pool_is_missed() -> None:
    assert not any(o.visible for o in _slow(SLOW, fall_s=0.0))


@pytest.mark.parametrize(
    "echo",
    [
        [1.0],  # unchanged tissue, only noise
        [1.0, 0.97, 1.0, 0.97, 1.0, 0.97, 1.0, 0.97],  # flicker: the level rises again in between
    ],
)
def test_no_steady_fall_is_not_fluid(echo: list[float]) -> None:
    assert not any(o.visible for o in _slow(echo * (1 if len(echo) > 1 else 9)))


def test_a_slow_fall_where_the_floor_is_dark_is_not_fluid() -> None:
    assert not any(o.visible for o in _slow(SLOW, dark_floor=True))


def _lost(echo: float, *, ahead_mm: float = 15.0) -> list[SpreadObservation]:
    """The needle advances 1 mm per frame while learning, then is no longer seen (the tracker lost it)
    while it goes on 10 mm along its line; from the frame after the injection start (the learning's last)
    a pool 1.5 mm around the point 10 mm beyond the last tip seen has ``echo`` times the tissue's echo."""
    detector = SpreadDetector(work_spacing_mm=WS, ahead_mm=ahead_mm)
    tissue = _tissue()
    along, across = _frame_axes()
    last = 40.0 + 4.0 * (INJECTION - 4)
    pool = (np.abs(along - (last + 40.0)) <= 6.0) & (np.abs(across) <= 6.0)
    rng = np.random.default_rng(33)
    seen = []
    for i in range(INJECTION + 6):
        image = tissue.copy()
        if i > INJECTION:
            image[pool] *= np.float32(echo)
        shaft = _shaft_mm(40.0 + 4.0 * i) if i < INJECTION - 3 else None
        observation = _look(detector, image, i, rng, _shaft_mm(last)[2:], shaft)
        if i > INJECTION:
            seen.append(observation)
    return seen


def test_a_faint_pool_ahead_of_a_lost_needle_is_found() -> None:
    seen = _lost(0.92)
    assert all(o.visible for o in seen)


def test_without_reaching_ahead_the_pool_beyond_the_last_tip_is_missed() -> None:
    assert not any(o.visible for o in _lost(0.92, ahead_mm=0.0))


def test_unchanged_tissue_ahead_of_a_lost_needle_is_not_fluid() -> None:
    assert not any(o.visible for o in _lost(1.0))
