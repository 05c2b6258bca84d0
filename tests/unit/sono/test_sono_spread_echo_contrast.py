"""Fluid under the shaft's own echo found over time by its level and contrast: under a shaft with a long
reverberation train the band's rows are all the shaft's echo, so neither the band comparison nor the fall
test looks there. Fluid that replaces the tissue between the reverberation lines lowers the level there by
less than the drop margin and darkens the gaps, so the lines stand out: the level falls and the local
contrast rises against the place's own earlier values."""

from __future__ import annotations

import math

import numpy as np

from painguide.sono.frames import Frame
from painguide.sono.spread import SpreadDetector, SpreadObservation

from .shaft_scene import line_coords, point_on_line, shaft_mm, speckle_tissue

WS = 0.25  # frames are made at the working spacing, so the working image is the frame itself
ANGLE = math.radians(12.0)
START = (0.0, 30.0)  # shallow end of the shaft (x, z) in pixels
INJECTION = 10  # the frame of the injection start: the tip reaches the pool's place just after it
FLUID_FROM = 17  # the pool replaces the tissue between the lines from this frame on (the tip is 2 mm past it)
FRAMES = 24
LINES = ((0.0, 110.0), (2.0, 95.0), (4.0, 85.0), (6.0, 75.0), (8.0, 65.0), (10.0, 55.0))


def _point(along: float, across: float = 0.0) -> tuple[float, float]:
    """A point ``along`` the shaft line and ``across`` it (positive deeper), in pixels."""
    return point_on_line(START, ANGLE, along, across)


def _tip_along(i: int) -> float:
    """The tip advances 1.5 mm per frame and reaches 90 pixels along the shaft at the injection start."""
    return 90.0 + 6.0 * (i - INJECTION)


def _tissue() -> np.ndarray:
    """Static speckle-like texture around grey level 120."""
    return speckle_tissue(41, (180, 240))


def _run(
    gap: float,
    *,
    contrast_drop: float = 0.3,
    fade: float = 1.0,
    pulse: bool = False,
    contrast_rise: float = 1.15,
    fall_steady: float = 0.25,
) -> list[SpreadObservation]:
    """Learn on 10 frames while the needle advances, signal the injection start, go on advancing. Behind the
    tip, the shaft and five reverberations (every 0.5 mm down to 2.5 mm) are bright lines drawn over the
    tissue. From ``FLUID_FROM`` on, the tissue between the lines 0.5-1.5 mm below the shaft, 96-120 pixels
    along it, has ``gap`` times its grey level, and the lines everywhere ``fade`` times theirs (a shaft that
    leaves the plane). With ``pulse`` the tissue there swings between 0.85 and 1.3 times its level every 6
    frames from the first frame on (a pulsating vessel wall)."""
    detector = SpreadDetector(
        work_spacing_mm=WS, contrast_drop=contrast_drop, contrast_rise=contrast_rise, fall_steady=fall_steady
    )
    tissue = _tissue()
    along, across = line_coords((180, 240), START, ANGLE)
    place = (along >= 96.0) & (along <= 120.0) & (across >= 2.0) & (across <= 6.0)
    rng = np.random.default_rng(42)
    seen = []
    for i in range(FRAMES):
        image = tissue.copy()
        if pulse:
            image[place] *= np.float32(1.075 + 0.225 * math.sin(2.0 * math.pi * i / 6.0))
        tip_along = _tip_along(i)
        behind = (along >= 0.0) & (along <= tip_along)
        lines = np.zeros_like(image, dtype=bool)
        for depth, level in LINES:
            line = behind & (np.abs(across - depth) <= 0.5)
            scale = fade if i >= FLUID_FROM else 1.0
            image[line] = np.maximum(image[line], np.float32(level * scale + 120.0))
            lines |= line
        if i >= FLUID_FROM:
            image[place & ~lines] *= np.float32(gap)
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


def _first(seen: list[SpreadObservation]) -> int | None:
    return next((k for k, o in enumerate(seen) if o.visible), None)


def test_fluid_between_the_reverberation_lines_is_found_by_its_level_and_contrast() -> None:
    seen = _run(0.75)
    assert not any(o.visible for o in seen[: FLUID_FROM - INJECTION])
    first = _first(seen)
    assert first is not None and first <= FLUID_FROM - INJECTION + 2
    hit = seen[first]
    centre = _point(108.0, 4.0)
    assert math.hypot(hit.centre_x_mm - centre[0] * WS, hit.centre_z_mm - centre[1] * WS) < 3.0


def test_without_the_contrast_test_the_same_fluid_is_not_found() -> None:
    assert _first(_run(0.75, contrast_drop=0.0)) is None


def test_unchanged_tissue_under_the_echo_is_not_fluid() -> None:
    assert _first(_run(1.0)) is None


def test_a_shaft_that_fades_is_not_fluid() -> None:
    assert _first(_run(1.0, fade=0.7)) is None


def test_a_pulsating_place_under_the_echo_is_not_fluid() -> None:
    assert _first(_run(1.0, pulse=True)) is None


def test_without_the_contrast_condition_the_fading_shaft_is_taken_for_fluid() -> None:
    assert _first(_run(1.0, fade=0.7, contrast_rise=0.0)) is not None


def test_without_either_guard_the_pulsating_place_is_taken_for_fluid() -> None:
    assert _first(_run(1.0, pulse=True, contrast_rise=0.0, fall_steady=100.0)) is not None
