"""Ultrasound guidance pages: live guidance (MJPEG overlay stream with warnings) and upload-and-review."""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, StreamingResponse

from painguide.store.users import User
from painguide.web.deps import get_uow, require_role, templates

__all__ = ["router"]

router = APIRouter(prefix="/sono")
AnyUser = Annotated[User, Depends(require_role())]
Clinician = Annotated[User, Depends(require_role("physician", "trainee", "admin"))]

_live: dict[str, Any] = {}
_live_lock = threading.Lock()


def _demo_session() -> Any:
    """One replayed simulated cine shared by viewers of the live page (started on first use)."""
    from painguide.sono.live import LiveSession
    from painguide.sono.pipeline import GuidancePipeline
    from painguide.sono.simulate import random_params, simulate_cine

    with _live_lock:
        if "session" not in _live:
            cine = simulate_cine(random_params(42, rows=360, cols=480, n_frames=120))
            session = LiveSession(pipeline=GuidancePipeline(wait_for_injection=True), realtime=True)

            def replay() -> None:
                for _ in session.run(iter(cine.frames)):
                    pass

            thread = threading.Thread(target=replay, name="sono-live-demo", daemon=True)
            thread.start()
            _live["session"], _live["thread"] = session, thread
            atexit.register(_stop_demo)
        return _live["session"]


def _stop_demo() -> None:
    with _live_lock:
        session, thread = _live.pop("session", None), _live.pop("thread", None)
    if session is not None:
        session.stop()
    if thread is not None:
        thread.join(timeout=2)


@router.get("/live", response_class=HTMLResponse)
def live_page(request: Request, user: AnyUser) -> HTMLResponse:
    """Live guidance page: the annotated stream, warnings and an injection-start button."""
    return templates.TemplateResponse(request, "sono/live.html", {"user": user})


def _mjpeg(session: Any) -> Iterator[bytes]:
    last = None
    for _ in range(20 * 60 * 10):  # at most ten minutes per connection
        jpeg = session.latest_jpeg()
        if jpeg is not None and jpeg is not last:
            last = jpeg
            yield b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + jpeg + b"\r\n"
        time.sleep(0.05)


@router.get("/live/stream")
def live_stream(user: AnyUser) -> StreamingResponse:
    """MJPEG stream of the annotated frames."""
    return StreamingResponse(_mjpeg(_demo_session()), media_type="multipart/x-mixed-replace; boundary=frame")


@router.get("/live/status")
def live_status(user: AnyUser) -> JSONResponse:
    """Frames processed and active warnings (polled by the page)."""
    session = _demo_session()
    return JSONResponse({"frames": session.frames, "warnings": session.warnings})


@router.post("/live/injection")
def live_injection(user: Clinician) -> JSONResponse:
    """Mark the injection start now."""
    _demo_session().signal_injection()
    return JSONResponse({"injection": "started"})


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request, user: AnyUser, uow: Any = Depends(get_uow)) -> HTMLResponse:
    """Upload form and the stored analyses."""
    from painguide.store.sono_repository import list_analyses

    rows = list_analyses(uow.session)
    return templates.TemplateResponse(
        request, "sono/review.html", {"user": user, "rows": rows, "report": None}
    )


@router.post("/review", response_class=HTMLResponse)
async def review_upload(
    request: Request,
    user: Clinician,
    file: Annotated[UploadFile, File()],
    injection_at: Annotated[float | None, Form()] = None,
    study_instance_uid: Annotated[str | None, Form()] = None,
    uow: Any = Depends(get_uow),
) -> HTMLResponse:
    """Analyse an uploaded DICOM cine, store its summary for the study and show the result."""
    from painguide.sono.service import MAX_UPLOAD_BYTES, analyse_and_store
    from painguide.store.sono_repository import list_analyses

    data = await file.read(MAX_UPLOAD_BYTES + 1)
    _, report = analyse_and_store(
        uow,
        data,
        name=file.filename or "upload.dcm",
        actor=user.username,
        injection_at_s=injection_at,
        study_instance_uid=study_instance_uid or None,
    )
    context = {"user": user, "rows": list_analyses(uow.session), "report": report.as_dict()}
    return templates.TemplateResponse(request, "sono/review.html", context)
