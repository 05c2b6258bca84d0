"""PDF of a procedure or quality report with ReportLab (pure Python, no system libraries, works offline).

The same :class:`~painguide.interop.reports.Section` structure as the HTML page; labels are translated and
values formatted by the callables the caller passes (the page language's), so the PDF says what the page
says. ReportLab's built-in Helvetica covers German (Latin-1); other characters are written in a Latin-1
spelling (``Gy·cm²`` stays, ``≥`` becomes ``>=``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from io import BytesIO
from xml.sax.saxutils import escape

from painguide.interop.reports import Section, Value

__all__ = ["render_pdf"]

_REPLACE = {"≥": ">=", "≤": "<=", "–": "-", "—": "-", "→": "->", "…": "..."}


def _latin1(text: str) -> str:
    for char, plain in _REPLACE.items():
        text = text.replace(char, plain)
    return text.encode("latin-1", "replace").decode("latin-1")


def render_pdf(
    title: str,
    subtitle: str,
    sections: Sequence[Section],
    *,
    gettext: Callable[[str], str],
    format_value: Callable[[Value], str],
    footer: str,
) -> bytes:
    """The report as PDF bytes (A4)."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    styles = getSampleStyleSheet()
    small = styles["BodyText"].clone("small", fontSize=8, leading=10)
    warn = small.clone("warn", textColor=colors.HexColor("#b42318"))

    def para(text: object, style: object = small) -> object:
        return Paragraph(escape(_latin1(str(text))), style)

    story: list[object] = [para(title, styles["Title"]), para(subtitle, styles["Normal"]), Spacer(1, 4 * mm)]
    grid = TableStyle(
        [
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#dde1e7")),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
            ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f5")),
        ]
    )
    width = A4[0] - 30 * mm
    for section in sections:
        story.append(para(gettext(section.title), styles["Heading3"]))
        if section.rows:
            rows = [
                [para(gettext(r.label)), para(format_value(r.value), warn if r.warn else small)]
                for r in section.rows
            ]
            table = Table(rows, colWidths=[0.32 * width, 0.68 * width])
            line = ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dde1e7"))
            table.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), line]))
            story.append(table)
        if section.columns:
            data = [[para(gettext(c)) for c in section.columns]]
            data += [[para(format_value(v)) for v in row] for row in section.table]
            if len(data) == 1:
                data.append([para("-") for _ in section.columns])
            table = Table(data, colWidths=[width / len(section.columns)] * len(section.columns), repeatRows=1)
            table.setStyle(grid)
            story.append(table)
        if section.note:
            story.append(para(gettext(section.note)))
        story.append(Spacer(1, 3 * mm))
    story.append(para(footer))
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=15 * mm, rightMargin=15 * mm, topMargin=15 * mm, bottomMargin=15 * mm,
        title=_latin1(title), author="painguide",
    )  # fmt: skip
    doc.build(story)
    return buffer.getvalue()
