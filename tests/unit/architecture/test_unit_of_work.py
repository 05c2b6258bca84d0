"""Only store/ touches the database session: services and adapters use the unit of work's typed
repositories (``uow.users``, ``uow.audit``, ``uow.sono``, …), and only store/ imports SQLAlchemy.

The allow-lists name the modules not yet moved; they only shrink (a listed module that no longer needs its
entry fails the stale-entry test, so the entry is removed with the change).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src" / "painguide"

#: Modules still using ``uow.session`` (none: keep it so).
RAW_SESSION_ALLOWED: frozenset[str] = frozenset()
#: Modules outside store/ still importing SQLAlchemy (queries not yet moved into store/ repositories).
SQLALCHEMY_ALLOWED = frozenset({"dose/service.py"})


def _modules() -> list[Path]:
    return sorted(p for p in SRC.rglob("*.py") if "store" not in p.relative_to(SRC).parts)


def _name(path: Path) -> str:
    return path.relative_to(SRC).as_posix()


def raw_session_uses(source: str) -> list[int]:
    """Lines where a unit of work's raw session is reached: ``uow.session`` or ``<anything>.uow.session``."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Attribute) and node.attr == "session":
            owner = node.value
            named = owner.id if isinstance(owner, ast.Name) else getattr(owner, "attr", "")
            if named in ("uow", "_uow", "unit_of_work"):
                lines.append(node.lineno)
    return lines


def imports_sqlalchemy(source: str) -> bool:
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import) and any(a.name.split(".")[0] == "sqlalchemy" for a in node.names):
            return True
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "sqlalchemy":
            return True
    return False


def test_checker_finds_raw_session_uses() -> None:
    source = "def f(uow, s):\n    uow.session.add(1)\n    s.uow.session.flush()\n    uow.sessions.end()\n"
    assert raw_session_uses(source) == [2, 3]
    assert imports_sqlalchemy("def f():\n    from sqlalchemy.orm import Session\n")
    assert not imports_sqlalchemy("import painguide.store.uow\n")


@pytest.mark.parametrize("path", [p for p in _modules() if _name(p) not in RAW_SESSION_ALLOWED], ids=_name)
def test_only_store_reaches_the_raw_session(path: Path) -> None:
    lines = raw_session_uses(path.read_text(encoding="utf-8"))
    assert not lines, (
        f"{_name(path)} uses uow.session on lines {lines}; add a method to a typed repository in store/ "
        "and hand it out from the UnitOfWork"
    )


@pytest.mark.parametrize("path", [p for p in _modules() if _name(p) not in SQLALCHEMY_ALLOWED], ids=_name)
def test_only_store_imports_sqlalchemy(path: Path) -> None:
    assert not imports_sqlalchemy(path.read_text(encoding="utf-8")), (
        f"{_name(path)} imports SQLAlchemy; queries belong in a store/ repository"
    )


def test_allow_lists_hold_no_stale_entries() -> None:
    def text(name: str) -> str:
        return (SRC / name).read_text(encoding="utf-8")

    stale = sorted(name for name in RAW_SESSION_ALLOWED if not raw_session_uses(text(name)))
    stale += sorted(name for name in SQLALCHEMY_ALLOWED if not imports_sqlalchemy(text(name)))
    assert not stale, f"remove from the allow-lists (they no longer need it): {stale}"
