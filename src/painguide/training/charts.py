"""Plotly learning-curve chart: classic CUSUM and LC-CUSUM with the decision limit.

Procedure number (1-based) on the x axis. The classic CUSUM rises with failures and falls with successes;
the LC-CUSUM rises with successes and competence is declared where it first reaches ``h`` (marked). Lines
and markers are explained in the legend, not written on the plot.
"""

from __future__ import annotations

from typing import Any

from painguide.training.cusum import LearningCurve

__all__ = ["figure_html", "learning_curve_figure"]

_CUSUM = "#4c72b0"
_LC = "#55a868"
_LIMIT = "#c44e52"
_HTML: dict[str, Any] = {"full_html": False, "include_plotlyjs": False, "config": {"displaylogo": False}}


def learning_curve_figure(curve: LearningCurve, *, title: str = "Learning curve") -> Any:
    """A ``plotly.graph_objects.Figure`` with both charts, ``+h`` and the competence marker."""
    import plotly.graph_objects as go

    x = list(range(1, len(curve.outcomes) + 1))
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=x,
            y=list(curve.scores),
            mode="lines",
            name="CUSUM (failures up)",
            line={"color": _CUSUM, "shape": "hv"},
        )
    )
    figure.add_trace(
        go.Scatter(
            x=x,
            y=list(curve.lc_scores),
            mode="lines",
            name="LC-CUSUM (successes up)",
            line={"color": _LC, "shape": "hv"},
        )
    )
    limit = "exact" if curve.limit == "exact" else "Wald"
    figure.add_trace(
        go.Scatter(
            x=[0, max(x, default=1)],
            y=[curve.h, curve.h],
            mode="lines",
            name=f"limit h = {curve.h:.2f} ({limit})",
            line={"color": _LIMIT, "dash": "dash"},
        )
    )
    if curve.competent_at is not None:
        figure.add_trace(
            go.Scatter(
                x=[curve.competent_at + 1],
                y=[curve.lc_scores[curve.competent_at]],
                mode="markers",
                name=f"competence declared at procedure {curve.competent_at + 1}",
                marker={"color": _LIMIT, "size": 11, "symbol": "star"},
            )
        )
    d = curve.design
    figure.update_layout(
        title=f"{title} (p0 = {d.p0:g}, p1 = {d.p1:g}, alpha = {d.alpha:g}, beta = {d.beta:g})",
        xaxis_title="procedure number",
        yaxis_title="cumulative score",
        legend={"orientation": "h", "y": -0.2},
        margin={"t": 50, "r": 10},
    )
    return figure


def figure_html(figure: Any, div_id: str) -> str:
    """An HTML fragment of a figure (Plotly's script is loaded by the page)."""
    return str(figure.to_html(**_HTML, div_id=div_id))
