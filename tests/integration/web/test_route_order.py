"""The order of the app's routers changes no answer: no route is shadowed by one matched before it.

The care-pathway router is matched first (the most requested pages; docs/performance.md), so this checks
that a request meant for any route is not taken by a route of an earlier router.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Match


def _concrete(path: str) -> str:
    """A request path for a route's template: each parameter ``{x}`` (or ``{x:path}``) as ``1``."""
    return re.sub(r"\{[^}]+\}", "1", path)


def test_no_route_is_shadowed_by_an_earlier_one(
    monkeypatch: pytest.MonkeyPatch, isolated_settings: Path
) -> None:
    monkeypatch.setenv("PAINGUIDE_SECRET_KEY", "route-order-" + "r" * 40)
    from painguide.settings import get_settings

    get_settings.cache_clear()
    from painguide.web.app import create_app

    app = create_app(prepare=False)
    routes = [c.original_route for c in iter_route_contexts(app.routes)]
    api_routes = [r for r in routes if isinstance(r, APIRoute)]
    assert len(api_routes) > 80
    assert api_routes[0].path.startswith(("/patients", "/cases")), "the care-pathway pages come first"
    shadowed = []
    for route in api_routes:
        for method in sorted(route.methods):
            scope = {"type": "http", "path": _concrete(route.path), "method": method, "root_path": ""}
            first = next(r for r in routes if r.matches(scope)[0] == Match.FULL)  # a mount, too
            if getattr(first, "path", None) != route.path:
                shadowed.append(f"{method} {route.path} is answered by {getattr(first, 'path', first)}")
    assert shadowed == []
