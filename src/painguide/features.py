"""Optional feature modules (command groups, web routers, demo seeders) found by module path."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["import_optional"]


def import_optional(module_name: str) -> ModuleType | None:
    """Import ``module_name``; None when it (or a parent package) is absent, other import errors propagate."""
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name is not None and (module_name == exc.name or module_name.startswith(f"{exc.name}.")):
            return None
        raise
