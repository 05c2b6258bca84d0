"""docs/security.md carries the permission matrix rendered from permissions.yaml (fails when stale)."""

from __future__ import annotations

from pathlib import Path

from painguide.auth.permissions import markdown_table, permission_matrix

DOC = Path(__file__).resolve().parents[3] / "docs" / "security.md"
START, END = "<!-- permission-matrix:start -->", "<!-- permission-matrix:end -->"


def test_security_doc_has_the_current_permission_matrix() -> None:
    text = DOC.read_text(encoding="utf-8")
    current = text.split(START, 1)[1].split(END, 1)[0].strip()
    expected = markdown_table(permission_matrix())
    assert current == expected, (
        "docs/security.md: the permission matrix is stale; replace the table between the markers with the "
        "output of `python -c 'from painguide.auth.permissions import markdown_table, permission_matrix; "
        "print(markdown_table(permission_matrix()))'`"
    )
