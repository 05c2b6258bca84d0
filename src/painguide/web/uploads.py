"""Uploads: a per-endpoint size limit enforced while the body arrives (HTTP 413), and chunked saving to disk.

:class:`UploadLimit` counts the request body of the listed endpoints as it is received. A declared
``Content-Length`` above the limit is refused before anything is read; a body that grows past it (chunked
transfer) is refused as soon as it does. :func:`save_upload` then copies an accepted file to its
destination in chunks, through a temporary file that is renamed at the end, so a file is never kept
truncated.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import IO

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from painguide.errors import UploadTooLargeError
from painguide.i18n.marks import N_

__all__ = ["UploadLimit", "save_upload", "too_large"]

_CHUNK = 1024 * 1024


def too_large(path: str, limit: int) -> UploadTooLargeError:
    """The error for an upload over ``limit`` bytes at ``path``."""
    return UploadTooLargeError(
        "file",
        N_(
            "the upload is larger than the %(mb)s MB limit of %(path)s; "
            "export a shorter clip or a smaller file"
        ),
        mb=_megabytes(limit),
        path=path,
    )


def _megabytes(limit: int) -> int | float:
    """``limit`` bytes in MB: a whole number as such, else to 3 significant digits (a page writes it with
    its language's decimal sign)."""
    mb = limit / 1024 / 1024
    return int(mb) if mb.is_integer() else float(f"{mb:.3g}")


class UploadLimit:
    """ASGI middleware refusing request bodies above a per-path limit with 413.

    Parameters
    ----------
    app : ASGI app
        The wrapped application.
    limits : mapping of str to int
        ``path -> bytes`` for POST requests; read on every request, so it can be changed at run time.
    render : callable
        ``(request, error) -> Response`` used for the 413 answer (HTML page or JSON).
    """

    def __init__(
        self, app: ASGIApp, *, limits: Mapping[str, int], render: Callable[[Request, Exception], Response]
    ):
        self.app = app
        self.limits = limits
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Pass the request on, counting its body against the path's limit."""
        limit = self.limits.get(scope.get("path", "")) if scope["type"] == "http" else None
        if limit is None or scope.get("method") != "POST":
            await self.app(scope, receive, send)
            return
        error = too_large(scope["path"], limit)
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length", b"").decode() or "0"
        if declared.isdigit() and int(declared) > limit:
            await self.render(Request(scope), error)(scope, receive, send)
            return
        state = {"received": 0, "exceeded": False, "started": False}

        async def counted() -> Message:
            message = await receive()
            if message["type"] == "http.request":
                state["received"] += len(message.get("body", b""))
                if state["received"] > limit:
                    state["exceeded"] = True
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if state["exceeded"]:  # the app gave up on the body: answer 413 instead, once
                if not state["started"]:
                    state["started"] = True
                    await self.render(Request(scope), error)(scope, receive, send)
                return
            await send(message)

        await self.app(scope, counted, guarded)


def save_upload(source: IO[bytes], destination: Path, *, limit: int, endpoint: str) -> int:
    """Copy an uploaded file object to ``destination`` in chunks, refusing more than ``limit`` bytes.

    Parameters
    ----------
    source : binary file object
        The upload (``UploadFile.file``), read from its current position.
    destination : Path
        Final path; written through a temporary file in the same folder and renamed when complete.
    limit : int
        Largest accepted size in bytes.
    endpoint : str
        The endpoint, for the error message.

    Returns
    -------
    int
        Bytes written.

    Raises
    ------
    UploadTooLargeError
        The file is larger than ``limit`` (nothing is kept).
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=destination.parent, prefix=".upload-")
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            while chunk := source.read(_CHUNK):
                size += len(chunk)
                if size > limit:
                    raise too_large(endpoint, limit)
                out.write(chunk)
        os.replace(temporary, destination)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return size
