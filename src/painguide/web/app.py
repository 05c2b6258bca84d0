"""The FastAPI application: start-up checks, middleware, error handling and routers."""

from __future__ import annotations

import re
from collections import ChainMap
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic_core import ErrorDetails
from starlette.exceptions import HTTPException as StarletteHTTPException

from painguide.accounts.service import session_user
from painguide.catalogue.loader import load_knowledge
from painguide.errors import GateError, PainguideError, TooManyAttemptsError, ValidationError
from painguide.i18n.input_errors import input_error_text
from painguide.i18n.marks import N_
from painguide.services import ensure_database, open_uow
from painguide.settings import get_settings
from painguide.web.deps import LoginRequired, templates
from painguide.web.i18n import load_catalogues, translator
from painguide.web.routes import (
    api,
    case_links,
    case_steps,
    core,
    dose,
    language,
    outcomes,
    pathway,
    pathway_api,
    reports,
    sono,
    training,
)
from painguide.web.security import BodyLimit, SecurityHeaders
from painguide.web.uploads import UploadLimit

__all__ = ["create_app"]


def _wants_html(request: Request) -> bool:
    return _for_page(request) and "text/html" in request.headers.get("accept", "")


def _error_page(
    request: Request, messages: list[str], status: int, headers: dict[str, str] | None = None
) -> Response:
    user = getattr(request.state, "user", None)
    context = {"messages": messages, "message": " · ".join(messages), "status": status, "user": user}
    return templates.TemplateResponse(request, "error.html", context, status_code=status, headers=headers)


PAGE_HEADER = "x-painguide-page"
"""Sent (``1``) by a page's own script (static/sono-live.js): its JSON errors are in the reader's language."""


def _for_page(request: Request) -> bool:
    """A page's request (not ``/api/``)."""
    return not request.url.path.startswith("/api/")


def _from_page_script(request: Request) -> bool:
    """A page's own script asked (:data:`PAGE_HEADER`): its JSON errors are in the reader's language."""
    return _for_page(request) and request.headers.get(PAGE_HEADER) == "1"


def _validation_response(request: Request, problems: list[ValidationError]) -> Response:
    """422 naming every bad field: a page for browsers in its reader's language, else
    ``{"error": "validation", "detail": [{"field", "message"}]}`` (in English for the API and any JSON
    client, in the reader's language for a page's own script)."""
    if _wants_html(request):
        return _error_page(request, [translator(request).error(p) for p in problems], 422)
    t = translator(request) if _from_page_script(request) else None
    detail = [{"field": p.field, "message": t.detail(p) if t else p.detail} for p in problems]
    return JSONResponse({"error": "validation", "detail": detail}, status_code=422)


def _error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PainguideError)
    if isinstance(exc, LoginRequired) and _wants_html(request):
        return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
    if isinstance(exc, ValidationError):
        return _validation_response(request, [exc])
    if isinstance(exc, GateError) and not _wants_html(request):
        unmet = [{"code": u["code"], "message": u["message"], "source": u["source"]} for u in exc.unmet]
        body = {"error": "gate_refused", "step": exc.step, "unmet": unmet}
        return JSONResponse(body, status_code=exc.http_status)
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttemptsError) else None
    if _wants_html(request):
        return _error_page(request, [translator(request).error(exc)], exc.http_status, headers)
    message = translator(request).error(exc) if _from_page_script(request) else str(exc)
    body = {"error": type(exc).__name__, "detail": message}
    return JSONResponse(body, status_code=exc.http_status, headers=headers)


def _request_validation_handler(request: Request, exc: Exception) -> Response:
    """FastAPI's RequestValidationError: the field is the parameter's name (its location dropped); the
    message is pydantic's (the API's), which pages show by its error type's template
    (:mod:`painguide.i18n.input_errors`)."""
    assert isinstance(exc, RequestValidationError)
    return _validation_response(request, [_input_problem(error) for error in exc.errors()])


def _input_problem(error: ErrorDetails) -> ValidationError:
    location = [str(part) for part in error.get("loc", ())]
    message = str(error.get("msg", "invalid value"))
    text, params = input_error_text(error)
    # A record's own check names its field in the message ("Value error, egfr_on: give the date").
    named = _NAMED.match(message)
    if named:
        location, message = [*location, named["field"]], named["message"]
        text, params = message, {}
    field = ".".join(location[1:]) or (location[0] if location else "request")
    if error.get("type") == "json_invalid":  # its location is a character position, not a field
        position = ".".join(location[1:])
        field, message = "body", f"{message} (character {position})"
        text, params = input_error_text(error, position=position)
    return ValidationError.worded(field, message, text, **params)


async def _body_parse_handler(request: Request, exc: Exception) -> Response:
    """A body FastAPI could not read (not UTF-8, not form data) is bad input like any other: 422 naming it.

    Starlette's other HTTP errors (404 for an unknown path, 405 for a wrong method) keep their status.
    """
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        message = N_("the request body could not be read; send UTF-8 JSON or a form, as Content-Type says")
        return _validation_response(request, [ValidationError("body", message)])
    return await http_exception_handler(request, exc)


def _session_open(session_id: str) -> bool:
    """For the body limit: is this cookie's session open (checked only for bodies above the anonymous cap)."""

    with open_uow() as uow:
        return session_user(uow, session_id) is not None


_NAMED = re.compile(r"^Value error, (?P<field>[a-z_][a-z0-9_.]*): (?P<message>.+)$", re.DOTALL)


def create_app(*, prepare: bool = True) -> FastAPI:
    """Build the app: refuse unsafe settings, migrate the database, load the catalogue, seed demo data.

    ``prepare=False`` leaves out migrating and seeding: the worker processes of ``painguide serve
    --workers N`` (:func:`worker_app`), whose parent prepared the database once before starting them.
    """

    settings = get_settings()
    settings.require_safe_secret()
    load_knowledge(settings.site_policy)  # a malformed data or policy file stops start-up here
    load_catalogues()  # so does a broken message catalogue
    templates.env.auto_reload = settings.template_reload
    if prepare:
        ensure_database()
        if settings.demo:
            from painguide.demo import seed_demo

            seed_demo()
    app = FastAPI(
        title="painguide",
        description="Image-guided interventional pain therapy. "
        "painguide supports decisions; the physician decides.",
        version="0.1.0",
        # No unauthenticated schema or CDN-hosted docs: the schema of the /api/v1 routes is served to
        # signed-in users by /api/v1/openapi.json (routes/api.py).
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )

    # A live view of each route module's limits (tests and settings may change them at run time).
    upload_limits = ChainMap(sono.UPLOAD_LIMITS, dose.UPLOAD_LIMITS)
    app.add_middleware(UploadLimit, limits=upload_limits, render=_error_handler)
    # Sessions live in the database (accounts/service.py); the cookie holds only a random id. The body
    # limit runs before authentication (web/security.py).
    app.add_middleware(BodyLimit, session_open=_session_open)
    app.add_middleware(SecurityHeaders)
    app.add_exception_handler(PainguideError, _error_handler)
    app.add_exception_handler(RequestValidationError, _request_validation_handler)
    app.add_exception_handler(StarletteHTTPException, _body_parse_handler)
    app.mount("/static", StaticFiles(directory=str(Path(__file__).with_name("static"))), name="static")
    # The care-pathway pages (patient search, case page) are the most requested: their router is matched
    # first (each router's routes are tried in turn; no path of one router matches a route of another).
    for module in (
        pathway,
        core,
        language,
        api,
        pathway_api,
        dose,
        sono,
        case_steps,
        training,
        outcomes,
        reports,
        case_links,
    ):
        app.include_router(module.router)
    app.include_router(api.legacy)
    app.include_router(outcomes.patient_router)
    app.state.api_routers = [api.router, pathway_api.router]  # the routes of /api/v1/openapi.json
    return app


def worker_app() -> FastAPI:
    """The app of one worker process of ``painguide serve --workers N`` (the parent migrated and seeded)."""
    return create_app(prepare=False)
