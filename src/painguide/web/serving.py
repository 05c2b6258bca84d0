"""Serving the app (``painguide serve``): in this process, or with several worker processes (``--workers N``).

With workers, the command prepares the database once (migrations, demo data), binds the listening socket,
and uvicorn's process supervisor starts the workers, each building the app with
:func:`painguide.web.app.worker_app`.
"""

from __future__ import annotations

import copy
import logging
import socket
import sys
from types import FrameType

import uvicorn
from fastapi import FastAPI
from uvicorn.config import LOGGING_CONFIG
from uvicorn.supervisors import Multiprocess

from painguide.web.stopping import STOPPING

__all__ = ["SHUTDOWN_GRACE_S", "PathOnly", "log_config", "serve", "serve_workers"]

APP = "painguide.web.app:worker_app"
SHUTDOWN_GRACE_S = 5
"""On Ctrl-C or SIGTERM, how long requests still running may go on before they are cancelled."""


class _Server(uvicorn.Server):
    """uvicorn's server that sets :data:`~painguide.web.stopping.STOPPING` when a signal asks it to stop."""

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        STOPPING.set()
        super().handle_exit(sig, frame)


def serve(app: FastAPI, host: str, port: int, *, access_log: bool = False) -> None:
    """Serve ``app`` in this process until interrupted (as ``uvicorn.run``, with :data:`STOPPING`)."""
    config = uvicorn.Config(app, host=host, port=port, access_log=access_log, log_config=log_config(),
                            log_level="info", timeout_graceful_shutdown=SHUTDOWN_GRACE_S)  # fmt: skip
    server = _Server(config)
    server.run()
    if not server.started:  # the port was taken, or the app did not start: as uvicorn.run
        sys.exit(3)  # uvicorn.main.STARTUP_FAILURE


class _TcpConfig(uvicorn.Config):
    """uvicorn's settings with a listening socket whose protocol is TCP.

    uvicorn makes the socket it hands to its workers with protocol 0, so asyncio does not set TCP_NODELAY on
    the connections they accept (it checks for ``IPPROTO_TCP``) and every small answer waits about 40 ms
    for the client's delayed ACK (measured: 48 ms for ``/health`` with two workers, 2 ms with one process).
    The same socket, with its protocol read from the descriptor, gets TCP_NODELAY as with one process.
    """

    def bind_socket(self) -> socket.socket:
        sock = super().bind_socket()
        if sock.family in (socket.AF_INET, socket.AF_INET6):
            sock = socket.socket(fileno=sock.detach())
            sock.set_inheritable(True)
        return sock


class PathOnly(logging.Filter):
    """Access-log lines name the path without its query: a search's words (patient names) and other query
    values stay out of the server's log, which is not the audit log (that one records who read what)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) == 5 and isinstance(args[2], str):
            record.args = (args[0], args[1], args[2].split("?", 1)[0], args[3], args[4])
        return True


def log_config() -> dict[str, object]:
    """uvicorn's logging configuration with :class:`PathOnly` on its access log (every worker applies it)."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["path_only"] = {"()": f"{__name__}.PathOnly"}
    config["handlers"]["access"]["filters"] = ["path_only"]
    return config


def serve_workers(host: str, port: int, workers: int, *, access_log: bool = False) -> None:
    """Serve with ``workers`` processes on one listening socket until interrupted."""
    config = _TcpConfig(APP, factory=True, host=host, port=port, workers=workers, log_level="info",
                        access_log=access_log, log_config=log_config(),
                        timeout_graceful_shutdown=SHUTDOWN_GRACE_S)  # fmt: skip
    Multiprocess(config, sockets=[config.bind_socket()]).run()
