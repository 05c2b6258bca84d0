"""A place under a needle shaft whose speckle turns smooth at about its usual level (tissue with little
speckle of its own, or smoothed by the shaft's reverberations) is not fluid: under the shaft, a smooth place
counts as fluid only where its level has also fallen below the band's usual by part of the drop margin.
Fluid under the shaft's reverberations is smooth and darker; it is still found."""

from __future__ import annotations

import math

import cv2
import numpy as np

from painguide.sono.frames import Frame
from painguide.sono.spread import SpreadDetector, SpreadObservation

from .shaft_scene import line_coords, shaft_mm

WS = 0.25  # frames are made at the working spacing, so the working image is the frame itself
ANGLE = math.radians(20.0)
START = (0.0, 20.0)  # shallow end of the shaft (x, z) in pixels
TIP_ALONG = 150.0  # the tip's distance along the shaft, in pixels
NEEDLE_FROM = 11  # the needle shows from this frame on (learning before)
FLUID_FROM = 14  # the fluid shows from this frame on
FRAMES = 20
STRETCH = (116.0, 132.0)  # along the shaft, in pixels: 4 mm
DEPTH = (4.0, 14.0)  # below the shaft line, in pixels: under its echo, to beyond the 2.5 mm band
LEVEL = 180.0  # tissue grey level
DROP = 0.2  # the drop margin is 0.2 of the tissue level (36), half of it 18


def _coords() -> tuple[np.ndarray, np.ndarray]:
    """Distance along the shaft line and across it (positive deeper) of every pixel."""
    return line_coords((160, 220), START, ANGLE)


def _tissue() -> np.ndarray:
    """Fine speckle around ``LEVEL``: its 1 mm local mean varies little, its gradient is strong."""
    rng = np.random.default_rng(7)
    fine = cv2.GaussianBlur(rng.normal(0.0, 1.0, (160, 220)).astype(np.float32), (0, 0), 0.7)
    return np.asarray(LEVEL + 8.0 * fine / fine.std(), dtype=np.float32)


def _run(*, smooth_level: float, from_frame: int, smooth_drop: float = 0.5) -> list[SpreadObservation]:
    """Learn on frames without the needle, then a shaft at rest with its echo; the stretch under the echo
    is smooth at ``smooth_level`` from ``from_frame`` on."""
    # only the same-frame tests of the band: the tests over time (quiet places, a fall below a place's own
    # earlier level, alone or with a rise of contrast) and the one near the tip are off
    detector = SpreadDetector(
        work_spacing_mm=WS,
        drop=DROP,
        quiet_frames=0,
        fall_drop=0.0,
        contrast_drop=0.0,
        near_tip_mm=0.0,
        smooth_drop=smooth_drop,
    )
    along, across = _coords()
    tissue = _tissue()
    stretch = (along >= STRETCH[0]) & (along <= STRETCH[1]) & (across >= DEPTH[0]) & (across <= DEPTH[1])
    echo = (along >= 0) & (along <= TIP_ALONG) & (across >= -1.0) & (across <= 2.0)
    tip = (START[0] + TIP_ALONG * math.cos(ANGLE), START[1] + TIP_ALONG * math.sin(ANGLE))
    shaft = shaft_mm(START, tip, WS)
    rng = np.random.default_rng(8)
    seen = []
    for i in range(FRAMES):
        image = tissue.copy()
        if i >= from_frame:
            image[stretch] = smooth_level
        needle = i >= NEEDLE_FROM
        if needle:
            image[echo] += 50.0
        noisy = np.clip(image + rng.normal(0.0, 1.0, image.shape).astype(np.float32), 0, 255)
        observation = detector(
            Frame(noisy.astype(np.uint8), WS, WS, i / 20.0),
            shaft_mm=shaft if needle else None,
            injecting=i >= NEEDLE_FROM - 1,  # the learning stops one frame before the needle shows
        )
        if needle:
            seen.append(observation)
    return seen


def test_tissue_turning_smooth_at_about_its_usual_level_under_the_shaft_is_not_fluid() -> None:
    # smooth from the needle's first frame on, darker by 0.17 of the drop margin
    assert not any(o.visible for o in _run(smooth_level=LEVEL - 6.0, from_frame=NEEDLE_FROM))


def test_without_the_level_condition_that_tissue_was_taken_for_fluid() -> None:
    seen = _run(smooth_level=LEVEL - 6.0, from_frame=NEEDLE_FROM, smooth_drop=0.0)
    assert all(o.visible for o in seen)


def test_fluid_that_is_smooth_and_darker_is_still_found() -> None:
    # darker by 0.72 of the drop margin: the level alone does not mark it, its smoothness does
    seen = _run(smooth_level=LEVEL - 26.0, from_frame=FLUID_FROM)
    assert not any(o.visible for o in seen[: FLUID_FROM - NEEDLE_FROM])
    assert all(o.visible for o in seen[FLUID_FROM - NEEDLE_FROM :])
    along, across = (STRETCH[0] + STRETCH[1]) / 2, (DEPTH[0] + 10.0) / 2  # the band reaches 10 px deep
    o = seen[-1]
    x = START[0] + along * math.cos(ANGLE) - across * math.sin(ANGLE)
    z = START[1] + along * math.sin(ANGLE) + across * math.cos(ANGLE)
    assert math.dist((o.centre_x_mm / WS, o.centre_z_mm / WS), (x, z)) <= 8.0


def test_that_fluid_is_found_by_its_smoothness_not_by_its_level_alone() -> None:
    # a smooth place must lie 5 margins below the usual: only the level test is left, and it misses
    assert not any(o.visible for o in _run(smooth_level=LEVEL - 26.0, from_frame=FLUID_FROM, smooth_drop=5.0))
