"""`painguide serve --workers 2`: migrates once, both workers answer signed-in pages from the shared database,
and the listening socket is a TCP one (so accepted connections get TCP_NODELAY)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from painguide.web.security import CSRF_FIELD
from painguide.web.serving import _TcpConfig


def test_listening_socket_is_tcp_and_inheritable() -> None:
    config = _TcpConfig("painguide.web.app:worker_app", factory=True, host="127.0.0.1", port=0, workers=2)
    sock = config.bind_socket()
    try:
        assert sock.proto == socket.IPPROTO_TCP and sock.get_inheritable()
        assert sock.getsockname()[0] == "127.0.0.1"
    finally:
        sock.close()


def test_two_workers_serve_a_signed_in_session(tmp_path: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PAINGUIDE_DATA_DIR": str(tmp_path), "PAINGUIDE_DEMO": "0",
           "PAINGUIDE_SECRET_KEY": "workers-test-" + "w" * 40}  # fmt: skip
    exe = Path(sys.executable).with_name("painguide")
    subprocess.run([str(exe), "user", "add", "wrk", "--role", "physician", "--password", "workers-pass-123"],
                   env=env, check=True, capture_output=True)  # fmt: skip
    log = (tmp_path / "server.log").open("w")
    proc = subprocess.Popen([str(exe), "serve", "--port", str(port), "--workers", "2"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
            assert proc.poll() is None, (tmp_path / "server.log").read_text()
        with httpx.Client(base_url=base, timeout=10) as c:
            token = re.search(r'<meta name="csrf-token" content="([^"]+)">', c.get("/login").text)
            assert token
            form = {"username": "wrk", "password": "workers-pass-123", CSRF_FIELD: token.group(1)}
            assert c.post("/login", data=form).status_code in (200, 303)
            # new connections are spread over the workers; every one finds the session in the database
            answers = [httpx.get(f"{base}/api/v1/patients", cookies=c.cookies, timeout=10) for _ in range(12)]
        assert [r.status_code for r in answers] == [200] * 12
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()
    text = (tmp_path / "server.log").read_text()
    assert "workers=2" in text and "live ultrasound sessions" in text
    assert len(set(re.findall(r"Started server process \[(\d+)\]", text))) == 2


def test_serving_uses_the_c_http_parser_and_event_loop() -> None:
    """uvicorn picks httptools and uvloop when installed (dependencies of painguide): h11's parser and the
    asyncio loop in Python cost about a fifth of a worker's CPU per request (docs/performance.md)."""

    async def app(scope: object, receive: object, send: object) -> None:
        """A placeholder ASGI app: only uvicorn's choice of protocol and loop is checked."""

    config = _TcpConfig(app, host="127.0.0.1", port=0, workers=2)
    config.load()
    assert config.http_protocol_class.__name__ == "HttpToolsProtocol"
    factory = config.get_loop_factory()
    assert factory is not None and factory.__module__.startswith("uvloop")
