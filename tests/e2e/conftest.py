"""End-to-end fixtures: a real uvicorn server on a free loopback port and Debian's Chromium via Playwright."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def _chromium() -> str:
    for name in ("chromium", "chromium-browser"):
        if path := shutil.which(name):
            return path
    if os.environ.get("CI"):
        pytest.fail("Chromium not installed (apt-get install chromium)")
    pytest.skip("Chromium not installed")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """`painguide serve --demo` as a subprocess, exactly as a user starts it."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data_dir = tmp_path_factory.mktemp("e2e-data")
    env = {**os.environ, "PAINGUIDE_DATA_DIR": str(data_dir), "PAINGUIDE_DEMO": "1"}
    exe = Path(sys.executable).with_name("painguide")
    log = (data_dir / "server.log").open("w")
    proc = subprocess.Popen(
        [str(exe), "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 180  # demo seeding takes 30-70 s on a loaded machine
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.2)
        if proc.poll() is not None:
            raise RuntimeError((data_dir / "server.log").read_text())
    else:
        proc.kill()
        raise RuntimeError("server did not start within 180 s")
    yield url
    proc.terminate()
    proc.wait(timeout=10)
    log.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    executable = _chromium()
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=executable, headless=True, args=CHROMIUM_FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser: Any, live_server: str) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server, viewport={"width": 1360, "height": 900})
    pg = context.new_page()
    yield pg
    context.close()


def _sign_in(page: Any, username: str = "physician") -> None:
    page.goto("/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", "demo-painguide")
    page.click("button[type=submit]")
    page.wait_for_load_state()


@pytest.fixture
def sign_in() -> Any:
    """Sign a demo user in through the login form, as a person would."""
    return _sign_in
