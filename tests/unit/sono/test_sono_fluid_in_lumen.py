"""``fluid_in_vessel`` also from the dark structures of the learned floor: injectate that goes into the vein
the needle tip lies in first fills and swells it, also where the vein was never found by its pulsation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.pipeline import GuidancePipeline
from painguide.sono.scenes import development_seed, scene_params
from painguide.sono.simulate import simulate_cine
from painguide.sono.spread import SpreadDetector, SpreadObservation

from .shaft_scene import speckle_tissue

PIXEL = 0.1  # mm
LUMEN = (20.0, 15.0, 3.0, 1.5)  # centre x, z and semi-axes (mm) of a dark lumen in the tissue


def _learned() -> SpreadDetector:
    """A detector that learned 1 s of tissue (30 by 40 mm) with a lumen in it, and froze."""
    rows, cols = 300, 400
    z, x = (np.mgrid[0:rows, 0:cols] + 0.5) * PIXEL
    lumen = ((x - LUMEN[0]) / LUMEN[2]) ** 2 + ((z - LUMEN[1]) / LUMEN[3]) ** 2 < 1.0
    detector = SpreadDetector()
    for i in range(20):
        pixels = speckle_tissue(i, (rows, cols))
        pixels[lumen] = 4.0
        frame = Frame(np.clip(pixels, 0, 255).astype(np.uint8), PIXEL, PIXEL, i / 20, i)
        detector(frame)
    detector.freeze()
    return detector


def _ring(x: float, z: float, r: float) -> np.ndarray:
    a = np.linspace(0, 2 * math.pi, 40, endpoint=False)
    return np.stack([x + r * np.cos(a), z + r * np.sin(a)], axis=1)


def _fluid(x: float, z: float, r: float) -> SpreadObservation:
    return SpreadObservation(True, math.pi * r * r, x, z, 0.0, [_ring(x, z, r)])


@pytest.fixture(scope="module")
def learned() -> SpreadDetector:
    return _learned()


def test_fluid_in_the_lumen_the_tip_lies_in_is_all_in_it(learned: SpreadDetector) -> None:
    share = learned.lumen_share(_fluid(21.0, 15.0, 1.5), (20.0, 15.0))
    assert share > 0.95


def test_fluid_in_tissue_beside_it_or_a_tip_away_from_it_gives_none(learned: SpreadDetector) -> None:
    # a pool in tissue 6 mm below the lumen, the tip in it
    assert learned.lumen_share(_fluid(20.0, 22.0, 2.0), (20.0, 22.0)) == 0.0
    # fluid in the lumen, but the tip 5 mm above it: not the vein the tip lies in
    assert learned.lumen_share(_fluid(20.0, 15.0, 1.5), (20.0, 8.5)) == 0.0
    # no fluid, or no tip
    assert learned.lumen_share(SpreadObservation(False), (20.0, 15.0)) == 0.0
    assert learned.lumen_share(_fluid(20.0, 15.0, 1.5), (math.nan, math.nan)) == 0.0


def test_the_share_falls_as_the_fluid_grows_beyond_the_lumen(learned: SpreadDetector) -> None:
    shares = [learned.lumen_share(_fluid(20.0, 15.0, r), (20.0, 15.0)) for r in (1.5, 3.0, 4.5, 6.0)]
    assert shares == sorted(shares, reverse=True)
    assert shares[0] > 0.95 and shares[-1] < 0.5


def _fluid_in_vessel_events(window: float) -> list:
    # development fluid_in_vessel cine 611: a vein 5 by 4 mm (squeezed to 5 by 3) with the tip inside,
    # never found by its pulsation (its lumen filled by the needle's echo); the injectate swells it
    cine = simulate_cine(scene_params("fluid_in_vessel", development_seed("fluid_in_vessel", 611)))
    pipeline = GuidancePipeline(injection_at_s=cine.params.injection_at_s, lumen_window_s=window)
    return [e for f in cine.frames for e in pipeline(f).events if e.type == "fluid_in_vessel"]


def test_fluid_into_a_vein_never_found_by_its_pulsation_warns() -> None:
    with_rule = _fluid_in_vessel_events(0.3)
    without = _fluid_in_vessel_events(0.0)
    assert without == []  # no vessel outline: the outline rule cannot fire
    assert len(with_rule) == 1 and with_rule[0].is_warning
    assert "dark structure the needle tip lies in" in with_rule[0].detail
