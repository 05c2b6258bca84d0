"""Plotly learning-curve chart: classic CUSUM and LC-CUSUM with the decision limit.

Procedure number (1-based) on the x axis. The classic CUSUM rises with failures and falls with successes;
the LC-CUSUM rises with successes and competence is declared where it first reaches ``h`` (marked). Lines
and markers are explained in the legend, not written on the plot.
"""

from __future__ import annotations

from typing import Any

from painguide.i18n.text import ENGLISH, Texts, number, plotly_separators
from painguide.training.cusum import LearningCurve

__all__ = ["figure_html", "learning_curve_figure"]

_CUSUM = "#4c72b0"
_LC = "#55a868"
_LIMIT = "#c44e52"
_HTML: dict[str, object] = {"full_html": False, "include_plotlyjs": False, "config": {"displaylogo": False}}


def learning_curve_figure(curve: LearningCurve, *, title: str | None = None, t: Texts = ENGLISH) -> object:
    """A ``plotly.graph_objects.Figure`` with both charts, ``+h`` and the competence marker."""
    import plotly.graph_objects as go

    x = list(range(1, len(curve.outcomes) + 1))
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=x,
            y=list(curve.scores),
            mode="lines",
            name=t.gettext("CUSUM (failures up)"),
            line={"color": _CUSUM, "shape": "hv"},
        )
    )
    figure.add_trace(
        go.Scatter(
            x=x,
            y=list(curve.lc_scores),
            mode="lines",
            name=t.gettext("LC-CUSUM (successes up)"),
            line={"color": _LC, "shape": "hv"},
        )
    )
    limit = t.gettext("exact") if curve.limit == "exact" else "Wald"
    figure.add_trace(
        go.Scatter(
            x=[0, max(x, default=1)],
            y=[curve.h, curve.h],
            mode="lines",
            name=t.gettext("limit h = %(h)s (%(limit)s)", h=number(curve.h, t.language, ".2f"), limit=limit),
            line={"color": _LIMIT, "dash": "dash"},
        )
    )
    if curve.competent_at is not None:
        figure.add_trace(
            go.Scatter(
                x=[curve.competent_at + 1],
                y=[curve.lc_scores[curve.competent_at]],
                mode="markers",
                name=t.gettext("competence declared at procedure %(n)s", n=curve.competent_at + 1),
                marker={"color": _LIMIT, "size": 11, "symbol": "star"},
            )
        )
    d = curve.design
    default_title = t.gettext("Learning curve")
    figure.update_layout(
        title=f"{title or default_title} (p0 = {number(d.p0, t.language)}, "
        f"p1 = {number(d.p1, t.language)}, alpha = {number(d.alpha, t.language)}, "
        f"beta = {number(d.beta, t.language)})",
        xaxis_title=t.gettext("procedure number"),
        yaxis_title=t.gettext("cumulative score"),
        separators=plotly_separators(t.language),
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 50, "r": 10},
    )
    return figure


def figure_html(figure: Any, div_id: str) -> str:
    """An HTML fragment of a figure (Plotly's script is loaded by the page)."""
    return str(figure.to_html(**_HTML, div_id=div_id))
