"""New-track contrast of faint straight shafts and the first-frame report of a strong straight shaft."""

from __future__ import annotations

import math

import numpy as np
import pytest

from painguide.sono.frames import Frame
from painguide.sono.needle import NeedleDetector, NeedleTracker, ShaftCandidate, _erfc, _fit_end


def _shaft(angle_deg: float, length_mm: float, residual_mm: float, contrast: float = 1.0) -> ShaftCandidate:
    theta = math.radians(angle_deg)
    return ShaftCandidate(
        0.0,
        2.0,
        length_mm * math.cos(theta),
        2.0 + length_mm * math.sin(theta),
        angle_deg,
        contrast,
        residual_mm,
    )


@pytest.mark.parametrize(
    ("angle_deg", "length_mm", "residual_mm", "needed"),
    [
        (10.0, 20.0, 0.05, 3.0),  # shallow: bright specular shafts only (faint shallow lines are fascia)
        (20.0, 20.0, 0.05, 2.0),  # below the faint angle: the ordinary contrast
        (30.0, 5.0, 0.05, 2.0),  # steep enough for the faint rule, but too short
        (30.0, 12.0, 0.05, 0.8),  # long, straight, oblique: faint is enough
        (30.0, 12.0, 0.2, 2.0),  # not straight enough for the faint rule
        (50.0, 5.0, 0.2, 1.5),  # steep: the steep contrast
        (50.0, 12.0, 0.05, 0.8),  # steep, long and straight
    ],
)
def test_new_track_contrast_depends_on_angle_length_and_straightness(
    angle_deg: float, length_mm: float, residual_mm: float, needed: float
) -> None:
    detector = NeedleDetector(faint_deg=25.0, faint_contrast=0.8, faint_length_mm=6.0, faint_residual_mm=0.12)
    assert detector.new_track_contrast(_shaft(angle_deg, length_mm, residual_mm)) == pytest.approx(needed)


def test_faint_rule_is_off_without_its_settings() -> None:
    detector = NeedleDetector(faint_length_mm=math.inf)
    assert detector.new_track_contrast(_shaft(50.0, 30.0, 0.01)) == pytest.approx(1.5)


class _Fixed:
    """A detector stub that reports the same shaft in every frame."""

    def __init__(self, candidate: ShaftCandidate) -> None:
        self.candidate = candidate
        self.min_contrast, self.max_residual_mm = 2.0, 0.35
        self.entry_edge_mm = 1.5  # read by the tracker's still test (NeedleTracker(still_ratio=...))

    def __call__(self, frame: Frame, **_: object) -> list[ShaftCandidate]:
        return [self.candidate]


@pytest.mark.parametrize(
    ("contrast", "residual_mm", "length_mm", "first_reported"),
    [
        (6.0, 0.05, 4.0, 0),  # strong and straight: reported on its first frame, even short
        (6.0, 0.2, 8.0, 1),  # strong but not straight enough: two frames
        (3.0, 0.05, 8.0, 1),  # straight but not strong: two frames
        (3.0, 0.05, 4.0, 2),  # short and not strong: three frames
    ],
)
def test_strong_straight_shaft_is_reported_on_its_first_frame(
    contrast: float, residual_mm: float, length_mm: float, first_reported: int
) -> None:
    candidate = _shaft(30.0, length_mm, residual_mm, contrast)
    tracker = NeedleTracker(detector=_Fixed(candidate), strong_contrast=4.5)  # type: ignore[arg-type]
    frame = Frame(np.zeros((50, 50), np.uint8), 0.2, 0.2, 0.0)
    seen = [tracker(frame).visible for _ in range(4)]
    assert seen.index(True) == first_reported


def _end_profile(s: np.ndarray, end_mm: float, bevel: float, sigma_mm: float = 0.3) -> np.ndarray:
    x = (s - end_mm) / sigma_mm
    edge = np.array([0.5 * math.erfc(v / math.sqrt(2.0)) for v in x])
    return 100.0 + 50.0 * edge + bevel * np.exp(-0.5 * x * x)


@pytest.mark.parametrize("bevel", [0.0, 40.0, 80.0])
def test_end_fit_puts_the_tip_at_the_edge_not_at_the_half_contrast_crossing(bevel: float) -> None:
    s = np.arange(0.0, 30.0, 0.1)
    profile = _end_profile(s, 20.0, bevel)
    half = float(s[np.flatnonzero(profile >= 125.0)[-1]])  # the half-contrast crossing
    fitted = _fit_end(s, profile, half, 50.0)
    assert fitted is not None
    assert abs(fitted - 20.0) <= 0.05
    if bevel >= 40.0:
        assert half - 20.0 >= 0.2  # the bright bevel moves the crossing beyond the end


def test_end_fit_needs_the_whole_window_and_a_step_down() -> None:
    s = np.arange(0.0, 30.0, 0.1)
    assert _fit_end(s, _end_profile(s, 29.5, 40.0), 29.5, 50.0) is None  # the window leaves the profile
    assert _fit_end(s, np.full_like(s, 120.0), 20.0, 50.0) is None  # no edge at all


def test_erfc_matches_the_standard_library() -> None:
    x = np.linspace(-5.0, 5.0, 101)
    assert np.max(np.abs(_erfc(x) - np.array([math.erfc(v) for v in x]))) < 2e-7
