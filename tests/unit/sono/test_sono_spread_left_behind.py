"""Fluid left behind by a needle that still advances: the pool forms where the tip was at the injection
start, the shaft then lies over it, and the test against each place's own earlier level in the band finds
it in scattered patches of a few pixels. Near that start, once the tip has moved on, those patches are kept
without the 3-pixel opening, so the pool is found on consecutive frames sooner; under a needle at rest the
opening stays as it was."""

from __future__ import annotations

import math

import numpy as np

from painguide.sono.spread import SpreadDetector

from .shaft_scene import line_coords, observe_with_shaft, point_on_line, shaft_mm, speckle_tissue

WS = 0.25  # frames are made at the working spacing, so the working image is the frame itself
ANGLE = math.radians(15.0)
START = (0.0, 30.0)  # shallow end of the shaft (x, z) in pixels
INJECTION = 10  # the frame of the injection start: the tip is 124 pixels along the shaft
FLUID_FROM = 12  # the pool darkens from this frame on
FRAMES = 20
SHAPE = (180, 240)


def _run(
    *,
    behind_mm: float = 3.0,
    at_rest: bool = False,
    fluid: bool = True,
    stop: int = FRAMES,
    fluid_from: int = FLUID_FROM,
    frames: int = FRAMES,
    behind_rest_s: float = 0.5,
) -> list[float]:
    """Learn on 10 frames while the needle advances 0.5 mm per frame, signal the injection start, and go on
    advancing until frame ``stop`` (or, ``at_rest``, stop at the start). The shaft is a bright line. From
    ``fluid_from`` on, a random 40 % of the pixels 0.75-2 mm below the shaft, 104-124 pixels along it (up to
    where the tip was at the start), fall to 0.85 times their echo: a faint pool, a few grey levels darker
    in its 1 mm mean than before. Returns the fluid area of each frame from the injection start on (0 when
    none is seen)."""
    detector = SpreadDetector(work_spacing_mm=WS, behind_mm=behind_mm, behind_rest_s=behind_rest_s)
    tissue = speckle_tissue(31, SHAPE)
    along, across = line_coords(SHAPE, START, ANGLE)
    pool = (along >= 104.0) & (along <= 124.0) & (across >= 3.0) & (across <= 8.0)
    pool &= np.random.default_rng(5).random(SHAPE) < 0.4
    rng = np.random.default_rng(32)
    areas = []
    for i in range(frames):
        image = tissue.copy()
        if fluid and i >= fluid_from:
            image[pool] *= np.float32(0.85)
        last = INJECTION if at_rest else stop  # the needle advances up to this frame
        tip_along = 124.0 + 2.0 * (min(i, last) - INJECTION)
        image[(along >= 0.0) & (along <= tip_along) & (np.abs(across) <= 1.0)] += np.float32(90.0)
        shaft = shaft_mm(START, point_on_line(START, ANGLE, tip_along), WS)
        observation = observe_with_shaft(detector, image, rng, i, shaft, INJECTION, WS)
        if i >= INJECTION:
            areas.append(observation.area_mm2 if observation.visible else 0.0)
    return areas


def _onset(areas: list[float]) -> int | None:
    """The first frame (from the injection start) of two in a row with fluid, as the pipeline's onset."""
    return next((k for k in range(1, len(areas)) if areas[k - 1] > 0 and areas[k] > 0), None)


def test_a_pool_left_behind_by_an_advancing_needle_is_found_sooner() -> None:
    areas = _run()
    assert all(a > 0 for a in areas[FLUID_FROM - INJECTION : FLUID_FROM - INJECTION + 5])
    assert _onset(areas) == FLUID_FROM - INJECTION + 1


def test_without_keeping_its_patches_the_same_pool_is_found_later() -> None:
    areas = _run(behind_mm=0.0)
    assert areas[FLUID_FROM - INJECTION + 1] == 0.0  # its patches are opened away
    onset = _onset(areas)
    assert onset is None or onset > FLUID_FROM - INJECTION + 1


def test_under_a_needle_at_rest_the_opening_stays() -> None:
    assert _run(at_rest=True) == _run(at_rest=True, behind_mm=0.0)


def test_an_advancing_needle_without_fluid_leaves_no_pool() -> None:
    assert not any(a > 0 for a in _run(fluid=False))


def test_behind_a_needle_that_has_rested_for_a_while_the_opening_stays() -> None:
    """The needle advances 6 pixels past the start and stops; the faint pool behind it forms 1 s later
    (15 frames a second). By then the tip has rested longer than ``behind_rest_s``, so the patches are
    opened away as without the rule; with the rest not counted they would still be kept."""
    late = {"stop": INJECTION + 3, "fluid_from": INJECTION + 18, "frames": INJECTION + 26}
    assert _run(**late) == _run(**late, behind_mm=0.0)
    assert _run(**late, behind_rest_s=float("inf")) != _run(**late, behind_mm=0.0)
