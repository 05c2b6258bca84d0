"""An unconfirmed shaft is searched again along its line, so the coarse vote need not propose it twice."""

from __future__ import annotations

import math
from dataclasses import replace

import cv2
import numpy as np
import pytest
from tests.unit.sono.test_sono_needle_detect_short import COLS, ROWS, SPACING_MM, _line

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleDetector, NeedleTracker, ShaftCandidate

from .shaft_scene import starts_on

NEEDLE_ANGLE_DEG = -40.0  # entering from the right, deeper to the left
NEEDLE_ENTRY = (45.0, 10.0)


def _frame(seed: int, *, index: int = 0, layers: bool = True, needle: bool = True) -> Frame:
    """Laterally elongated speckle, optionally seven long flat layers entering from the left (they take
    the whole coarse vote), and a 6 mm needle at 40 degrees entering from the right."""
    rng = np.random.default_rng(seed)
    noise = cv2.GaussianBlur(rng.normal(0.0, 1.0, (ROWS, COLS)).astype(np.float32), (0, 0), 3.0, sigmaY=0.8)
    image = 70.0 + 10.0 * noise / float(noise.std())
    if layers:
        for k in range(7):
            image += _line(0.0, 6.0 + 4.0 * k, 10.0 + 0.5 * k, 30.0, 45.0)
    if needle:
        image += _line(*NEEDLE_ENTRY, 180.0 + NEEDLE_ANGLE_DEG, 6.0, 34.0)
    return Frame(np.clip(image, 0, 255).astype(np.uint8), SPACING_MM, SPACING_MM, 0.05 * index, index)


def _on_needle(c: ShaftCandidate) -> bool:
    return starts_on(c, NEEDLE_ENTRY, NEEDLE_ANGLE_DEG)


def _detector() -> NeedleDetector:
    """Without the side vote, so that only the main vote proposes lines."""
    return NeedleDetector(side_lines=0)


@pytest.mark.parametrize("seed", range(3))
def test_pending_shaft_is_refined_again_where_the_vote_does_not_propose_it(seed: int) -> None:
    first = [c for c in _detector()(_frame(seed, layers=False)) if _on_needle(c)]
    assert first  # alone, the shaft is proposed
    outvoted = _frame(seed + 50)
    assert not any(_on_needle(c) for c in _detector()(outvoted))  # among the layers it is not
    again = [c for c in _detector()(outvoted, pending=first[0]) if _on_needle(c)]
    assert again
    assert 4.0 <= again[0].length_mm <= 7.0


def test_pending_line_without_a_shaft_gives_nothing() -> None:
    first = [c for c in _detector()(_frame(3, layers=False)) if _on_needle(c)]
    assert first
    for seed in range(60, 63):
        assert not any(_on_needle(c) for c in _detector()(_frame(seed, needle=False), pending=first[0]))


def test_shaft_proposed_once_is_confirmed_in_the_next_frames() -> None:
    """Proposed by the vote in the first frame only, the shaft is reported once the frames after it
    confirm it along its line; without that search it never is."""

    def shown(search: bool) -> list[bool]:
        tracker = NeedleTracker(still_ratio=0.0, detector=_detector(), search_pending=search)
        out = []
        for i in range(5):
            seen = tracker(_frame(200 + i, index=i, layers=i > 0))
            out.append(seen.visible and abs(seen.angle_deg - NEEDLE_ANGLE_DEG) <= 3.0)
        return out

    assert shown(True)[1:] == [True, True, True, True]
    assert not any(shown(False))


def test_side_shaft_pending_must_still_meet_the_side_rules() -> None:
    """A pending shaft found only from a side line is refined again only under the side vote's rules."""
    first = [c for c in _detector()(_frame(4, layers=False)) if _on_needle(c)]
    assert first
    # no 6 mm shaft meets this side rule (nor, without the entry rule, as a shaft that has just entered)
    short = NeedleDetector(side_lines=0, side_length_mm=20.0, entry_length_mm=math.inf)
    outvoted = _frame(70)
    assert any(_on_needle(c) for c in short(outvoted, pending=first[0]))
    assert not any(_on_needle(c) for c in short(outvoted, pending=replace(first[0], side=True)))


class _Scripted(NeedleDetector):
    """A detector that returns given candidates frame after frame (the refined fits of one short shaft)."""

    def __init__(self, script: list[list[ShaftCandidate]]) -> None:
        super().__init__()
        self.script = script

    def __call__(self, frame: Frame, **_: object) -> list[ShaftCandidate]:  # type: ignore[override]
        return self.script[frame.index]


def _shaft(start: tuple[float, float], tip: tuple[float, float], contrast: float) -> ShaftCandidate:
    angle = math.degrees(math.atan2(tip[1] - start[1], tip[0] - start[0]))
    angle = angle - 180.0 if angle > 90.0 else angle + 180.0 if angle < -90.0 else angle
    return ShaftCandidate(*start, *tip, angle, contrast, 0.1)


@pytest.mark.parametrize("alternatives", [True, False])
def test_detection_agreeing_with_another_fit_of_the_shaft_confirms_it(alternatives: bool) -> None:
    """Two coarse lines refine one short shaft to fits 10 degrees apart; the brighter one ranks first, the
    next frame agrees with the other. It continues the track only with ``alternatives``."""
    steep = _shaft((46.5, 1.8), (43.2, 5.6), 2.6)  # -49 degrees, ranked first
    other = _shaft((46.5, 2.3), (43.2, 5.4), 2.5)  # -43 degrees
    later = _shaft((46.5, 2.4), (41.7, 6.7), 2.6)  # -42 degrees, 6.4 mm: 2 frames confirm it
    assert not NeedleTracker()._consistent(later, steep)
    assert NeedleTracker()._consistent(later, other)
    script = [[steep, other], [later], [later]]
    tracker = NeedleTracker(still_ratio=0.0, detector=_Scripted(script), alternatives=alternatives)
    blank = np.full((400, 500), 60, dtype=np.uint8)
    shown = [tracker(Frame(blank, SPACING_MM, SPACING_MM, 0.05 * i, i)).visible for i in range(3)]
    assert shown == ([False, True, True] if alternatives else [False, False, True])
