"""Fluid under the shaft found over time: a place in the band below the shaft whose level falls below its own
earlier level there counts as fluid, although it lies less than the whole drop margin below the rest of the
band (a small pool under a shaft that still advances) and the floor learned before the needle came is far
below it (the shaft's reverberations)."""

from __future__ import annotations

import math

import numpy as np

from painguide.sono.frames import Frame
from painguide.sono.spread import SpreadDetector, SpreadObservation

from .shaft_scene import line_coords, point_on_line, shaft_mm, speckle_tissue

WS = 0.25  # frames are made at the working spacing, so the working image is the frame itself
ANGLE = math.radians(15.0)
START = (0.0, 30.0)  # shallow end of the shaft (x, z) in pixels
INJECTION = 10  # the frame of the injection start: the tip has just passed the pool's place
FLUID_FROM = 14  # the pool darkens from this frame on
FRAMES = 20


def _point(along: float, across: float = 0.0) -> tuple[float, float]:
    """A point ``along`` the shaft line and ``across`` it (positive deeper), in pixels."""
    return point_on_line(START, ANGLE, along, across)


def _tip_along(i: int) -> float:
    """The tip reaches 124 pixels along the shaft at the injection start and advances 0.5 mm per frame."""
    return 124.0 + 2.0 * (i - INJECTION)


def _tissue() -> np.ndarray:
    """Static speckle-like texture around grey level 120."""
    return speckle_tissue(31, (180, 240))


def _across_along() -> tuple[np.ndarray, np.ndarray]:
    return line_coords((180, 240), START, ANGLE)


def _run(
    echo: float,
    *,
    fall_drop: float = 0.5,
    bright_until: int = -1,
    pulse: bool = False,
    fall_steady: float = 0.25,
) -> list[SpreadObservation]:
    """Learn on 10 frames while the needle advances, signal the injection start, go on advancing. The shaft
    is a bright line with two reverberations below it (1 mm and 2 mm down). From ``FLUID_FROM`` on, the
    tissue 1.25-2.25 mm below the shaft, 100-116 pixels along it, has ``echo`` times its echo. Until frame
    ``bright_until`` from the injection start on, that place is brighter (a vessel wall that came and
    moves away). With ``pulse`` the place's echo swings between 0.85 and 1.3 times the tissue's every 6
    frames, from the first frame on (a pulsating vessel wall)."""
    detector = SpreadDetector(work_spacing_mm=WS, fall_drop=fall_drop, fall_steady=fall_steady)
    tissue = _tissue()
    along, across = _across_along()
    place = (along >= 100.0) & (along <= 116.0) & (across >= 5.0) & (across <= 9.0)
    rng = np.random.default_rng(32)
    seen = []
    for i in range(FRAMES):
        image = tissue.copy()
        if i >= FLUID_FROM:
            image[place] *= np.float32(echo)
        if pulse:
            image[place] *= np.float32(1.075 + 0.225 * math.sin(2.0 * math.pi * i / 6.0))
        if INJECTION <= i <= bright_until:
            image[place] *= np.float32(1.4)
        tip_along = _tip_along(i)
        behind = (along >= 0.0) & (along <= tip_along)
        for depth, level in ((0.0, 90.0), (4.0, 45.0), (8.0, 25.0)):
            image[behind & (np.abs(across - depth) <= 1.0)] += np.float32(level)
        noisy = np.clip(image + rng.normal(0.0, 1.5, image.shape).astype(np.float32), 0, 255)
        tip = _point(tip_along)
        shaft = shaft_mm(START, tip, WS)
        observation = detector(
            Frame(noisy.astype(np.uint8), WS, WS, i / 15.0),
            tip_mm=shaft[2:],
            shaft_mm=shaft,
            injecting=i >= INJECTION,
        )
        if i >= INJECTION:
            seen.append(observation)
    return seen


def test_a_pool_darkening_under_the_shaft_is_found_against_its_own_earlier_level() -> None:
    seen = _run(0.9)
    assert not any(o.visible for o in seen[: FLUID_FROM - INJECTION])
    assert seen[FLUID_FROM - INJECTION].visible  # on the pool's first frame
    hit = next(o for o in seen if o.visible)
    centre = _point(108.0, 7.0)
    assert math.hypot(hit.centre_x_mm - centre[0] * WS, hit.centre_z_mm - centre[1] * WS) < 3.0


def test_without_the_fall_test_the_same_pool_is_found_later() -> None:
    seen = _run(0.9, fall_drop=0.0)
    assert not any(o.visible for o in seen[: FLUID_FROM - INJECTION + 3])


def test_unchanged_tissue_under_the_shaft_is_not_fluid() -> None:
    assert not any(o.visible for o in _run(1.0))


def test_a_bright_place_that_returns_to_the_usual_tissue_level_is_not_fluid() -> None:
    assert not any(o.visible for o in _run(1.0, bright_until=FLUID_FROM - 1))


def test_a_pulsating_place_under_the_shaft_is_not_fluid() -> None:
    assert not any(o.visible for o in _run(1.0, pulse=True))


def test_without_the_steadiness_guard_the_pulsating_place_is_taken_for_fluid() -> None:
    assert any(o.visible for o in _run(1.0, pulse=True, fall_steady=100.0))
