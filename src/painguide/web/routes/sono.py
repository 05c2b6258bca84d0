"""Ultrasound guidance pages: live guidance on a chosen source (MJPEG overlay, warnings) and review."""

from __future__ import annotations

import atexit
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, StreamingResponse

from painguide.store.users import User
from painguide.web.deps import get_uow, require_role, templates

__all__ = ["router"]

router = APIRouter(prefix="/sono")
AnyUser = Annotated[User, Depends(require_role())]
Clinician = Annotated[User, Depends(require_role("physician", "trainee", "admin"))]

_live: dict[str, Any] = {}
_live_lock = threading.Lock()
_FIELD = "source"


def _upload_dir() -> Path:
    """Where cines and videos uploaded on the live page are kept (``dicom:NAME``, ``video:NAME``)."""
    from painguide.settings import get_settings

    folder = get_settings().data_dir / "sono-live"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _resolve(spec: str) -> str:
    """Map ``dicom:NAME`` and ``video:NAME`` to files uploaded on this page; other sources pass through."""
    from painguide.errors import ValidationError
    from painguide.sono.sources import parse_source

    source = parse_source(spec, field=_FIELD)
    if not source.is_file:
        return spec.strip()
    name = str(source.target)
    path = _upload_dir() / Path(name).name
    if Path(name).name != name or name.startswith(".") or not path.is_file():
        raise ValidationError(
            _FIELD,
            f"{source.kind}:{name} must name a file uploaded on this page; upload the cine or video "
            "with the file field first (server paths are not accepted)",
        )
    return f"{source.kind}:{path}"


def _runner() -> Any:
    """The live runner shared by viewers of the page (a looped simulated cine until a source is chosen)."""
    from painguide.sono.live import LiveRunner

    with _live_lock:
        if "runner" not in _live:
            _live["runner"], _live["label"] = LiveRunner("simulated"), "simulated"
            atexit.register(_stop_live)
        return _live["runner"]


def _switch(spec: str, *, label: str, spacing_mm: float | None) -> None:
    """Open the new source first (errors leave the current one running), then replace the runner."""
    from painguide.sono.live import LiveRunner

    runner = LiveRunner(spec, spacing_mm=spacing_mm, field=_FIELD)
    with _live_lock:
        old = _live.get("runner")
        _live["runner"], _live["label"] = runner, label
        atexit.register(_stop_live)
    if old is not None:
        old.stop()


def _stop_live() -> None:
    with _live_lock:
        runner = _live.pop("runner", None)
        _live.pop("label", None)
    if runner is not None:
        runner.stop()


def _live_context(user: User, *, error: str | None = None, source: str = "") -> dict[str, Any]:
    from painguide.sono.sources import SOURCE_FORMS

    return {
        "user": user,
        "error": error,
        "source": source or _live.get("label", "simulated"),
        "forms": SOURCE_FORMS,
        "uploads": sorted(p.name for p in _upload_dir().iterdir() if p.is_file()),
    }


@router.get("/live", response_class=HTMLResponse)
def live_page(request: Request, user: AnyUser) -> HTMLResponse:
    """Live guidance page: source form, the annotated stream, warnings and an injection-start button."""
    return templates.TemplateResponse(request, "sono/live.html", _live_context(user))


@router.post("/live/source", response_class=HTMLResponse, response_model=None)
async def live_source(
    request: Request,
    user: Clinician,
    source: Annotated[str, Form()] = "",
    spacing_mm: Annotated[str, Form()] = "",
    file: Annotated[UploadFile | None, File()] = None,
) -> HTMLResponse | RedirectResponse:
    """Choose the live source: ``video:PATH_OR_INDEX``, ``igtl:HOST:PORT``, ``dicom:FILE``, ``simulated``."""
    from painguide.errors import PainguideError, ValidationError
    from painguide.sono.service import MAX_UPLOAD_BYTES

    try:
        if file is not None and file.filename:
            name = Path(file.filename).name
            if not name or name.startswith("."):
                raise ValidationError("file", f"{file.filename!r} is not a usable file name; rename the file")
            (_upload_dir() / name).write_bytes(await file.read(MAX_UPLOAD_BYTES))
            source = source.strip() or f"dicom:{name}"
        spacing = None
        if spacing_mm.strip():
            try:
                spacing = float(spacing_mm)
            except ValueError:
                raise ValidationError(
                    "spacing_mm", f"expected a pixel size in mm such as 0.1, got {spacing_mm!r}"
                ) from None
        _switch(_resolve(source), label=source.strip(), spacing_mm=spacing)
    except PainguideError as exc:
        context = _live_context(user, error=str(exc), source=source)
        return templates.TemplateResponse(request, "sono/live.html", context, status_code=exc.http_status)
    return RedirectResponse("/sono/live", status_code=303)


@router.post("/live/stop")
def live_stop(user: Clinician) -> JSONResponse:
    """Stop the live source (the page then shows the last frame)."""
    _stop_live()
    return JSONResponse({"running": False})


def _mjpeg(session: Any, max_images: int) -> Iterator[bytes]:
    last, sent = None, 0
    for _ in range(20 * 60 * 10):  # at most ten minutes per connection
        jpeg = session.latest_jpeg()
        if jpeg is not None and jpeg is not last:
            last, sent = jpeg, sent + 1
            yield b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + jpeg + b"\r\n"
            if sent >= max_images:
                return
        time.sleep(0.05)


@router.get("/live/stream")
def live_stream(user: AnyUser, images: int = 20 * 60 * 10) -> StreamingResponse:
    """MJPEG stream of the annotated frames (``images`` limits the number of images sent)."""
    session = _runner().session
    return StreamingResponse(_mjpeg(session, images), media_type="multipart/x-mixed-replace; boundary=frame")


@router.get("/live/status")
def live_status(user: AnyUser) -> JSONResponse:
    """Source, frames processed, active warnings and whether the source still runs (polled by the page)."""
    runner = _runner()
    return JSONResponse(
        {
            "source": _live.get("label", "simulated"),
            "running": runner.running,
            "error": runner.error,
            "frames": runner.session.frames,
            "warnings": runner.session.warnings,
        }
    )


@router.post("/live/injection")
def live_injection(user: Clinician) -> JSONResponse:
    """Mark the injection start now."""
    _runner().session.signal_injection()
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
