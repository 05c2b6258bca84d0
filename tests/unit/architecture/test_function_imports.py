"""Imports sit at module level, except in ``cli.py`` and ``commands/`` (docs/ARCHITECTURE.md).

A function-level import elsewhere hides a dependency and an import cycle, and costs a look-up per call. The
few that must stay lazy are listed in ``ALLOWED`` with the reason, as (module path, imported module) pairs.
The test fails on any function-level import not listed, and on a listed pair that no longer occurs, so the
list only shrinks.
"""

from __future__ import annotations

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src"
PACKAGE = SRC / "painguide"

_PLOTLY = "Plotly (about 0.4 s) loads only when a figure is drawn, not with the pages that import the module"
_PYDICOM = (
    "pydicom (about 0.25 s) loads only when a DICOM file is read, not with every importer of the module"
)
_PYSKINDOSE = "pyskindose (pandas, numpy-stl, about 1 s) loads only for a report of a known device model"
_REPORTLAB = "ReportLab loads only when a PDF is written"
_PYNETDICOM = "pynetdicom loads only when a DICOM listener starts"
_PYIGTL = "pyigtl loads only when an OpenIGTLink connection is made"
_ALEMBIC = "Alembic loads only on a schema mismatch (store.db.upgrade; docs/performance.md)"
_UOW = "feature repository loads with its first use, not with the commands of other features (performance.md)"

#: (module path below src/, imported module) -> why the import stays inside a function.
ALLOWED: dict[tuple[str, str], str] = {
    ("painguide/catalogue/__init__.py", "painguide.catalogue"): (
        "package __getattr__ re-export: `import painguide.catalogue.models` must not load the YAML loader"
    ),
    ("painguide/dose/charts.py", "plotly.io"): _PLOTLY,
    ("painguide/dose/charts.py", "plotly.graph_objects"): _PLOTLY,
    ("painguide/dose/charts.py", "plotly.subplots"): _PLOTLY,
    ("painguide/outcomes/charts.py", "plotly.graph_objects"): _PLOTLY,
    ("painguide/sono/charts.py", "plotly.graph_objects"): _PLOTLY,
    ("painguide/sono/charts.py", "plotly.subplots"): _PLOTLY,
    ("painguide/training/charts.py", "plotly.graph_objects"): _PLOTLY,
    ("painguide/web/routes/dose.py", "plotly.offline"): _PLOTLY,
    ("painguide/web/routes/sono.py", "plotly.offline"): _PLOTLY,
    ("painguide/dose/export.py", "openpyxl"): "openpyxl loads only when an Excel export is written",
    ("painguide/dose/export.py", "openpyxl.cell"): "openpyxl loads only when an Excel export is written",
    (
        "painguide/outcomes/survival.py",
        "lifelines",
    ): "lifelines (pandas, SciPy) loads only for a survival fit",
    ("painguide/interop/pdf.py", "reportlab.lib"): _REPORTLAB,
    ("painguide/interop/pdf.py", "reportlab.lib.pagesizes"): _REPORTLAB,
    ("painguide/interop/pdf.py", "reportlab.lib.styles"): _REPORTLAB,
    ("painguide/interop/pdf.py", "reportlab.lib.units"): _REPORTLAB,
    ("painguide/interop/pdf.py", "reportlab.platypus"): _REPORTLAB,
    ("painguide/dose/skin.py", "pydicom"): _PYSKINDOSE,
    ("painguide/dose/skin.py", "pyskindose"): _PYSKINDOSE,
    ("painguide/dose/skin.py", "pyskindose.calculate_dose.calculate_dose"): _PYSKINDOSE,
    ("painguide/dose/skin.py", "pyskindose.helpers.calculate_rotation_matrices"): _PYSKINDOSE,
    ("painguide/dose/skin.py", "pyskindose.phantom_class"): _PYSKINDOSE,
    ("painguide/dose/skin.py", "pyskindose.settings"): _PYSKINDOSE,
    ("painguide/dose/rdsr.py", "pydicom"): _PYDICOM,
    ("painguide/dose/rdsr.py", "pydicom.filereader"): _PYDICOM,
    ("painguide/dose/rdsr.py", "pydicom.dataelem"): _PYDICOM,
    ("painguide/dose/rdsr.py", "pydicom.tag"): _PYDICOM,
    ("painguide/dose/rdsr.py", "pydicom.values"): _PYDICOM,
    ("painguide/dose/rdsr.py", "pydicom.charset"): _PYDICOM,
    ("painguide/sono/dicom.py", "pydicom"): _PYDICOM,
    ("painguide/sono/dicom.py", "pydicom.pixels.processing"): _PYDICOM,
    ("painguide/sono/dicom.py", "pydicom.encaps"): _PYDICOM,
    ("painguide/sono/dicom.py", "pydicom.errors"): _PYDICOM,
    ("painguide/sono/dicom.py", "pydicom.dataset"): _PYDICOM,
    ("painguide/sono/dicom.py", "pydicom.uid"): _PYDICOM,
    ("painguide/sono/evaluate.py", "pydicom.data"): _PYDICOM,
    ("painguide/sono/service.py", "pydicom"): _PYDICOM,
    ("painguide/pathway/link_service.py", "pydicom"): _PYDICOM,
    ("painguide/dose/receiver.py", "pynetdicom"): _PYNETDICOM,
    ("painguide/pathway/worklist_scp.py", "pynetdicom"): _PYNETDICOM,
    ("painguide/sono/igtl.py", "pyigtl"): _PYIGTL,
    ("painguide/sono/live.py", "pyigtl"): _PYIGTL,
    ("painguide/sono/sources.py", "pyigtl"): _PYIGTL,
    ("painguide/store/dose_tally.py", "sqlalchemy.dialects"): (
        "the PostgreSQL dialect package (every driver's dialect, about 20 ms) only where PostgreSQL is used"
    ),
    ("painguide/store/db.py", "alembic"): _ALEMBIC,
    ("painguide/store/db.py", "alembic.config"): _ALEMBIC,
    ("painguide/store/db.py", "alembic.runtime.migration"): _ALEMBIC,
    ("painguide/store/uow.py", "painguide.store.link_repository"): _UOW,
    ("painguide/store/uow.py", "painguide.store.pathway_repository"): _UOW,
    ("painguide/store/uow.py", "painguide.store.training_repository"): _UOW,
    ("painguide/store/uow.py", "painguide.store.dose_store"): _UOW,
    ("painguide/store/uow.py", "painguide.store.report_repository"): _UOW,
    ("painguide/dose/service.py", "painguide.pathway.link_service"): (
        "linking loads the care-pathway package and SQLAlchemy; only an import that stores something links"
    ),
    ("painguide/dose/service.py", "painguide.catalogue.loader"): (
        "the catalogue loader (pydantic models, about 40 ms) loads only when procedure names are matched"
    ),
    ("painguide/web/app.py", "painguide.demo"): (
        "demo seeding loads every feature's generators (pydicom, OpenCV); only a demo server needs it"
    ),
    ("painguide/sono/service.py", "painguide.pathway.link_service"): (
        "linking loads the care-pathway package; only a stored analysis is linked"
    ),
    ("painguide/pathway/link_service.py", "painguide.sono.service"): (
        "the ultrasound service loads OpenCV; only a case page with a cine needs it"
    ),
    ("painguide/interop/service.py", "painguide.sono.service"): (
        "the ultrasound service loads OpenCV; only an export with an ultrasound analysis needs it"
    ),
    ("painguide/interop/service.py", "painguide.sono.pipeline"): (
        "the ultrasound pipeline loads OpenCV; only an export with an ultrasound analysis needs it"
    ),
}


def _exempt(relative: str) -> bool:
    return relative == "painguide/cli.py" or relative.startswith("painguide/commands/")


def function_level_imports() -> set[tuple[str, str, int]]:
    """(module path, imported module, line) of every import inside a function, outside cli.py/commands/."""
    found: set[tuple[str, str, int]] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        relative = path.relative_to(SRC).as_posix()
        if _exempt(relative):
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for function in ast.walk(tree):
            if not isinstance(function, ast.FunctionDef | ast.AsyncFunctionDef):
                continue
            for node in ast.walk(function):
                if isinstance(node, ast.Import):
                    found.update((relative, alias.name, node.lineno) for alias in node.names)
                elif isinstance(node, ast.ImportFrom):
                    found.add((relative, "." * node.level + (node.module or ""), node.lineno))
    return found


def test_function_level_imports_are_only_the_allowed_ones() -> None:
    unlisted = sorted(
        f"{module}:{line} imports {imported}"
        for module, imported, line in function_level_imports()
        if (module, imported) not in ALLOWED
    )
    assert not unlisted, "move these imports to module level (or list them in ALLOWED with a reason):\n" + (
        "\n".join(unlisted)
    )


def test_allow_list_has_no_stale_entries() -> None:
    present = {(module, imported) for module, imported, _ in function_level_imports()}
    stale = sorted(
        f"{module} -> {imported}" for module, imported in ALLOWED if (module, imported) not in present
    )
    assert not stale, (
        "these imports are no longer inside a function; remove them from ALLOWED:\n" + "\n".join(stale)
    )


def test_every_reason_is_one_line() -> None:
    assert all(reason and "\n" not in reason for reason in ALLOWED.values())
