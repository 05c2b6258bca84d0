"""Spread detection near the dark structures of the learned floor: without a tracked needle after the
injection start, a vein that begins to swell is found with the smaller drop used near the tip."""

from __future__ import annotations

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.spread import SpreadDetector, SpreadObservation

from .shaft_scene import speckle_tissue

WS = 0.25  # frames are made at the working spacing, so the working image is the frame itself
CENTRE = (80, 100)  # the vein's centre (row, column)
FAR_SHAFT_MM = (2.0, 2.0, 12.0, 8.0)  # a needle tracked far from the vein


def _run(
    swell: float,
    *,
    injecting: bool = True,
    shaft_mm: tuple[float, float, float, float] | None = None,
    **options: float,
) -> list[SpreadObservation]:
    """Learn on 12 noisy frames of tissue with a black vein whose radius pulsates between 3.75 and 4.25 mm,
    then show 4 frames in which a ring from 4.25 to 5.5 mm around its centre has ``swell`` times the tissue's
    echo (a vein that begins to swell), with no tip known (or only ``shaft_mm``, far from it)."""
    detector = SpreadDetector(work_spacing_mm=WS, baseline_s=0.5, **options)  # type: ignore[arg-type]
    tissue = speckle_tissue(21, (160, 200))
    rows, cols = np.ogrid[:160, :200]
    radius = np.hypot(rows - CENTRE[0], cols - CENTRE[1])
    rng = np.random.default_rng(22)
    seen = []
    for i in range(16):
        image = tissue.copy()
        lumen = 15.0 + 2.0 * (i % 3) / 2.0 if i < 12 else 17.0
        if i >= 12:
            ring = (radius >= 17.0) & (radius < 22.0)
            image[ring] *= np.float32(swell)
        image[radius < lumen] = 10.0
        image += rng.normal(0.0, 1.5, image.shape).astype(np.float32)
        frame = Frame(
            pixels=np.asarray(np.clip(image, 0, 255), dtype=np.uint8),
            row_spacing_mm=WS,
            col_spacing_mm=WS,
            time_s=i / 20.0,
        )
        tip = None if shaft_mm is None else (shaft_mm[2], shaft_mm[3])
        observation = detector(
            frame,
            tip_mm=tip,
            shaft_mm=shaft_mm,
            injecting=injecting and i >= 11,
            free_running=not injecting,
        )
        if i >= 12:
            seen.append(observation)
    return seen


def test_a_vein_that_begins_to_swell_is_found_without_a_needle() -> None:
    seen = _run(0.9)
    assert all(o.visible for o in seen)
    # the fluid is the ring around the vein, not somewhere else
    assert all(abs(o.centre_x_mm - CENTRE[1] * WS) <= 2.0 for o in seen)
    assert all(abs(o.centre_z_mm - CENTRE[0] * WS) <= 2.0 for o in seen)


@pytest.mark.parametrize(
    ("injecting", "shaft_mm", "options"),
    [
        (True, None, {"vessel_mm": 0.0}),  # turned off
        (False, None, {}),  # no injection start signalled (free-running)
        (True, FAR_SHAFT_MM, {}),  # a tracked needle: the area near its tip is where the fluid is looked for
    ],
)
def test_the_same_swelling_otherwise_needs_the_full_drop(
    injecting: bool, shaft_mm: tuple[float, float, float, float] | None, options: dict[str, float]
) -> None:
    assert not any(o.visible for o in _run(0.9, injecting=injecting, shaft_mm=shaft_mm, **options))


def test_a_vein_that_only_pulsates_is_not_fluid() -> None:
    assert not any(o.visible for o in _run(1.0))


def test_a_clear_swelling_is_found_with_or_without_the_vessel_area() -> None:
    assert all(o.visible for o in _run(0.5, vessel_mm=0.0))
