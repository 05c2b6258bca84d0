"""Re-acquisition of a needle track lost a moment ago, and the candidates refined per frame."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleDetector, NeedleTracker, ShaftCandidate
from painguide.sono.simulate import simulate_cine

from .conftest import CLEAR


def test_needle_back_in_plane_is_reported_on_its_first_frame() -> None:
    """A confirmed needle that leaves the beam plane for a while is reported as soon as it is back."""
    params = replace(CLEAR, needle_brightness=6.0, out_of_plane_s=(0.8, 1.2), injection_at_s=None)
    cine = simulate_cine(params)
    tracker = NeedleTracker(still_ratio=0.0)
    seen = [(t.needle_visible, tracker(f).visible) for f, t in zip(cine.frames, cine.truth, strict=True)]
    visible = [v for v, _ in seen]
    back = next(i for i in range(1, len(seen)) if visible[i] and not visible[i - 1] and any(visible[:i]))
    assert any(r for _, r in seen[:back])  # the track was confirmed before the episode
    assert seen[back][1]  # and taken up again on the first frame the needle is back
    assert all(r for _, r in seen[back:])


def _shaft(angle_deg: float, length_mm: float = 8.0, contrast: float = 3.0) -> ShaftCandidate:
    theta = math.radians(angle_deg)
    return ShaftCandidate(
        0.0, 2.0, length_mm * math.cos(theta), 2.0 + length_mm * math.sin(theta), angle_deg, contrast, 0.2
    )


class _Script:
    """A detector stub that reports a scripted shaft (or nothing) per frame, along a track or not."""

    def __init__(self, shafts: list[ShaftCandidate | None]) -> None:
        self.shafts, self.frame = shafts, -1
        self.min_contrast, self.max_residual_mm = 2.0, 0.35

    def follow(self, frame: Frame, prior: ShaftCandidate, **_: object) -> ShaftCandidate | None:
        shaft = self.shafts[frame.index]
        return shaft if shaft is not None and abs(shaft.angle_deg - prior.angle_deg) <= 3.0 else None

    def __call__(
        self, frame: Frame, *, prior: ShaftCandidate | None = None, **_: object
    ) -> list[ShaftCandidate]:
        shaft = self.shafts[frame.index]
        if prior is not None and shaft is not None:
            tracked = self.follow(frame, prior)
            return [tracked] if tracked is not None else [shaft]
        return [] if shaft is None else [shaft]


def _run(shafts: list[ShaftCandidate | None], **kwargs: float) -> list[bool]:
    tracker = NeedleTracker(still_ratio=0.0, detector=_Script(shafts), **kwargs)  # type: ignore[arg-type]
    pixels = np.zeros((50, 50), np.uint8)
    return [tracker(Frame(pixels, 0.2, 0.2, 0.05 * i, i)).visible for i in range(len(shafts))]


def test_lost_track_is_taken_up_at_once_but_another_line_needs_confirmation() -> None:
    gap: list[ShaftCandidate | None] = [None] * 6
    same = [_shaft(30.0)] * 7 + gap + [_shaft(31.0)] * 3
    other = [_shaft(30.0)] * 7 + gap + [_shaft(45.0)] * 3
    assert _run(same)[:7] == [False] + [True] * 6
    assert _run(same)[13:] == [True, True, True]
    assert _run(other)[13:] == [False, True, True]


def test_lost_track_is_forgotten_after_reacquire_frames() -> None:
    shafts = [_shaft(30.0)] * 7 + [None] * 12 + [_shaft(30.0)] * 3
    assert _run(shafts, reacquire_frames=20)[19:] == [True, True, True]
    assert _run(shafts, reacquire_frames=5)[19:] == [False, True, True]
    assert _run(shafts, reacquire_frames=0)[19:] == [False, True, True]


def test_only_a_track_reported_for_a_while_is_remembered() -> None:
    shafts = [_shaft(30.0)] * 3 + [None] * 6 + [_shaft(30.0)] * 3  # reported in 2 frames only
    assert _run(shafts, reacquire_after=5)[9:] == [False, True, True]
    assert _run(shafts, reacquire_after=2)[9:] == [True, True, True]


def _frame(shafts: list[tuple[float, float, float, float, float, float]], seed: int = 3) -> Frame:
    """A speckle-free noisy frame (40 x 30 mm, 0.125 mm pixels) with bright straight shafts drawn in.

    Each shaft is ``(x0, z0, angle_deg, length_mm, level, width_mm)`` from its shallow end.
    """
    rng = np.random.default_rng(seed)
    rows, cols, spacing = 240, 320, 0.125
    pixels = rng.normal(60.0, 8.0, (rows, cols))
    z, x = np.mgrid[0:rows, 0:cols] * spacing
    for x0, z0, angle_deg, length, level, width in shafts:
        theta = math.radians(angle_deg)
        along = (x - x0) * math.cos(theta) + (z - z0) * math.sin(theta)
        across = -(x - x0) * math.sin(theta) + (z - z0) * math.cos(theta)
        inside = (along >= 0) & (along <= length)
        pixels[inside] += level * np.exp(-0.5 * (across[inside] / width) ** 2)
    return Frame(np.clip(pixels, 0, 255).astype(np.uint8), spacing, spacing, 0.0)


def test_repeated_refinements_do_not_use_up_the_candidates() -> None:
    """Coarse lines that refine to a shaft already refined leave room for a fainter second shaft."""
    # a bright broad shaft (several coarse lines lie on it) and a short fainter one from the right
    frame = _frame([(0.0, 3.0, 40.0, 25.0, 120.0, 0.3), (40.0, 3.0, 130.0, 6.0, 20.0, 0.12)])

    def found(max_refined: int) -> bool:
        candidates = NeedleDetector(max_candidates=3, max_refined=max_refined)(frame)
        return any(c.angle_deg < -40.0 for c in candidates)

    assert found(5)
    assert not found(3)  # the first three coarse lines: the faint shaft is not among them


@pytest.mark.parametrize(
    ("contrast", "length_mm", "residual_mm", "angle_deg", "weak"),
    [
        (1.5, 6.5, 0.2, 32.0, True),  # a short faint oblique shaft
        (1.1, 6.5, 0.2, 32.0, False),  # too faint
        (1.5, 4.5, 0.2, 32.0, False),  # too short
        (1.5, 6.5, 0.3, 32.0, False),  # not straight enough
        (1.5, 6.5, 0.2, 20.0, False),  # too flat
        (2.5, 6.5, 0.2, 32.0, False),  # bright enough for a new track: not weak
    ],
)
def test_weak_rule(
    contrast: float, length_mm: float, residual_mm: float, angle_deg: float, weak: bool
) -> None:
    shaft = replace(_shaft(angle_deg, length_mm, contrast), residual_mm=residual_mm)
    assert NeedleDetector().weak(shaft) is weak


def test_faint_short_shaft_is_found_only_by_the_weak_search() -> None:
    frame = _frame([(0.0, 6.0, 32.0, 6.5, 8.0, 0.12)], seed=4)  # contrast about 1.8: a new track needs 2
    strict = NeedleDetector()(frame)
    weak = [c for c in NeedleDetector()(frame, weak=True) if abs(c.angle_deg - 32.0) < 4.0]
    assert not any(abs(c.angle_deg - 32.0) < 4.0 for c in strict)
    assert weak and all(c.weak for c in weak)


def test_weak_shaft_needs_more_frames_and_steady_ends_confirm_a_short_one() -> None:
    weak = replace(_shaft(32.0, 6.5, 1.5), weak=True)
    assert _run([weak] * 5) == [False, False, True, True, True]
    assert _run([weak] * 5, weak_frames=5) == [False] * 4 + [True]
    # a short shaft whose angle wanders by 3 degrees about its entry point: its tip moves by 0.34 mm
    wander = [_shaft(30.0 + 3.0 * (i % 2), 6.5) for i in range(4)]
    assert _run(wander) == [False, True, True, True]
    assert not any(_run(wander, ends_mm=0.0))


def test_track_along_a_curving_fascia_is_lost_and_a_needle_is_kept() -> None:
    """Along a track, a flat shaft whose line goes on beyond its tip (a curving fascia) is not followed."""
    theta = math.radians(18.0)
    end = (12.0 * math.cos(theta), 8.0 + 12.0 * math.sin(theta))
    prior = ShaftCandidate(0.0, 8.0, end[0], end[1], 18.0, 3.0, 0.1)
    needle = (0.0, 8.0, 18.0, 12.0, 40.0, 0.15)
    fascia = _frame([needle, (end[0], end[1], 9.0, 20.0, 40.0, 0.15)])  # bends by 9 degrees and goes on
    detector = NeedleDetector()
    assert detector.follow(_frame([needle]), prior) is not None
    assert detector.follow(fascia, prior) is None
    assert NeedleDetector(follow_continuation=1.0).follow(fascia, prior) is not None


def _line_frame(start_mm: float, *, seed: int = 3) -> Frame:
    """A 40 x 40 mm frame of noise with a bright 35-degree shaft from the left edge (depth 2 mm at x = 0)
    to 30 mm along it, bright only from ``start_mm`` along the shaft on (the shallow part faded)."""
    spacing = 0.1
    rng = np.random.default_rng(seed)
    pixels = rng.normal(90.0, 12.0, (400, 400))
    theta = math.radians(35.0)
    for s in np.arange(start_mm, 30.0, 0.05):
        col, row = s * math.cos(theta) / spacing, (2.0 + s * math.sin(theta)) / spacing
        pixels[int(row) - 2 : int(row) + 3, int(col)] += 70.0
    return Frame(np.clip(pixels, 0, 255).astype(np.uint8), spacing, spacing, 0.0)


def test_tracked_shaft_is_followed_when_its_shallow_part_fades() -> None:
    """Along a confirmed track the shaft may begin deep in the image: it entered from the side before."""
    detector = NeedleDetector()
    whole = detector.follow(_line_frame(0.0), _shaft_along(35.0, 30.0))
    assert whole is not None and whole.start_x_mm < 1.0
    faded = detector.follow(_line_frame(12.0), whole)
    assert faded is not None
    assert faded.start_x_mm > detector.edge_tolerance_mm and faded.start_z_mm > detector.edge_tolerance_mm
    assert abs(faded.tip_x_mm - whole.tip_x_mm) < 0.5
    assert not detector._plausible(faded, _line_frame(12.0), detector.min_contrast)  # not a new track


def _shaft_along(angle_deg: float, length_mm: float) -> ShaftCandidate:
    theta = math.radians(angle_deg)
    return ShaftCandidate(
        0.0, 2.0, length_mm * math.cos(theta), 2.0 + length_mm * math.sin(theta), angle_deg, 3.0, 0.1
    )
