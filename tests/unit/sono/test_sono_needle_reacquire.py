"""Re-acquisition of a needle track lost a moment ago, and the candidates refined per frame."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleDetector, NeedleTracker, ShaftCandidate
from painguide.sono.simulate import simulate_cine

from .conftest import CLEAR


def test_needle_back_in_plane_is_reported_on_its_first_frame() -> None:
    """A confirmed needle that leaves the beam plane for a while is reported as soon as it is back."""
    params = replace(CLEAR, needle_brightness=6.0, out_of_plane_s=(0.8, 1.2), injection_at_s=None)
    cine = simulate_cine(params)
    tracker = NeedleTracker()
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

    def follow(self, frame: Frame, prior: ShaftCandidate) -> ShaftCandidate | None:
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


def _run(shafts: list[ShaftCandidate | None], **kwargs: int) -> list[bool]:
    tracker = NeedleTracker(detector=_Script(shafts), **kwargs)  # type: ignore[arg-type]
    pixels = np.zeros((50, 50), np.uint8)
    return [tracker(Frame(pixels, 0.2, 0.2, 0.05 * i, i)).visible for i in range(len(shafts))]


def test_lost_track_is_taken_up_at_once_but_another_line_needs_confirmation() -> None:
    gap: list[ShaftCandidate | None] = [None] * 6
    same = [_shaft(30.0)] * 4 + gap + [_shaft(31.0)] * 3
    other = [_shaft(30.0)] * 4 + gap + [_shaft(45.0)] * 3
    assert _run(same)[10] and _run(same)[:4] == [False, True, True, True]
    assert _run(other)[10:] == [False, True, True]


def test_lost_track_is_forgotten_after_reacquire_frames() -> None:
    shafts = [_shaft(30.0)] * 4 + [None] * 12 + [_shaft(30.0)] * 3
    assert _run(shafts, reacquire_frames=20)[16]
    assert _run(shafts, reacquire_frames=5)[16:] == [False, True, True]
    assert _run(shafts, reacquire_frames=0)[16:] == [False, True, True]


def test_repeated_refinements_do_not_use_up_the_candidates() -> None:
    """Coarse lines that refine to a shaft already refined leave room for a fainter second shaft."""
    rng = np.random.default_rng(3)
    rows, cols, spacing = 240, 320, 0.125
    pixels = rng.normal(60.0, 8.0, (rows, cols))
    z, x = np.mgrid[0:rows, 0:cols] * spacing

    def draw(x0: float, z0: float, angle_deg: float, length: float, level: float, width: float) -> None:
        theta = math.radians(angle_deg)
        along = (x - x0) * math.cos(theta) + (z - z0) * math.sin(theta)
        across = -(x - x0) * math.sin(theta) + (z - z0) * math.cos(theta)
        inside = (along >= 0) & (along <= length)
        pixels[inside] += level * np.exp(-0.5 * (across[inside] / width) ** 2)

    draw(0.0, 3.0, 40.0, 25.0, 120.0, 0.3)  # a bright broad shaft: several coarse lines lie on it
    draw(40.0, 3.0, 130.0, 6.0, 20.0, 0.12)  # a short fainter shaft from the right
    frame = Frame(np.clip(pixels, 0, 255).astype(np.uint8), spacing, spacing, 0.0)

    def found(max_refined: int) -> bool:
        candidates = NeedleDetector(max_candidates=3, max_refined=max_refined)(frame)
        return any(c.angle_deg < -40.0 for c in candidates)

    assert found(5)
    assert not found(3)  # the first three coarse lines: the faint shaft is not among them
