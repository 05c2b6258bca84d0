"""Spread detection near the needle tip: a smaller drop counts there once the injection has started."""

from __future__ import annotations

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.spread import SpreadDetector, SpreadObservation

from .shaft_scene import speckle_tissue

WS = 0.25  # frames are made at the working spacing, so the working image is the frame itself
POOL = (slice(70, 82), slice(96, 112))  # 3 by 4 mm, rows then columns
TIP_MM = (95 * WS, 68 * WS)  # about 1 mm above and left of the pool
FAR_TIP_MM = (30 * WS, 20 * WS)  # about 20 mm away


def _tissue() -> np.ndarray:
    """Static speckle-like texture around grey level 120."""
    return speckle_tissue(11, (160, 200))


def _run(
    echo: float,
    *,
    tip_mm: tuple[float, float] | None = TIP_MM,
    injecting: bool = True,
    **options: float,
) -> list[SpreadObservation]:
    """Learn on 12 noisy frames, then show 4 frames in which the pool's echo is ``echo`` times the tissue's.

    Without ``injecting`` the learning stops after 0.5 s on its own (free-running analysis)."""
    detector = SpreadDetector(work_spacing_mm=WS, baseline_s=0.5, **options)  # type: ignore[arg-type]
    tissue = _tissue()
    rng = np.random.default_rng(12)
    seen = []
    for i in range(16):
        image = tissue.copy()
        if i >= 12:
            image[POOL] *= np.float32(echo)
        image += rng.normal(0.0, 1.5, image.shape).astype(np.float32)
        frame = Frame(
            pixels=np.asarray(np.clip(image, 0, 255), dtype=np.uint8),
            row_spacing_mm=WS,
            col_spacing_mm=WS,
            time_s=i / 20.0,
        )
        observation = detector(
            frame, tip_mm=tip_mm, injecting=injecting and i >= 11, free_running=not injecting
        )
        if i >= 12:
            seen.append(observation)
    return seen


def test_a_faint_young_pool_at_the_tip_is_found_after_the_injection_start() -> None:
    seen = _run(0.9)
    assert all(o.visible for o in seen)
    assert all(POOL[1].start * WS - 1 <= o.centre_x_mm <= POOL[1].stop * WS + 1 for o in seen)
    assert all(POOL[0].start * WS - 1 <= o.centre_z_mm <= POOL[0].stop * WS + 1 for o in seen)


@pytest.mark.parametrize(
    ("tip_mm", "injecting", "options"),
    [
        (TIP_MM, True, {"near_tip_mm": 0.0}),  # turned off
        (FAR_TIP_MM, True, {}),  # the pool is far from the tip
        (None, True, {}),  # no tip seen
        (TIP_MM, False, {}),  # no injection start signalled (free-running)
    ],
)
def test_the_same_pool_elsewhere_needs_the_full_drop(
    tip_mm: tuple[float, float] | None, injecting: bool, options: dict[str, float]
) -> None:
    assert not any(o.visible for o in _run(0.9, tip_mm=tip_mm, injecting=injecting, **options))


def test_a_clear_pool_is_found_with_or_without_the_tip() -> None:
    assert all(o.visible for o in _run(0.5, tip_mm=FAR_TIP_MM))


def test_unchanged_tissue_at_the_tip_is_not_fluid() -> None:
    assert not any(o.visible for o in _run(1.0))
