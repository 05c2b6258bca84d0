"""Serving the app with several worker processes (``painguide serve --workers N``).

The command prepares the database once (migrations, demo data), binds the listening socket, and uvicorn's
process supervisor starts the workers, each building the app with :func:`painguide.web.app.worker_app`.
"""

from __future__ import annotations

import socket

import uvicorn
from uvicorn.supervisors import Multiprocess

__all__ = ["serve_workers"]

APP = "painguide.web.app:worker_app"


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


def serve_workers(host: str, port: int, workers: int) -> None:
    """Serve with ``workers`` processes on one listening socket until interrupted."""
    config = _TcpConfig(APP, factory=True, host=host, port=port, workers=workers, log_level="info")
    Multiprocess(config, sockets=[config.bind_socket()]).run()
