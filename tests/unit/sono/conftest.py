"""Small simulated cines shared by the ultrasound guidance unit tests."""

from __future__ import annotations

import pytest

from painguide.sono.simulate import SimulatedCine, SimulationParams, simulate_cine

CLEAR = SimulationParams(
    seed=7,
    rows=200,
    cols=240,
    width_mm=40.0,
    depth_mm=32.0,
    n_frames=40,
    frame_rate_hz=20.0,
    needle_angle_deg=28.0,
    needle_entry_z_mm=4.0,
    needle_target_length_mm=24.0,
    needle_speed_mm_s=30.0,
    needle_start_s=0.1,
    needle_brightness=9.0,
    injection_at_s=1.0,
    spread_delay_s=0.1,
    spread_rate_mm2_s=40.0,
    bone=False,
)
"""A cine whose needle is bright and whose fluid spreads next to the tip."""


@pytest.fixture(scope="session")
def clear_cine() -> SimulatedCine:
    return simulate_cine(CLEAR)


@pytest.fixture(scope="session")
def needle_free_cine() -> SimulatedCine:
    from dataclasses import replace

    return simulate_cine(replace(CLEAR, seed=11, needle=False, injection_at_s=None, bone=True))


@pytest.fixture(scope="session")
def clear_params() -> SimulationParams:
    return CLEAR


@pytest.fixture(scope="session")
def layer_cine() -> SimulatedCine:
    """Development cine ``steep_deep`` 496 simulated without its needle: a gently curved 32 mm layer from
    the right side at about 10 degrees whose bend refit reaches the left side (far-side, bent-tip tests)."""
    from dataclasses import replace

    from painguide.sono.scenes import development_seed, scene_params

    params = scene_params("steep_deep", development_seed("steep_deep", 496))
    return simulate_cine(replace(params, needle=False))
