"""Spread detection near a tip at rest over tissue whose learned floor is black: a needle that came to rest
over a bone's shadow just before the injection start raises the level there by its own echo, and fluid
under it lowers that level again but never below the black floor. The level since the tip came to rest
is the reference there."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.spread import SpreadDetector, SpreadObservation

from .shaft_scene import shaft_mm, speckle_tissue

WS = 0.25  # frames are made at the working spacing, so the working image is the frame itself
SHAPE = (200, 240)
ANGLE = math.radians(35.0)
START = (0.0, 10.0)  # shallow end of the shaft (x, z) in pixels
TIP = (START[0] + 157.0 * math.cos(ANGLE), START[1] + 157.0 * math.sin(ANGLE))  # at the shadow's top
SHADOW = (slice(int(TIP[1]) - 2, SHAPE[0]), slice(100, 200))  # black while learning (grey 2)
ARRIVE = 26  # the needle comes to rest from this frame on, 0.2 s before the injection start
INJECTION = 30  # the frame of the injection start (1.5 s of learning)
FLUID_FROM = 33  # the pool shows from this frame on
HAZE = 45.0  # the needle's echo in the shadow within 6 mm of the tip
POOL_CENTRE = (TIP[0] - 2.0, TIP[1] + 6.0)  # 1.6 mm below the tip
POOL_RADIUS = 8.0


def _black(lumen: bool) -> np.ndarray:
    """The shadow (to the bottom of the image), or, with ``lumen``, a closed lumen under the tip instead."""
    zz, xx = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    if lumen:
        return np.asarray((xx - TIP[0]) ** 2 + (zz - TIP[1] - 20.0) ** 2 <= 22.0**2)
    shadow = np.zeros(SHAPE, bool)
    shadow[SHADOW] = True
    return shadow


def _tissue(lumen: bool = False) -> np.ndarray:
    """Static speckle-like texture around grey level 120, black in the shadow (or the lumen)."""
    image = speckle_tissue(41, SHAPE)
    image[_black(lumen)] = 2.0
    return image


def _masks(lumen: bool = False) -> tuple[np.ndarray, np.ndarray]:
    zz, xx = np.mgrid[0 : SHAPE[0], 0 : SHAPE[1]]
    shadow = _black(lumen)
    haze = shadow & ((xx - TIP[0]) ** 2 + (zz - TIP[1]) ** 2 <= 24.0**2)
    pool = (xx - POOL_CENTRE[0]) ** 2 + (zz - POOL_CENTRE[1]) ** 2 <= POOL_RADIUS**2
    return haze, pool & haze


def _run(
    echo: float, *, pulsing: bool = False, lumen: bool = False, **settings: float | bool
) -> list[SpreadObservation]:
    """Learn with the shadow empty (or, ``pulsing``, filled by tissue every other frame, as a vessel wall
    that moves in and out), bring the needle to rest over the shadow at ``ARRIVE`` (its echo there:
    ``HAZE``), signal the injection start at ``INJECTION`` and from ``FLUID_FROM`` on lower the haze over
    the pool to ``echo`` times its level. ``lumen``: the black place is a closed lumen, not a shadow."""
    detector = SpreadDetector(work_spacing_mm=WS, **settings)  # type: ignore[arg-type]
    tissue = _tissue(lumen)
    haze, pool = _masks(lumen)
    rng = np.random.default_rng(42)
    seen = []
    for i in range(FLUID_FROM + 4):
        image = tissue.copy()
        if pulsing and i < ARRIVE and i % 2:
            image[haze] = 120.0
        shaft = tip = None
        if i >= ARRIVE:
            image[haze] = HAZE
            cv2.line(image, (round(START[0]), round(START[1])), (round(TIP[0]), round(TIP[1])), 200.0, 2)
            shaft = shaft_mm(START, TIP, WS)
            tip = shaft[2:]
        if i >= FLUID_FROM:
            image[pool] = np.float32(HAZE * echo)
        noisy = np.clip(image + rng.normal(0.0, 1.5, image.shape).astype(np.float32), 0, 255)
        frame = Frame(noisy.astype(np.uint8), WS, WS, i / 20.0)
        observation = detector(frame, tip_mm=tip, shaft_mm=shaft, injecting=i >= INJECTION)
        if i >= FLUID_FROM:
            seen.append(observation)
    return seen


def test_fluid_under_a_tip_at_rest_over_a_black_floor_is_found() -> None:
    seen = _run(0.8)
    assert all(o.visible for o in seen[1:])
    centres = [(o.centre_x_mm / WS, o.centre_z_mm / WS) for o in seen[1:]]
    assert all(math.dist(centre, POOL_CENTRE) <= POOL_RADIUS for centre in centres)


def test_without_the_level_at_rest_the_pool_over_a_black_floor_is_missed() -> None:
    assert not any(o.visible for o in _run(0.8, rest_drop=0.0))


@pytest.mark.parametrize(
    ("echo", "settings"),
    [
        (1.0, {}),  # the needle's echo stays: no fluid
        (0.95, {}),  # a fall of 2 grey levels, under the margin
        (0.8, {"rest_frames": 12}),  # the level at rest is not set yet
    ],
)
def test_a_steady_level_at_rest_is_not_fluid(echo: float, settings: dict) -> None:
    assert not any(o.visible for o in _run(echo, **settings))


def test_a_place_that_pulsed_while_learning_is_not_tested() -> None:
    assert not any(o.visible for o in _run(0.8, pulsing=True))


def test_a_fall_inside_the_lumen_that_holds_the_tip_is_not_tested_against_the_level_at_rest() -> None:
    """In a vessel's lumen the level since the tip came to rest moves with the pulse and the flow: a fall
    there is not a pool (an intravascular injection shows none), so the lumens of the floor are left out of
    that test (``rest_in_lumens``); a shadow that reaches the bottom of the image is not a lumen (above)."""
    assert not any(o.visible for o in _run(0.8, lumen=True))
    assert any(o.visible for o in _run(0.8, lumen=True, rest_in_lumens=True))
