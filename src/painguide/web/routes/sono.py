"""Ultrasound guidance pages: live guidance on a chosen source (MJPEG overlay, warnings) and review.

Review: upload and list (``/sono/review``), one stored analysis with its timeline chart, key frames and
events (``/sono/review/{id}``), and the key-frame images drawn from the kept cine.
"""

from __future__ import annotations

import asyncio
import atexit
import tempfile
from collections.abc import AsyncIterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from painguide.auth import User, permission_matrix
from painguide.errors import NotFoundError, PainguideError, ValidationError
from painguide.i18n.marks import N_
from painguide.settings import get_settings
from painguide.sono.charts import timeline_figure
from painguide.sono.live import LiveEntry, LiveRegistry, LiveSession
from painguide.sono.pipeline import EVENT_LABELS, WARNING_TYPES
from painguide.sono.service import (
    MAX_UPLOAD_BYTES,
    acknowledge_live_warning,
    analyse_and_store,
    cine_dir,
    get_review,
    key_frame_jpeg,
    live_sessions,
    mark_live_injection,
    may_control,
    recent_analyses,
    record_live_view,
    shows_identity,
    start_live_source,
    stop_live_session,
)
from painguide.sono.service import live_status as status_of
from painguide.sono.sources import SOURCE_FORMS, parse_source
from painguide.store.uow import UnitOfWork
from painguide.web.deps import allow, get_uow, templates
from painguide.web.i18n import translator
from painguide.web.stopping import STOPPING
from painguide.web.uploads import save_upload

__all__ = ["router"]

router = APIRouter(prefix="/sono")
LiveViewer = Annotated[User, Depends(allow("sono.live.view"))]
LiveController = Annotated[User, Depends(allow("sono.live.control"))]
ReviewReader = Annotated[User, Depends(allow("sono.review.read"))]
ReviewUploader = Annotated[User, Depends(allow("sono.review.upload"))]

_registry = LiveRegistry()
atexit.register(_registry.stop_all)
_FIELD = "source"
MAX_LIVE_UPLOAD_BYTES = 500 * 1024 * 1024
"""Largest cine or video accepted by the live page (a video of a few minutes)."""
UPLOAD_LIMITS: dict[str, int] = {"/sono/live/source": MAX_LIVE_UPLOAD_BYTES, "/sono/review": MAX_UPLOAD_BYTES}
"""Body size limits of the upload endpoints, enforced while the body arrives (see ``web/uploads.py``)."""


POLL_MS = 500
"""How often the live page asks for the session's status (sono-live.js); a warning does not wait for it."""


def _upload_dir(user: User) -> Path:
    """The user's own folder for cines and videos uploaded on the live page (``dicom:NAME``)."""

    folder = get_settings().data_dir / "sono-live" / user.username
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _uploads(user: User) -> list[str]:
    return sorted(p.name for p in _upload_dir(user).iterdir() if p.is_file() and not p.name.startswith("."))


def _resolve(spec: str, user: User) -> str:
    """Map ``dicom:NAME`` and ``video:NAME`` to the user's uploads; other sources pass through."""

    source = parse_source(spec, field=_FIELD)
    if not source.is_file:
        return spec.strip()
    name = str(source.target)
    path = _upload_dir(user) / Path(name).name
    if Path(name).name != name or name.startswith(".") or not path.is_file():
        raise ValidationError(
            _FIELD,
            N_(
                "%(source)s must name a file you uploaded on this page; upload the cine or video with the "
                "file field first (server paths are not accepted)"
            ),
            source=f"{source.kind}:{name}",
        )
    return f"{source.kind}:{path}"


def _stop_live() -> None:
    """Stop every live session (tests, shutdown)."""
    _registry.stop_all()


def _selected(user: User, session_id: str | None) -> LiveEntry | None:
    """The session the page shows: the one asked for, else the user's own, else none."""

    if session_id:
        try:
            return _registry.get(session_id)
        except NotFoundError:
            return None
    return _registry.owned_by(user.username)


def _live_context(
    user: User, *, session_id: str | None = None, error: str | None = None, source: str = ""
) -> dict[str, Any]:
    entry = _selected(user, session_id)
    identity = shows_identity(user)
    return {
        "user": user,
        "error": error,
        "entry": entry,
        "can_control": entry is not None and may_control(user, entry),
        "can_start": permission_matrix().allows(user.roles, "sono.live.control"),
        "identity": identity,
        "source": source or (entry.label if entry is not None and identity else ""),
        "sessions": live_sessions(_registry, user),
        "forms": SOURCE_FORMS,
        "uploads": _uploads(user) if identity else [],
        "warning_types": WARNING_TYPES,
        "poll_ms": POLL_MS,
    }


@router.get("/live", response_class=HTMLResponse)
def live_page(
    request: Request, user: LiveViewer, session: str | None = None, uow: UnitOfWork = Depends(get_uow)
) -> HTMLResponse:
    """Live guidance: the sessions running, and the chosen one's stream, warnings and controls."""

    context = _live_context(user, session_id=session)
    if context["entry"] is not None:
        record_live_view(uow, user, context["entry"])
    return templates.TemplateResponse(request, "sono/live.html", context)


@router.post("/live/source", response_class=HTMLResponse, response_model=None)
def live_source(
    request: Request,
    user: LiveController,
    source: Annotated[str, Form()] = "",
    spacing_mm: Annotated[str, Form()] = "",
    session: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
    uow: UnitOfWork = Depends(get_uow),
) -> HTMLResponse | RedirectResponse:
    """Start your live session, or switch a session's source (owner or supervisor).

    Sources: ``video:PATH_OR_INDEX``, ``igtl:HOST:PORT``, ``dicom:NAME`` of an upload, ``simulated``.
    """

    try:
        if file is not None and file.filename:
            name = Path(file.filename).name
            if not name or name.startswith("."):
                raise ValidationError(
                    "file",
                    N_("%(name)s is not a usable file name; rename the file"),
                    name=repr(file.filename),
                )
            limit = UPLOAD_LIMITS["/sono/live/source"]
            save_upload(file.file, _upload_dir(user) / name, limit=limit, endpoint="/sono/live/source")
            source = source.strip() or f"dicom:{name}"
        spacing = None
        if spacing_mm.strip():
            try:
                spacing = float(spacing_mm)
            except ValueError:
                raise ValidationError(
                    "spacing_mm",
                    N_("expected a pixel size in mm such as 0.1, got %(value)s"),
                    value=repr(spacing_mm),
                ) from None
        entry = start_live_source(
            uow,
            _registry,
            user,
            _resolve(source, user),
            label=source.strip(),
            spacing_mm=spacing,
            session_id=session.strip() or None,
            tr=translator(request),
        )
    except PainguideError as exc:
        context = _live_context(
            user, session_id=session or None, error=translator(request).error(exc), source=source
        )
        return templates.TemplateResponse(request, "sono/live.html", context, status_code=exc.http_status)
    return RedirectResponse(f"/sono/live?session={entry.id}", status_code=303)


@router.post("/live/{session_id}/stop")
def live_stop(user: LiveController, session_id: str, uow: UnitOfWork = Depends(get_uow)) -> JSONResponse:
    """Stop a live session's source (owner or supervisor; the page then shows the last frame)."""

    stop_live_session(uow, _registry, user, session_id)
    return JSONResponse({"running": False})


@router.post("/live/{session_id}/injection")
def live_injection(user: LiveController, session_id: str, uow: UnitOfWork = Depends(get_uow)) -> JSONResponse:
    """Mark the injection start now (owner or supervisor)."""

    mark_live_injection(uow, _registry, user, session_id)
    return JSONResponse({"injection": "started"})


@router.post("/live/{session_id}/ack")
def live_acknowledge(
    user: LiveController, session_id: str, warning: Annotated[int, Form()], uow: UnitOfWork = Depends(get_uow)
) -> JSONResponse:
    """Acknowledge a warning (its index in ``alerts``); the owner or a supervisor only; audited."""

    ack = acknowledge_live_warning(uow, _registry, user, session_id, warning)
    body = {"warning": warning, "acknowledged_by": ack.by, "acknowledged_at": ack.at.isoformat()}
    return JSONResponse(body)


def mjpeg_part(jpeg: bytes, warnings: int = 0) -> bytes:
    """One part of the live stream (boundary ``frame``): the JPEG with its length, so that a reader can cut
    it out at once, without waiting for the next boundary, and the number of warnings the session has raised
    so far (``X-Painguide-Warnings``), so that the page asks for a new warning's words and sounds it with
    the image that shows it, not at its next status poll (web/static/sono-live.js)."""
    head = (
        f"--frame\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n"
        f"X-Painguide-Warnings: {warnings}\r\n\r\n"
    )
    return head.encode("ascii") + jpeg + b"\r\n"


async def _mjpeg(request: Request, session: LiveSession, max_images: int) -> AsyncIterator[bytes]:
    """Multipart JPEG parts of each new overlay, its words in the viewer's language; ends when the viewer
    leaves (async, so it is cancellable)."""
    last, sent = None, 0
    t = translator(request)
    # another language's copy is drawn on first request of each frame: in a worker thread, not the event loop
    drawn_here = t.language != session.tr.language
    for _ in range(20 * 60 * 10 * 4):  # at most ten minutes per connection
        jpeg = await run_in_threadpool(session.latest_jpeg, t) if drawn_here else session.latest_jpeg(t)
        if jpeg is not None and jpeg is not last:
            last, sent = jpeg, sent + 1
            # counted after the image is read: a warning is recorded before the image that shows it is drawn
            yield mjpeg_part(jpeg, len(session.warning_events))
            if sent >= max_images:
                return
        if STOPPING.is_set() or await request.is_disconnected():  # the server stops, or the viewer left
            return
        await asyncio.sleep(0.0125)


@router.get("/live/{session_id}/stream")
def live_stream(
    request: Request, user: LiveViewer, session_id: str, images: int = 20 * 60 * 10
) -> StreamingResponse:
    """MJPEG stream of a session's annotated frames (``images`` limits the number of images sent)."""
    session = _registry.get(session_id).runner.session
    return StreamingResponse(
        _mjpeg(request, session, images), media_type="multipart/x-mixed-replace; boundary=frame"
    )


@router.get("/live/{session_id}/status")
def live_status(request: Request, user: LiveViewer, session_id: str) -> JSONResponse:
    """Source, frames, warnings with their acknowledgement, the latest tip and spread, and all sessions.

    See :func:`painguide.sono.service.live_status` for the fields (polled by the page); each warning's
    ``detail`` is in the reader's language.
    """

    status = status_of(_registry, user, session_id)
    t = translator(request)
    alerts = [{**alert, "detail": t.event(alert)} for alert in status["alerts"]]
    return JSONResponse({**status, "alerts": alerts, "warning_details": [a["detail"] for a in alerts]})


@router.get("/live/sessions")
def live_session_list(user: LiveViewer) -> JSONResponse:
    """The running live sessions: owner, source (not for viewers), state and open warnings."""

    return JSONResponse({"sessions": live_sessions(_registry, user)})


@lru_cache(maxsize=1)
def _plotly_bundle() -> str:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


@router.get("/plotly.js", include_in_schema=False, dependencies=[Depends(allow("public"))])
def plotly_js() -> Response:
    """Plotly's browser bundle, served from the installed package (no CDN)."""
    headers = {"Cache-Control": "private, max-age=86400"}
    return Response(_plotly_bundle(), media_type="application/javascript", headers=headers)


def _review_context(user: User, uow: UnitOfWork, *, error: str | None = None) -> dict[str, object]:
    return {
        "user": user,
        "rows": recent_analyses(uow),
        "error": error,
        "identity": shows_identity(user),
        "can_upload": permission_matrix().allows(user.roles, "sono.review.upload"),
    }


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request, user: ReviewReader, uow: UnitOfWork = Depends(get_uow)) -> HTMLResponse:
    """Upload form and the stored analyses, each linked to its review page."""
    return templates.TemplateResponse(request, "sono/review.html", _review_context(user, uow))


@router.post("/review", response_class=HTMLResponse, response_model=None)
def review_upload(
    request: Request,
    user: ReviewUploader,
    file: Annotated[UploadFile, File()],
    injection_at: Annotated[str, Form()] = "",
    study_instance_uid: Annotated[str, Form()] = "",
    uow: UnitOfWork = Depends(get_uow),
) -> HTMLResponse | RedirectResponse:
    """Analyse an uploaded DICOM cine, keep it, store its summary for the study and open its review."""

    name = Path(file.filename or "upload.dcm").name
    try:
        try:
            injection = float(injection_at) if injection_at.strip() else None
        except ValueError:
            raise ValidationError(
                "injection_at",
                N_("expected seconds from the first frame such as 1.5, got %(value)s"),
                value=repr(injection_at),
            ) from None
        with tempfile.TemporaryDirectory(dir=cine_dir()) as tmp:
            path = Path(tmp) / "upload.dcm"
            save_upload(file.file, path, limit=UPLOAD_LIMITS["/sono/review"], endpoint="/sono/review")
            stored = analyse_and_store(
                uow,
                path,
                name=name,
                actor=user.username,
                injection_at_s=injection,
                study_instance_uid=study_instance_uid.strip() or None,
            )
    except PainguideError as exc:
        context = _review_context(user, uow, error=translator(request).error(exc))
        return templates.TemplateResponse(request, "sono/review.html", context, status_code=exc.http_status)
    again = "?repeated=1" if stored.repeated else ""
    return RedirectResponse(f"/sono/review/{stored.analysis_id}{again}", status_code=303)


@router.get("/review/{analysis_id}", response_class=HTMLResponse)
def review_detail(
    request: Request,
    user: ReviewReader,
    analysis_id: int,
    repeated: bool = False,
    uow: UnitOfWork = Depends(get_uow),
) -> HTMLResponse:
    """One stored analysis: summary, timeline chart, key frames with the overlay, and the events
    (``repeated``: shown after the same cine was uploaded again with the same result)."""

    review = get_review(uow, analysis_id)
    row = review.row
    t = translator(request)
    context = {
        "user": user,
        "row": row,
        "review": review,
        "chart": timeline_figure(row.timeline, list(row.events), t),
        "labels": {kind: t.gettext(label) for kind, label in EVENT_LABELS.items()},
        "warning_types": WARNING_TYPES,
        "identity": shows_identity(user),
        "repeated": repeated,
    }
    return templates.TemplateResponse(request, "sono/review_detail.html", context)


@router.get("/review/{analysis_id}/frames/{index}.jpg", include_in_schema=False)
def review_frame(
    request: Request, user: ReviewReader, analysis_id: int, index: int, uow: UnitOfWork = Depends(get_uow)
) -> Response:
    """A key frame of the analysis with the overlay (words in the reader's language), from the kept cine."""

    t = translator(request)
    body = key_frame_jpeg(uow, analysis_id, index, t)
    headers = {
        "Cache-Control": "private, max-age=3600",
        "Vary": "Cookie, Accept-Language",
        "Content-Language": t.language,
    }
    return Response(body, media_type="image/jpeg", headers=headers)
