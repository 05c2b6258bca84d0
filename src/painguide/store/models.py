"""Imports every table module so that ``Base.metadata`` knows all tables (used by migrations and tests)."""

from __future__ import annotations

import importlib
import pkgutil

import painguide.store as _store
from painguide.store import tables  # noqa: F401

for _info in pkgutil.iter_modules(_store.__path__):
    if _info.name.endswith("_tables"):
        importlib.import_module(f"painguide.store.{_info.name}")
