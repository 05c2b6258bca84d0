"""A new shaft's contrast is read against the tissue beside it when its line runs on into an acoustic shadow:
read along the whole line, the dark shadow beyond a bone surface made a faint streak of speckle that ends on
the bone look like a bright needle (development cines simulated without their needle: ``needle_free`` 604,
``fascial_spread`` 613, ``intravascular_moving`` 626)."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

import painguide.sono.needle as needle_module
from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleDetector, NeedleTracker
from painguide.sono.scenes import development_seed, scene_params
from painguide.sono.simulate import simulate_cine

from .shaft_scene import bright_line, point_on_line, speckle_tissue

SPACING_MM = 0.1
ROWS, COLS = 300, 400  # 30 x 40 mm
ENTRY_Z_MM = 3.0
ANGLE_DEG = 35.0
BONE_Z_MM = 12.0


def _bone_frame(seed: int, level: float) -> Frame:
    """Speckle over a flat bone surface at :data:`BONE_Z_MM` with its shadow below (two thirds of the
    shaft's line through the image), and a shaft of brightness ``level`` from the left side that ends on
    the bone."""
    image = speckle_tissue(seed, (ROWS, COLS), level=70.0)
    image += np.random.default_rng(1000 + seed).normal(0.0, 1.0, image.shape).astype(np.float32)
    bone = round(BONE_Z_MM / SPACING_MM)
    image[bone : bone + 4] += 110.0
    image[bone + 4 :] *= 0.05
    length = (BONE_Z_MM - ENTRY_Z_MM) / math.sin(math.radians(ANGLE_DEG))
    image += bright_line((ROWS, COLS), SPACING_MM, 0.0, ENTRY_Z_MM, ANGLE_DEG, length, level)
    return Frame(np.clip(image, 0, 255).astype(np.uint8), SPACING_MM, SPACING_MM, 0.0, 0)


def _on_shaft(candidates: list[needle_module.ShaftCandidate]) -> list[needle_module.ShaftCandidate]:
    tip = point_on_line(
        (0.0, ENTRY_Z_MM),
        math.radians(ANGLE_DEG),
        (BONE_Z_MM - ENTRY_Z_MM) / math.sin(math.radians(ANGLE_DEG)),
    )
    return [
        c
        for c in candidates
        if abs(c.angle_deg - ANGLE_DEG) < 3.0 and math.dist((c.tip_x_mm, c.tip_z_mm), tip) < 2.0
    ]


@pytest.mark.parametrize("seed", range(3))
def test_a_needle_that_ends_on_bone_is_still_a_new_track_read_against_the_tissue_beside_it(
    seed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two thirds of this needle's line through the image lie in the bone's shadow: against it the shaft
    looked many times brighter than against the speckle it runs through."""
    frame = _bone_frame(seed, 80.0)
    beside = _on_shaft(NeedleDetector()(frame))
    assert beside, "a bright needle ending on the bone surface was not found"
    monkeypatch.setattr(needle_module, "SHADOW_BACKGROUND", 0.0)
    whole_line = _on_shaft(NeedleDetector()(frame))
    assert whole_line and whole_line[0].contrast > 20.0
    assert NeedleDetector().min_contrast <= beside[0].contrast < 10.0


@pytest.mark.parametrize(
    ("family", "index", "frames"), [("needle_free", 604, 8), ("fascial_spread", 613, 10)]
)
def test_development_lines_ending_on_bone_are_not_taken_for_a_needle(
    family: str, index: int, frames: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    params = scene_params(family, development_seed(family, index))
    cine = simulate_cine(dataclasses.replace(params, needle=False, n_frames=frames))
    tracker = NeedleTracker()
    assert not any(tracker(f).visible for f in cine.frames)
    monkeypatch.setattr(needle_module, "SHADOW_BACKGROUND", 0.0)
    tracker = NeedleTracker()
    assert any(tracker(f).visible for f in cine.frames), "the line was not there to refuse"
