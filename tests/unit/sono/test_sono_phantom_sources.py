"""Simulator realism (speckle shape, needle echo, angle fall-off, variety) and source parsing."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest

from painguide.errors import ValidationError
from painguide.sono import phantom
from painguide.sono.simulate import MIN_CONTRAST, SimulationParams, random_params, simulate_cine
from painguide.sono.sources import SourceSpec, open_source, parse_source


def _half_width(image: np.ndarray, axis: int) -> int:
    """Lag (pixels) at which the autocorrelation of ``image`` along ``axis`` falls below one half."""
    centred = image - image.mean()
    power = float(np.mean(centred * centred))
    for lag in range(1, 40):
        if float(np.mean(centred * np.roll(centred, lag, axis=axis))) / power < 0.5:
            return lag
    return 40


def test_speckle_is_wider_than_tall(clear_params: SimulationParams) -> None:
    params = replace(clear_params, needle=False, vessel=False, injection_at_s=None, n_frames=1)
    frame = simulate_cine(params).frames[0]
    tissue = frame.pixels[60:190, 30:210].astype(np.float64)
    axial_mm = _half_width(tissue, 0) * frame.row_spacing_mm
    lateral_mm = _half_width(tissue, 1) * frame.col_spacing_mm
    assert lateral_mm > 1.5 * axial_mm


def test_needle_wall_is_thin_and_reverberates_below(clear_params: SimulationParams) -> None:
    params = replace(clear_params, reverb_weights=(0.5,), bevel_brightness=0.0, needle_diameter_mm=0.7)
    state = phantom.needle_state(params, 1.5)
    field = np.zeros((params.rows, params.cols), np.float32)
    phantom.render_needle(state, params, np.zeros(2), field)
    col = params.cols // 4
    column = field[:, col]
    above_half = np.flatnonzero(column > 0.5 * column.max())
    wall = above_half[above_half < above_half[0] + round(0.35 / params.row_spacing_mm)]
    assert (wall.size * params.row_spacing_mm) < 0.5  # a 22 G wall echo is a few tenths of a mm
    inner = column[1:-1]
    peaks = np.flatnonzero((inner > column[:-2]) & (inner >= column[2:]) & (inner > 0.2 * column.max())) + 1
    assert peaks.size == 2  # the wall, and one reverberation half as bright below it
    assert column[peaks[1]] == pytest.approx(0.5 * column[peaks[0]], rel=0.1)
    depth_step_mm = params.needle_diameter_mm / math.cos(math.radians(params.needle_angle_deg))
    assert (peaks[1] - peaks[0]) * params.row_spacing_mm == pytest.approx(depth_step_mm, abs=0.17)


def test_steep_needles_are_faint(clear_params: SimulationParams) -> None:
    state = phantom.needle_state(clear_params, 1.0)
    amplitudes = [
        phantom.needle_amplitude(replace(clear_params, needle_angle_deg=a), state) for a in (15, 30, 45, 60)
    ]
    assert amplitudes == sorted(amplitudes, reverse=True)
    assert amplitudes[-1] < 0.25 * amplitudes[0]


def test_faint_steep_needle_is_not_visible_in_the_truth(clear_params: SimulationParams) -> None:
    faint = replace(
        clear_params, needle_angle_deg=60.0, needle_brightness=6.0, n_frames=30, rows=100, cols=120
    )
    bright = replace(faint, needle_angle_deg=25.0, needle_brightness=12.0)
    assert not any(t.needle_visible for t in simulate_cine(faint).truth)
    assert simulate_cine(bright).truth[-1].needle_visible
    assert MIN_CONTRAST == 2.0


def test_random_params_vary_widely() -> None:
    drawn = [random_params(seed) for seed in range(60)]
    depths = [p.depth_mm for p in drawn]
    assert min(depths) < 40 and max(depths) > 70  # probe depths 3-8 cm
    assert np.ptp([p.gain_db for p in drawn]) > 8 and np.ptp([p.dynamic_range_db for p in drawn]) > 15
    assert np.ptp([p.speckle_mm[1] for p in drawn]) > 0.15 and np.ptp([p.noise for p in drawn]) > 0.005
    assert len({p.tgc_db for p in drawn}) == len(drawn)
    assert all(p.speckle_mm[1] > p.speckle_mm[0] for p in drawn)


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("dicom:/data/cine.dcm", SourceSpec("dicom", "/data/cine.dcm")),
        ("video:0", SourceSpec("video", 0)),
        ("video:clip.mp4", SourceSpec("video", "clip.mp4")),
        ("igtl:127.0.0.1:18944", SourceSpec("igtl", "127.0.0.1", 18944)),
        (" simulated ", SourceSpec("simulated")),
    ],
)
def test_parse_source(spec: str, expected: SourceSpec) -> None:
    assert parse_source(spec) == expected


@pytest.mark.parametrize("spec", ["", "usb:1", "dicom:", "igtl:host", "igtl:host:99999", "simulated:1"])
def test_parse_source_names_the_field(spec: str) -> None:
    with pytest.raises(ValidationError, match=r"^source: expected"):
        parse_source(spec, field="source")


def test_video_source_needs_the_pixel_size() -> None:
    with pytest.raises(ValidationError, match="--spacing-mm: video sources carry no calibration"):
        open_source("video:0")
