"""The FastAPI application: start-up checks, middleware, error handling and routers."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware

from painguide.errors import PainguideError
from painguide.web.deps import LoginRequired, templates

__all__ = ["create_app"]


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/api/") and "text/html" in request.headers.get("accept", "")


def _error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PainguideError)
    if isinstance(exc, LoginRequired) and _wants_html(request):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    if _wants_html(request):
        return templates.TemplateResponse(
            request,
            "error.html",
            {"message": str(exc), "status": exc.http_status},
            status_code=exc.http_status,
        )
    return JSONResponse({"error": type(exc).__name__, "detail": str(exc)}, status_code=exc.http_status)


def create_app() -> FastAPI:
    """Build the app: refuse unsafe settings, migrate the database, load the catalogue, seed demo data."""
    from painguide.catalogue.loader import load_knowledge
    from painguide.services import ensure_database
    from painguide.settings import get_settings

    settings = get_settings()
    settings.require_safe_secret()
    load_knowledge(settings.site_policy)  # a malformed data or policy file stops start-up here
    ensure_database()
    if settings.demo:
        from painguide.demo import seed_demo

        seed_demo()
    app = FastAPI(
        title="painguide",
        description="Image-guided interventional pain therapy. "
        "painguide supports decisions; the physician decides.",
        version="0.1.0",
        # No unauthenticated schema or CDN-hosted docs: the schema is served to signed-in users by
        # /api/openapi.json (routes/core.py).
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=settings.secret_key,
        same_site="lax",
        https_only=False,
        max_age=12 * 3600,
    )
    app.add_exception_handler(PainguideError, _error_handler)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static")
    from painguide.web.routes import core, dose, sono

    for module in (core, dose, sono):
        app.include_router(module.router)
    return app
