"""``allow_in_route``: the action it declares, and what it refuses to serve (public actions, state-changing
requests, whose CSRF check needs the body on the event loop)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TypeVar, cast

import pytest
from starlette.requests import Request

from painguide.web.deps import ACTION_ATTRIBUTE, Check, allow_in_route


def _request(method: str) -> Request:
    return Request(
        {"type": "http", "method": method, "path": "/patients", "headers": [], "query_string": b""}
    )


T = TypeVar("T")


def _run(step: Awaitable[T]) -> T:
    """Run a coroutine that awaits nothing, without an event loop (``asyncio.run`` refuses to run where a
    test before, such as a Playwright one, left a loop running in this thread)."""
    steps = step.__await__()
    try:
        next(steps)
    except StopIteration as done:
        return cast(T, done.value)
    steps.close()
    raise AssertionError("the dependency awaited something")


def test_declares_its_action_and_hands_the_route_a_check() -> None:
    dependency = allow_in_route("patient.read")
    assert getattr(dependency, ACTION_ATTRIBUTE) == "patient.read"
    assert allow_in_route("patient.read") is dependency  # one per action, as allow()
    check = _run(dependency(_request("GET")))
    assert isinstance(check, Check) and check.action == "patient.read"


def test_refuses_public_actions_and_state_changing_requests() -> None:
    with pytest.raises(ValueError, match="public: a public action needs no check in the route"):
        allow_in_route("public")
    with pytest.raises(RuntimeError, match="POST /patients: allow_in_route is for GET routes only"):
        _run(allow_in_route("patient.read")(_request("POST")))
