"""Whether the server of this process is shutting down: set by ``painguide serve`` (web/serving.py) when
Ctrl-C or SIGTERM comes, read by responses that never end by themselves (a live page's image stream,
web/routes/sono.py), so that they end at once instead of holding the shutdown.

A module of its own, without uvicorn: the web app imports it, and serving is the command's business."""

from __future__ import annotations

import threading

__all__ = ["STOPPING"]

STOPPING = threading.Event()
"""Set when the server of this process begins to shut down. Worker processes (``--workers N``) do not set
it: there such a stream is cancelled after ``SHUTDOWN_GRACE_S`` (web/serving.py)."""
