"""The domain imports no web, database, DICOM or video code (docs/ARCHITECTURE.md).

Checked statically over every import statement, including those inside functions, so a lazy import cannot
slip an adapter into the domain.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[3] / "src" / "painguide"
FORBIDDEN = (
    "fastapi",
    "starlette",
    "sqlalchemy",
    "alembic",
    "pydicom",
    "pynetdicom",
    "cv2",
    "pyigtl",
    "uvicorn",
    "typer",
    "rich",
    "painguide.web",
    "painguide.store",
    "painguide.commands",
    "painguide.cli",
)
#: Modules of the pathway package that are services or adapters, besides every ``*_service.py`` (the rest of
#: it, ``views.py`` included, is pure).
_PATHWAY_ADAPTERS = (
    "service.py",
    "page_service.py",
    "demo.py",
    "link_service.py",
    "worklist_service.py",
    "worklist_scp.py",
)
#: Modules of the competence, outcome and interoperability packages that are adapters (store, files).
_ADAPTERS = ("service.py", "demo.py", "pdf.py")
#: Pure domain modules: whole packages and single modules of mixed packages.
DOMAIN = [
    *sorted((SRC / "catalogue").glob("*.py")),
    *sorted((SRC / "advisor").glob("*.py")),
    *sorted(
        p
        for p in (SRC / "pathway").glob("*.py")
        if p.name not in _PATHWAY_ADAPTERS and not p.name.endswith("_service.py")
    ),
    *sorted((SRC / "auth").glob("*.py")),
    *sorted(p for p in (SRC / "training").glob("*.py") if p.name not in _ADAPTERS),
    *sorted(p for p in (SRC / "outcomes").glob("*.py") if p.name not in _ADAPTERS),
    *sorted(p for p in (SRC / "interop").glob("*.py") if p.name not in _ADAPTERS),
    SRC / "i18n" / "languages.py",
    *(
        SRC / "dose" / name
        for name in ("models.py", "units.py", "reference.py", "effective.py", "procedures.py", "dashboard.py")
    ),
    SRC / "errors.py",
]


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def test_checker_sees_lazy_imports(tmp_path: Path) -> None:
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    import sqlalchemy.orm\n    from fastapi import FastAPI\n")
    assert imported_modules(probe) == {"sqlalchemy.orm", "fastapi"}


@pytest.mark.parametrize("path", [p for p in DOMAIN if p.exists()], ids=lambda p: str(p.relative_to(SRC)))
def test_domain_module_imports_no_adapter(path: Path) -> None:
    bad = sorted(m for m in imported_modules(path) if any(m == f or m.startswith(f"{f}.") for f in FORBIDDEN))
    assert not bad, f"{path.relative_to(SRC)} imports adapters: {bad}"
