"""Ultrasound guidance pages: live guidance on a chosen source (MJPEG overlay, warnings) and review.

Review: upload and list (``/sono/review``), one stored analysis with its timeline chart, key frames and
events (``/sono/review/{id}``), and the key-frame images drawn from the kept cine.
"""

from __future__ import annotations

import asyncio
import atexit
import threading
from collections.abc import AsyncIterator
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse

from painguide.auth import User
from painguide.web.deps import allow, get_uow, templates

__all__ = ["router"]

router = APIRouter(prefix="/sono")
LiveViewer = Annotated[User, Depends(allow("sono.live.view"))]
LiveController = Annotated[User, Depends(allow("sono.live.control"))]
ReviewReader = Annotated[User, Depends(allow("sono.review.read"))]
ReviewUploader = Annotated[User, Depends(allow("sono.review.upload"))]

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


class _Latest:
    """A session publisher that keeps the latest frame result and every warning for the status poll."""

    def __init__(self) -> None:
        self.result: Any = None
        self.warnings: list[str] = []

    def __call__(self, result: Any) -> None:
        self.result = result
        self.warnings.extend(e.detail for e in result.events if e.is_warning)

    def as_dict(self) -> dict[str, Any]:
        """``time_s``, ``needle`` and ``spread`` of the latest frame (``None`` before the first)."""
        if self.result is None:
            return {"time_s": None, "needle": None, "spread": None, "warning_details": self.warnings}
        frame = self.result.as_dict()
        return {
            "time_s": frame["time_s"],
            "needle": frame["needle"],
            "spread": frame["spread"],
            "warning_details": self.warnings,
        }


def _watch(runner: Any) -> None:
    """Follow a new runner's results (called under the lock)."""
    latest = _Latest()
    runner.session.publishers.append(latest)
    _live["latest"] = latest


def _runner() -> Any:
    """The live runner shared by viewers of the page (a looped simulated cine until a source is chosen)."""
    from painguide.sono.live import LiveRunner

    with _live_lock:
        if "runner" not in _live:
            _live["runner"], _live["label"] = LiveRunner("simulated"), "simulated"
            _watch(_live["runner"])
            atexit.register(_stop_live)
        return _live["runner"]


def _switch(spec: str, *, label: str, spacing_mm: float | None) -> None:
    """Open the new source first (errors leave the current one running), then replace the runner."""
    from painguide.sono.live import LiveRunner

    runner = LiveRunner(spec, spacing_mm=spacing_mm, field=_FIELD)
    with _live_lock:
        old = _live.get("runner")
        _live["runner"], _live["label"] = runner, label
        _watch(runner)
        atexit.register(_stop_live)
    if old is not None:
        old.stop()


def _stop_live() -> None:
    with _live_lock:
        runner = _live.pop("runner", None)
        _live.pop("label", None)
        _live.pop("latest", None)
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
def live_page(request: Request, user: LiveViewer) -> HTMLResponse:
    """Live guidance page: source form, the annotated stream, warnings and an injection-start button."""
    return templates.TemplateResponse(request, "sono/live.html", _live_context(user))


@router.post("/live/source", response_class=HTMLResponse, response_model=None)
async def live_source(
    request: Request,
    user: LiveController,
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
def live_stop(user: LiveController) -> JSONResponse:
    """Stop the live source (the page then shows the last frame)."""
    _stop_live()
    return JSONResponse({"running": False})


async def _mjpeg(request: Request, session: Any, max_images: int) -> AsyncIterator[bytes]:
    """Multipart JPEG parts of each new overlay; ends when the viewer leaves (async, so it is cancellable)."""
    last, sent = None, 0
    for _ in range(20 * 60 * 10):  # at most ten minutes per connection
        jpeg = session.latest_jpeg()
        if jpeg is not None and jpeg is not last:
            last, sent = jpeg, sent + 1
            yield b"--frame\r\nContent-Type: image/jpeg\r\n\r\n" + jpeg + b"\r\n"
            if sent >= max_images:
                return
        if await request.is_disconnected():
            return
        await asyncio.sleep(0.05)


@router.get("/live/stream")
def live_stream(request: Request, user: LiveViewer, images: int = 20 * 60 * 10) -> StreamingResponse:
    """MJPEG stream of the annotated frames (``images`` limits the number of images sent)."""
    session = _runner().session
    return StreamingResponse(
        _mjpeg(request, session, images), media_type="multipart/x-mixed-replace; boundary=frame"
    )


@router.get("/live/status")
def live_status(user: LiveViewer) -> JSONResponse:
    """Source, frames, warnings, whether the source runs, the latest tip and spread (polled by the page).

    ``needle`` has ``visible``, ``tip_x_mm``, ``tip_z_mm``, ``angle_deg`` and ``confidence``; ``spread`` has
    ``visible`` and ``area_mm2``; ``warning_details`` has the text of each warning.
    """
    runner = _runner()
    latest = _live.get("latest")
    return JSONResponse(
        {
            "source": _live.get("label", "simulated"),
            "running": runner.running,
            "error": runner.error,
            "frames": runner.session.frames,
            "warnings": runner.session.warnings,
            "injection_started": runner.session.pipeline.injection_time_s is not None,
            **(latest.as_dict() if latest is not None else _Latest().as_dict()),
        }
    )


@router.post("/live/injection")
def live_injection(user: LiveController) -> JSONResponse:
    """Mark the injection start now."""
    _runner().session.signal_injection()
    return JSONResponse({"injection": "started"})


@lru_cache(maxsize=1)
def _plotly_bundle() -> str:
    from plotly.offline import get_plotlyjs

    return str(get_plotlyjs())


@router.get("/plotly.js", include_in_schema=False, dependencies=[Depends(allow("public"))])
def plotly_js() -> Response:
    """Plotly's browser bundle, served from the installed package (no CDN)."""
    headers = {"Cache-Control": "private, max-age=86400"}
    return Response(_plotly_bundle(), media_type="application/javascript", headers=headers)


def _review_context(user: User, uow: Any, *, error: str | None = None) -> dict[str, Any]:
    from painguide.store.sono_repository import list_analyses

    return {"user": user, "rows": list_analyses(uow.session), "error": error}


@router.get("/review", response_class=HTMLResponse)
def review_page(request: Request, user: ReviewReader, uow: Any = Depends(get_uow)) -> HTMLResponse:
    """Upload form and the stored analyses, each linked to its review page."""
    return templates.TemplateResponse(request, "sono/review.html", _review_context(user, uow))


@router.post("/review", response_class=HTMLResponse, response_model=None)
async def review_upload(
    request: Request,
    user: ReviewUploader,
    file: Annotated[UploadFile, File()],
    injection_at: Annotated[str, Form()] = "",
    study_instance_uid: Annotated[str, Form()] = "",
    uow: Any = Depends(get_uow),
) -> HTMLResponse | RedirectResponse:
    """Analyse an uploaded DICOM cine, keep it, store its summary for the study and open its review."""
    from painguide.errors import PainguideError, ValidationError
    from painguide.sono.service import MAX_UPLOAD_BYTES, analyse_and_store

    try:
        try:
            injection = float(injection_at) if injection_at.strip() else None
        except ValueError:
            raise ValidationError(
                "injection_at", f"expected seconds from the first frame such as 1.5, got {injection_at!r}"
            ) from None
        data = await file.read(MAX_UPLOAD_BYTES + 1)
        analysis_id, _ = analyse_and_store(
            uow,
            data,
            name=Path(file.filename or "upload.dcm").name,
            actor=user.username,
            injection_at_s=injection,
            study_instance_uid=study_instance_uid.strip() or None,
        )
    except PainguideError as exc:
        context = _review_context(user, uow, error=str(exc))
        return templates.TemplateResponse(request, "sono/review.html", context, status_code=exc.http_status)
    return RedirectResponse(f"/sono/review/{analysis_id}", status_code=303)


@router.get("/review/{analysis_id}", response_class=HTMLResponse)
def review_detail(
    request: Request, user: ReviewReader, analysis_id: int, uow: Any = Depends(get_uow)
) -> HTMLResponse:
    """One stored analysis: summary, timeline chart, key frames with the overlay, and the events."""
    from painguide.sono.charts import EVENT_STYLE, timeline_figure
    from painguide.sono.pipeline import WARNING_TYPES
    from painguide.sono.service import get_review

    review = get_review(uow, analysis_id)
    row = review.row
    context = {
        "user": user,
        "row": row,
        "review": review,
        "chart": timeline_figure(row.timeline, list(row.events)),
        "labels": {kind: label for kind, (_, _, label) in EVENT_STYLE.items()},
        "warning_types": WARNING_TYPES,
    }
    return templates.TemplateResponse(request, "sono/review_detail.html", context)


@router.get("/review/{analysis_id}/frames/{index}.jpg", include_in_schema=False)
def review_frame(user: ReviewReader, analysis_id: int, index: int, uow: Any = Depends(get_uow)) -> Response:
    """A key frame of the analysis with the overlay, drawn from the kept cine."""
    from painguide.sono.service import key_frame_jpeg

    body = key_frame_jpeg(uow, analysis_id, index)
    return Response(body, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=3600"})
