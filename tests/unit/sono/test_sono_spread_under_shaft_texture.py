"""Fluid under the shaft's own echo: the level there barely falls, only the speckle along the shaft goes
quiet. A place that was loud in the band (or came into it behind an advancing needle) and then stays
quiet for some frames in a row is fluid; smooth tissue under a shaft at rest, quiet from the start, is
not."""

from __future__ import annotations

import math

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.spread import SpreadDetector, SpreadObservation

from .shaft_scene import line_coords, shaft_mm, speckle_tissue

WS = 0.25  # frames are made at the working spacing, so the working image is the frame itself
ANGLE = math.radians(20.0)
START = (0.0, 20.0)  # shallow end of the shaft (x, z) in pixels
TIP_ALONG = 150.0  # the tip's distance along the shaft, in pixels
INJECTION = 11  # the frame of the injection start
FLUID_FROM = 14  # the pool shows from this frame on
FRAMES = 22
POOL = (110.0, 130.0)  # the pool's stretch along the shaft, in pixels


def _frame_coords() -> tuple[np.ndarray, np.ndarray]:
    """Distance along the shaft line and across it (positive deeper) of every pixel."""
    return line_coords((160, 220), START, ANGLE)


def _speckle(seed: int) -> np.ndarray:
    """Static speckle-like texture with mean 1."""
    return speckle_tissue(seed, (160, 220), level=1.0)


def _echo(across: np.ndarray) -> np.ndarray:
    """The shaft's echo and its reverberations: smooth along the shaft, 1.5 mm deep below it."""
    return np.asarray(np.where((across >= -2.0) & (across <= 6.0), 1.0, 0.0), dtype=np.float32)


def _run(*, pool: bool, smooth_from_start: bool = False, quiet_frames: int = 3) -> list[SpreadObservation]:
    """Learn on 11 frames without the needle, then a shaft at rest whose echo covers the band; from
    ``FLUID_FROM`` on, with ``pool``, the speckle under the echo over ``POOL`` is gone (fluid) while the
    local level stays the same (the echo fills it). With ``smooth_from_start`` that stretch is smooth from
    the needle's first frame on (tissue that is smooth under the shaft, no fluid)."""
    detector = SpreadDetector(work_spacing_mm=WS, quiet_frames=quiet_frames)
    along, across = _frame_coords()
    tissue, echo = 100.0 * _speckle(31), _echo(across)
    stretch = (along >= POOL[0]) & (along <= POOL[1]) & (echo > 0)
    on_shaft = (along >= 0) & (along <= TIP_ALONG)
    rng = np.random.default_rng(32)
    tip = (START[0] + TIP_ALONG * math.cos(ANGLE), START[1] + TIP_ALONG * math.sin(ANGLE))
    seen = []
    for i in range(FRAMES):
        image = tissue.copy()
        if i >= INJECTION:
            # the echo lifts the band by 60 over the tissue's speckle, which shows through it
            band = on_shaft & (echo > 0)
            image[band] = tissue[band] + 60.0
            if (pool and i >= FLUID_FROM) or smooth_from_start:
                # over fluid the speckle is gone; the smooth echo keeps the local level as it was
                image[stretch & on_shaft] = 160.0
        noisy = np.clip(image + rng.normal(0.0, 1.0, image.shape).astype(np.float32), 0, 255)
        shaft = shaft_mm(START, tip, WS)
        observation = detector(
            Frame(noisy.astype(np.uint8), WS, WS, i / 20.0),
            tip_mm=shaft[2:] if i >= INJECTION else None,
            shaft_mm=shaft if i >= INJECTION else None,
            injecting=i >= INJECTION,
        )
        if i >= INJECTION:
            seen.append(observation)
    return seen


def test_the_pool_keeps_the_local_level_of_the_band() -> None:
    along, across = _frame_coords()
    tissue = 100.0 * _speckle(31)
    stretch = (along >= POOL[0]) & (along <= POOL[1]) & (_echo(across) > 0)
    assert abs(float((tissue[stretch] + 60.0).mean()) - 160.0) < 5.0


def test_a_pool_under_the_shafts_echo_is_found_once_quiet_for_some_frames() -> None:
    seen = _run(pool=True)
    before, after = seen[: FLUID_FROM - INJECTION], seen[FLUID_FROM - INJECTION :]
    assert not any(o.visible for o in before)
    assert not any(o.visible for o in after[:2])  # quiet for 1 and 2 frames: not yet
    assert all(o.visible for o in after[2:])
    centre = (START[0] + 120.0 * math.cos(ANGLE), START[1] + 120.0 * math.sin(ANGLE))
    o = after[-1]
    assert math.dist((o.centre_x_mm / WS, o.centre_z_mm / WS), centre) <= 12.0


def test_without_the_test_over_time_the_pool_is_missed() -> None:
    assert not any(o.visible for o in _run(pool=True, quiet_frames=0))


@pytest.mark.parametrize("smooth_from_start", [False, True])
def test_tissue_that_does_not_change_under_a_shaft_at_rest_is_not_fluid(smooth_from_start: bool) -> None:
    assert not any(o.visible for o in _run(pool=False, smooth_from_start=smooth_from_start))
