"""`painguide serve --workers 2`: migrates once, both workers answer signed-in pages from the shared database,
and the listening socket is a TCP one (so accepted connections get TCP_NODELAY). The access log is off unless
asked for, and then names paths without their queries."""

from __future__ import annotations

import contextlib
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from painguide.web.security import CSRF_FIELD
from painguide.web.serving import PathOnly, _TcpConfig, log_config


def test_listening_socket_is_tcp_and_inheritable() -> None:
    config = _TcpConfig("painguide.web.app:worker_app", factory=True, host="127.0.0.1", port=0, workers=2)
    sock = config.bind_socket()
    try:
        assert sock.proto == socket.IPPROTO_TCP and sock.get_inheritable()
        assert sock.getsockname()[0] == "127.0.0.1"
    finally:
        sock.close()


@contextmanager
def _serving(
    folder: Path, *options: str, process: list[subprocess.Popen[bytes]] | None = None
) -> Iterator[str]:
    """``painguide serve --port P OPTIONS`` on a free port with its log in ``folder``; yields the base URL
    (and puts the server's process into ``process``, when given)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    exe = Path(sys.executable).with_name("painguide")
    log = (folder / "server.log").open("w")
    command = [str(exe), "serve", "--port", str(port), *options]
    proc = subprocess.Popen(
        command, env=_env(folder), stdout=log, stderr=subprocess.STDOUT, preexec_fn=_interruptible
    )
    if process is not None:
        process.append(proc)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
            assert proc.poll() is None, (folder / "server.log").read_text()
        yield base
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        log.close()


def _interruptible() -> None:
    """Ctrl-C as from a terminal: a test run started as a background job ignores SIGINT, and its children
    would inherit that (uvicorn still stops on it, but cannot raise it again after its shutdown)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _page_token(client: httpx.Client, path: str) -> str:
    """The CSRF token the page at ``path`` shows this client, as a browser's form sends it."""
    found = re.search(r'<meta name="csrf-token" content="([^"]+)">', client.get(path).text)
    assert found, f"no csrf-token meta tag on {path}"
    return found.group(1)


@contextmanager
def _signed_in(folder: Path, base: str, username: str, password: str) -> Iterator[httpx.Client]:
    """A client signed in as a new physician ``username`` (added with ``painguide user add``)."""
    exe = Path(sys.executable).with_name("painguide")
    subprocess.run([str(exe), "user", "add", username, "--role", "physician", "--password", password],
                   env=_env(folder), check=True, capture_output=True)  # fmt: skip
    with httpx.Client(base_url=base, timeout=10) as client:
        form = {"username": username, "password": password, CSRF_FIELD: _page_token(client, "/login")}
        assert client.post("/login", data=form).status_code in (200, 303)
        yield client


def _env(folder: Path) -> dict[str, str]:
    return {**os.environ, "PAINGUIDE_DATA_DIR": str(folder), "PAINGUIDE_DEMO": "0",
            "PAINGUIDE_SECRET_KEY": "workers-test-" + "w" * 40}  # fmt: skip


def test_two_workers_serve_a_signed_in_session(tmp_path: Path) -> None:
    with (
        _serving(tmp_path, "--workers", "2") as base,
        _signed_in(tmp_path, base, "wrk", "workers-pass-123") as c,
    ):
        # new connections are spread over the workers; every one finds the session in the database
        answers = [httpx.get(f"{base}/api/v1/patients", cookies=c.cookies, timeout=10) for _ in range(12)]
    assert [r.status_code for r in answers] == [200] * 12
    text = (tmp_path / "server.log").read_text()
    assert "workers=2" in text and "live ultrasound sessions" in text
    assert "/api/v1/patients" not in text  # no access log by default
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


@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_access_log_names_paths_without_queries(tmp_path: Path, workers: str) -> None:
    with _serving(tmp_path, "--workers", workers, "--access-log") as base:
        answer = httpx.get(f"{base}/patients?q=Quistorp", timeout=10)
    assert answer.status_code in (303, 307, 401)  # not signed in
    text = (tmp_path / "server.log").read_text()
    assert re.search(r'"GET /patients HTTP/1\.1" \d{3}', text), text
    assert "Quistorp" not in text


def test_path_only_leaves_other_records_alone() -> None:
    def record(message: str, args: tuple[object, ...]) -> logging.LogRecord:
        return logging.LogRecord("uvicorn.access", logging.INFO, __file__, 1, message, args, None)

    access = record('%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5", "GET", "/patients?q=Ann&page=2", "1.1", 200))
    assert PathOnly().filter(access) and access.getMessage() == '127.0.0.1:5 - "GET /patients HTTP/1.1" 200'
    other = record("%s", ("no query here?",))
    assert PathOnly().filter(other) and other.args == ("no query here?",)
    assert log_config()["handlers"]["access"]["filters"] == ["path_only"]


def test_an_interrupt_stops_the_server_while_a_live_stream_is_open(tmp_path: Path) -> None:
    """A live page's image stream never ends by itself; Ctrl-C must still stop the server, after at most
    ``SHUTDOWN_GRACE_S`` (before, it waited for the stream's ten minutes)."""
    import threading

    from painguide.web.serving import SHUTDOWN_GRACE_S

    received: list[int] = []
    process: list[subprocess.Popen[bytes]] = []
    with (
        _serving(tmp_path, process=process) as base,
        _signed_in(tmp_path, base, "doc", "stream-pass-123") as c,
    ):
        form = {"source": "simulated", CSRF_FIELD: _page_token(c, "/sono/live")}
        started = c.post("/sono/live/source", data=form)
        assert started.status_code == 303, started.text
        session = started.headers["location"].rsplit("=", 1)[1]

        def watch() -> None:  # the live page's stream, read until the server closes it
            timeout = httpx.Timeout(10, read=None)
            with contextlib.suppress(httpx.HTTPError), c.stream("GET", f"/sono/live/{session}/stream",
                                                                 timeout=timeout) as stream:  # fmt: skip
                for chunk in stream.iter_bytes():
                    received.append(len(chunk))

        reader = threading.Thread(target=watch, daemon=True)
        reader.start()
        deadline = time.monotonic() + 60
        while sum(received) < 10_000:  # images are coming
            assert reader.is_alive() and time.monotonic() < deadline
            time.sleep(0.05)
        [proc] = process
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=SHUTDOWN_GRACE_S + 25)  # raises if the server is still waiting for the stream
        log = (tmp_path / "server.log").read_text()
        assert proc.returncode == 130, log  # interrupted (docs/cli.md)
        assert "Traceback" not in log and "Cancel" not in log  # the stream ended by itself
        reader.join(timeout=5)
        assert not reader.is_alive()  # the stream was closed, not left hanging
