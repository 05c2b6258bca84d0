"""No ``typing.Any`` where the type is known (docs/ARCHITECTURE.md, "Types").

Every use of the name ``Any`` in src/ (outside import statements; strings and comments do not count) is
counted per module. A module may hold exactly as many as its ``ALLOWED`` entry says, with the reason the type
is not known there. The test fails on a module with more (and prints the offending lines) and on an entry that
allows more than the module uses (lower it), so the list only shrinks. Where a type is known, use it: a
dataclass or TypedDict for a result, a precise union, ``pydicom.Dataset``, ``NDArray[...]``,
``Mapping[str, object]`` for values only passed on, ``painguide.jsontypes.JsonValue`` for JSON.
"""

from __future__ import annotations

import io
import tokenize
from pathlib import Path

SRC = Path(__file__).resolve().parents[3] / "src"
PACKAGE = SRC / "painguide"

_YAML = "raw YAML of a data or policy file before pydantic validates it"
_JSON_COLUMN = "a JSON column's stored document, read back as written (validated where it is used)"
_PLOTLY = "Plotly figures, traces and layouts: plotly ships no type hints"
_PYNETDICOM = "pynetdicom events, handlers and status datasets: pynetdicom ships no type hints"
_PYDICOM_VALUE = "DICOM element values: pydicom types an element's value as Any"
_SQL = "SQLAlchemy statements, rows and columns of mixed types (Select[Any], Row[Any], InstrumentedAttribute)"
_KWARGS = "keyword arguments collected for one call whose parameters have different types"
_TEMPLATE = "Jinja template context and template globals: any value a template renders"
_FACT = "a Fact of any value type (Fact's type parameter is invariant, so Fact[object] would not accept it)"
_PYIGTL = "pyigtl connections and messages: pyigtl ships no type hints"

#: module path below src/ -> (uses of Any allowed, why the type is not known there)
ALLOWED: dict[str, tuple[int, str]] = {
    "painguide/catalogue/loader.py": (2, _YAML),
    "painguide/catalogue/policy.py": (1, _YAML),
    "painguide/commands/case.py": (
        2,
        "printing reads a view's JSON document (the --json output), its records vary by step",
    ),
    "painguide/commands/dose.py": (
        5,
        "Rich table rows from JSON documents of mixed values (the --json output)",
    ),
    "painguide/commands/sono.py": (2, _KWARGS + ", and JSON lines of the live stream as printed"),
    "painguide/datafiles.py": (2, _YAML),
    "painguide/dose/charts.py": (6, _PLOTLY),
    "painguide/dose/orthanc.py": (1, "keyword arguments passed through to httpx.Client.request"),
    "painguide/dose/rdsr.py": (2, _KWARGS + " (an irradiation event's values collected by concept)"),
    "painguide/dose/reference.py": (2, _YAML),
    "painguide/dose/skin.py": (
        4,
        "pyskindose results (pandas and NumPy objects): pyskindose ships no type hints",
    ),
    "painguide/dose/srtree.py": (2, _PYDICOM_VALUE),
    "painguide/interop/fhir.py": (
        4,
        "fhir.resources models chosen by resource type at run time, and their JSON",
    ),
    "painguide/interop/records.py": (1, "DRL comparison documents per report, formatted by the report"),
    "painguide/interop/reports.py": (
        2,
        "the advisor ranking stored with a plan (JSON); counts of any grouping key",
    ),
    "painguide/outcomes/charts.py": (2, _PLOTLY),
    "painguide/pathway/anticoagulation.py": (3, _FACT),
    "painguide/pathway/case_service.py": (2, "a step's record (each step its own record model) and its day"),
    "painguide/pathway/gates.py": (
        1,
        "model_copy(update=...) of one record field whose type depends on the step",
    ),
    "painguide/pathway/models.py": (1, "the advisor's ranking kept with the plan as JSON"),
    "painguide/pathway/policy.py": (4, _FACT + "; raw YAML before validation"),
    "painguide/pathway/views.py": (
        3,
        "records of every step (pydantic models of different types) dumped to JSON",
    ),
    "painguide/sono/charts.py": (3, _PLOTLY),
    "painguide/sono/familyeval.py": (2, "detections and ground truths of several vessel-family evaluators"),
    "painguide/sono/igtl.py": (1, _PYIGTL),
    "painguide/sono/service.py": (4, "a stored analysis' timeline and events (JSON column); OpenCV images"),
    "painguide/sono/sources.py": (2, _PYIGTL),
    "painguide/store/db.py": (
        3,
        "DB-API connections of SQLite's event hooks; Alembic's Config (lazy import)",
    ),
    "painguide/store/dose_repository.py": (6, _SQL),
    "painguide/store/dose_statistics.py": (6, _SQL),
    "painguide/store/dose_tables.py": (2, _JSON_COLUMN),
    "painguide/store/dose_tally.py": (3, _SQL),
    "painguide/store/link_repository.py": (1, _SQL),
    "painguide/store/pathway_repository.py": (3, _SQL + "; record models of different steps"),
    "painguide/store/pathway_tables.py": (2, _JSON_COLUMN),
    "painguide/store/skin_repository.py": (3, _SQL),
    "painguide/store/sono_repository.py": (1, _JSON_COLUMN),
    "painguide/store/tables.py": (1, _JSON_COLUMN),
    "painguide/training/charts.py": (1, _PLOTLY),
    "painguide/training/policy.py": (3, _YAML),
    "painguide/web/forms.py": (2, "form values as the browser sent them, before parsing"),
    "painguide/web/i18n.py": (1, _FACT),
    "painguide/web/routes/case_steps.py": (
        3,
        "a step's parser and record (each step its own model); form-built keyword arguments",
    ),
    "painguide/web/routes/core.py": (1, "query-string values as sent, before parsing"),
    "painguide/web/routes/sono.py": (1, _TEMPLATE),
    "painguide/web/security.py": (1, "the ASGI scope's state, shared with Starlette (which types it Any)"),
}


def any_lines(path: Path) -> list[tuple[int, str]]:
    """(line number, line) of every use of the name ``Any`` outside import statements."""
    text = path.read_text(encoding="utf-8")
    found: list[tuple[int, str]] = []
    in_import = False
    lines = text.splitlines()
    for token in tokenize.generate_tokens(io.StringIO(text).readline):
        if token.type in (tokenize.NEWLINE, tokenize.ENDMARKER):
            in_import = False
        elif (
            token.type == tokenize.NAME and token.string in ("import", "from") and _starts_line(token, lines)
        ):
            in_import = True
        elif token.type == tokenize.NAME and token.string == "Any" and not in_import:
            found.append((token.start[0], lines[token.start[0] - 1].strip()))
    return found


def _starts_line(token: tokenize.TokenInfo, lines: list[str]) -> bool:
    return not lines[token.start[0] - 1][: token.start[1]].strip()


def uses() -> dict[str, list[tuple[int, str]]]:
    """Module path below src/ -> its uses of ``Any``."""
    found = {}
    for path in sorted(PACKAGE.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        lines = any_lines(path)
        if lines:
            found[path.relative_to(SRC).as_posix()] = lines
    return found


def test_any_only_where_the_type_is_not_known() -> None:
    over = []
    for module, lines in uses().items():
        allowed = ALLOWED.get(module, (0, ""))[0]
        if len(lines) > allowed:
            shown = "\n".join(f"  {module}:{number}: {line}" for number, line in lines)
            over.append(f"{module}: {len(lines)} uses of Any, {allowed} allowed:\n{shown}")
    assert not over, "give these a real type (or list the module in ALLOWED with the reason):\n" + "\n".join(
        over
    )


def test_allow_list_only_shrinks() -> None:
    found = uses()
    stale = [
        f"{module}: {allowed} allowed, {len(found.get(module, []))} used"
        for module, (allowed, _) in sorted(ALLOWED.items())
        if len(found.get(module, [])) < allowed
    ]
    assert not stale, "lower these allowances to the uses left:\n" + "\n".join(stale)


def test_every_entry_has_a_one_line_reason() -> None:
    assert all(reason and "\n" not in reason and count > 0 for count, reason in ALLOWED.values())


def test_the_scan_sees_annotations_and_skips_imports_strings_and_comments(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text(
        "from typing import Any\n"
        "import typing\n"
        "x: dict[str, Any] = {}  # Any in a comment\n"
        "y = 'Any in a string'\n"
        "def f(a: typing.Any) -> Any: ...\n",
        encoding="utf-8",
    )
    assert [number for number, _ in any_lines(sample)] == [3, 5, 5]
