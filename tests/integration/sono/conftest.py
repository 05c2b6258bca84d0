"""Small simulated cines written as DICOM, and a signed-in web client, for the ultrasound tests."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from painguide.sono.simulate import SimulatedCine, SimulationParams, simulate_cine

PARAMS = SimulationParams(
    seed=21,
    rows=160,
    cols=200,
    width_mm=36.0,
    depth_mm=30.0,
    n_frames=36,
    frame_rate_hz=20.0,
    needle_angle_deg=30.0,
    needle_speed_mm_s=30.0,
    needle_target_length_mm=22.0,
    needle_brightness=9.0,
    injection_at_s=0.9,
    spread_rate_mm2_s=40.0,
    bone=False,
)


@pytest.fixture(scope="session")
def cine() -> SimulatedCine:
    return simulate_cine(PARAMS)


@pytest.fixture(scope="session")
def cine_file(cine: SimulatedCine, tmp_path_factory: pytest.TempPathFactory) -> Path:
    from painguide.sono.dicom import write_dicom_cine

    return write_dicom_cine(cine.frames, tmp_path_factory.mktemp("sono") / "cine.dcm")


@pytest.fixture
def client(demo_client: TestClient, sign_in: Callable[[TestClient, str], None]) -> TestClient:
    """The demo app with the physician signed in."""
    sign_in(demo_client, "physician")
    return demo_client


@pytest.fixture
def live_reset() -> Iterator[None]:
    """Stop the web page's live source after the test."""
    from painguide.web.routes import sono

    yield
    sono._stop_live()
