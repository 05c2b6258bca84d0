"""OpenIGTLink for real: a pyigtl server plays PLUS, the live session tracks and replies on loopback."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import pyigtl
import pytest
from fastapi.testclient import TestClient

from painguide.sono.igtl import IgtlPublisher, is_injection_start, tip_matrix
from painguide.sono.live import LiveSession
from painguide.sono.pipeline import GuidancePipeline
from painguide.sono.simulate import SimulatedCine
from painguide.sono.sources import IgtlImageSource, connect_igtl, open_source


@pytest.fixture
def plus_server() -> Iterator[Any]:
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    server = pyigtl.OpenIGTLinkServer(port=0, local_server=True)
    try:
        yield server
    finally:
        server.stop()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def _feed(server: Any, cine: SimulatedCine, inject_at: int) -> None:
    deadline = time.monotonic() + 5
    while not server.is_connected() and time.monotonic() < deadline:
        time.sleep(0.01)
    for frame in cine.frames:
        matrix = np.diag([frame.col_spacing_mm, frame.row_spacing_mm, 1.0, 1.0])
        message = pyigtl.ImageMessage(
            frame.pixels[None], ijk_to_world_matrix=matrix, timestamp=1000.0 + frame.time_s,
            device_name="Image_Reference",
        )  # fmt: skip
        server.send_message(message, wait=True)
        if frame.index == inject_at:
            server.send_message(pyigtl.StringMessage("START", device_name="Injection"), wait=True)
        time.sleep(0.04)


def test_live_tracking_over_openigtlink(plus_server: Any, cine: SimulatedCine) -> None:
    port = plus_server.server_address[1]
    session = LiveSession(pipeline=GuidancePipeline(wait_for_injection=True))
    source = IgtlImageSource("127.0.0.1", port, on_string=session.on_string, timeout_s=1.5)
    session.publishers.append(IgtlPublisher(source.client))
    feeder = threading.Thread(target=_feed, args=(plus_server, cine, 18), daemon=True)
    feeder.start()
    try:
        results = list(session.run(source))
    finally:
        source.close()
        feeder.join(timeout=10)
    assert len(results) >= 0.8 * len(cine.frames)
    assert results[-1].needle.visible
    assert results[5].time_s == pytest.approx(cine.frames[results[5].index].time_s, abs=0.5)
    types = [e.type for r in results for e in r.events]
    assert "injection_start" in types
    transform = plus_server.wait_for_message("NeedleTipToImage", timeout=3)
    point = plus_server.wait_for_message("NeedleTip", timeout=3)
    assert transform is not None and point is not None
    truth = cine.truth[-1]
    assert transform.matrix[0, 3] == pytest.approx(truth.tip_x_mm, abs=1.0)
    assert transform.matrix[1, 3] == pytest.approx(truth.tip_z_mm, abs=1.0)
    assert point.positions[0][0] == pytest.approx(transform.matrix[0, 3], abs=1e-3)
    assert session.latest_jpeg() is not None and session.latest_jpeg()[:2] == b"\xff\xd8"


def test_web_live_page_follows_an_openigtlink_source(
    client: TestClient, live_reset: None, plus_server: Any, cine: SimulatedCine
) -> None:
    spec = f"igtl:127.0.0.1:{plus_server.server_address[1]}"
    r = client.post("/sono/live/source", data={"source": spec}, follow_redirects=False)
    assert r.status_code == 303
    session = r.headers["location"].rsplit("=", 1)[1]
    feeder = threading.Thread(target=_feed, args=(plus_server, cine, 18), daemon=True)
    feeder.start()
    status: dict[str, Any] = {}
    deadline = time.monotonic() + 15  # bounded wait for frames, not a speed check
    while time.monotonic() < deadline:
        status = client.get(f"/sono/live/{session}/status").json()
        if status["frames"] >= 20:
            break
        time.sleep(0.1)
    assert status["source"] == spec and status["error"] is None
    assert status["frames"] >= 20
    with client.stream("GET", f"/sono/live/{session}/stream?images=1") as stream:
        body = stream.read()
    assert body.startswith(b"--frame") and b"\xff\xd8" in body
    transform = plus_server.wait_for_message("NeedleTipToImage", timeout=5)
    assert transform is not None  # the page's session replies to the sender, as the CLI does
    feeder.join(timeout=10)
    copies = {}
    for language in ("en", "de"):  # the German copy is drawn in a worker thread on request
        headers = {"accept-language": language}
        with client.stream("GET", f"/sono/live/{session}/stream?images=1", headers=headers) as stream:
            copies[language] = stream.read()
    assert b"\xff\xd8" in copies["de"] and copies["de"] != copies["en"]


def _send_one(server: Any, pixels: np.ndarray) -> None:
    deadline = time.monotonic() + 5
    while not server.is_connected() and time.monotonic() < deadline:
        time.sleep(0.01)
    message = pyigtl.ImageMessage(pixels[None], timestamp=1000.0, device_name="Image_Reference")
    server.send_message(message, wait=True)


@pytest.mark.parametrize("path", ["connect", "open_source"])
def test_the_connection_check_loses_no_image(plus_server: Any, path: str) -> None:
    """pyigtl's server sends to one client: a test connection of its own would lose the first image."""
    port = plus_server.server_address[1]
    if path == "connect":
        source = IgtlImageSource("127.0.0.1", port, client=connect_igtl("127.0.0.1", port), timeout_s=3)
        frames = iter(source)
    else:
        frames = open_source(f"igtl:127.0.0.1:{port}")
    pixels = np.arange(48 * 64, dtype=np.uint16).reshape(48, 64) % 251
    sender = threading.Thread(target=_send_one, args=(plus_server, pixels.astype(np.uint8)), daemon=True)
    sender.start()
    try:
        first = next(frames, None)
    finally:
        sender.join(timeout=10)
        if path == "connect":
            source.close()
        else:
            frames.close()  # type: ignore[attr-defined]
    assert first is not None, "the first image was lost"
    assert first.index == 0 and first.time_s == 0.0
    np.testing.assert_array_equal(first.pixels, pixels.astype(np.uint8))


def test_injection_signal_parsing() -> None:
    assert is_injection_start("Injection", " start ")
    assert is_injection_start("Anything", "INJECTION_START")
    assert not is_injection_start("Injection", "stop")


def test_tip_matrix_points_along_the_shaft() -> None:
    m = tip_matrix(10.0, 20.0, -30.0)
    assert m[:2, 3].tolist() == [10.0, 20.0]
    assert m[0, 0] == pytest.approx(-np.cos(np.radians(30)))  # from the right: the tip points left
    assert m[1, 0] == pytest.approx(np.sin(np.radians(30)))  # and deeper
    assert np.allclose(m[:3, :3] @ m[:3, :3].T, np.eye(3))
