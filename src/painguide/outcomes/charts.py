"""Plotly outcome charts: responder rates with Wilson intervals, Kaplan-Meier curves of relief.

Bars show the rate among evaluable follow-ups with its interval as an error bar and ``n`` on hover; a group
with no evaluable follow-up has no bar. Kaplan-Meier curves are step functions with a shaded pointwise band.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from painguide.i18n.text import ENGLISH, Texts, number, plotly_separators
from painguide.outcomes.responders import GroupResponders, ResponderCriterion
from painguide.outcomes.survival import KaplanMeierCurve

__all__ = ["kaplan_meier_figure", "responder_figure"]

_COLOURS = ("#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860")


def _label(group: object, t: Texts) -> str:
    if isinstance(group, tuple):
        return " · ".join(t.label(part) for part in group if part is not None) or t.gettext("all")
    return t.gettext("all") if group is None else t.label(group)


def responder_figure(
    groups: Sequence[GroupResponders], criteria: Mapping[str, ResponderCriterion], t: Texts = ENGLISH
) -> Any:
    """Grouped bars: one bar per group and criterion, with the Wilson interval as an error bar."""
    import plotly.graph_objects as go

    labels = [_label(g.group, t) for g in groups]
    of = t.gettext("of")
    figure = go.Figure()
    for index, (key, criterion) in enumerate(criteria.items()):
        rates = [g.rates[key] for g in groups]
        figure.add_trace(
            go.Bar(
                x=labels,
                y=[None if r.rate is None else 100 * r.rate for r in rates],
                name=f"{t.gettext(criterion.label)} [{criterion.source}, {t.label(criterion.status)}]",
                marker_color=_COLOURS[index % len(_COLOURS)],
                error_y={
                    "type": "data",
                    "symmetric": False,
                    "array": [None if r.rate is None else 100 * (r.high or 0) - 100 * r.rate for r in rates],
                    "arrayminus": [
                        None if r.rate is None else 100 * r.rate - 100 * (r.low or 0) for r in rates
                    ],
                },
                customdata=[[r.responders, r.evaluable] for r in rates],
                hovertemplate=(f"%{{y:.0f}} % (%{{customdata[0]}} {of} %{{customdata[1]}})<extra></extra>"),
            )
        )
    figure.update_layout(
        barmode="group",
        yaxis={"title": t.gettext("responders (%, 95 % Wilson interval)"), "range": [0, 100]},
        separators=plotly_separators(t.language),
        legend={"orientation": "h", "y": -0.25},
        margin={"t": 20, "r": 10},
    )
    return figure


def kaplan_meier_figure(curves: Sequence[KaplanMeierCurve], t: Texts = ENGLISH) -> Any:
    """Step curves of the share still relieved, with their pointwise confidence bands."""
    import plotly.graph_objects as go

    figure = go.Figure()
    day, at_risk = t.gettext("day"), t.gettext("at risk")
    for index, curve in enumerate(curves):
        colour = _COLOURS[index % len(_COLOURS)]
        days = list(curve.days)
        figure.add_trace(
            go.Scatter(
                x=days,
                y=list(curve.high),
                mode="lines",
                line={"width": 0, "shape": "hv"},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        figure.add_trace(
            go.Scatter(
                x=days,
                y=list(curve.low),
                mode="lines",
                fill="tonexty",
                opacity=0.2,
                line={"width": 0, "shape": "hv", "color": colour},
                showlegend=False,
                hoverinfo="skip",
            )
        )
        median = (
            t.gettext("not reached")
            if curve.median_days is None
            else t.gettext("%(n)s days", n=number(curve.median_days, t.language))
        )
        figure.add_trace(
            go.Scatter(
                x=days,
                y=list(curve.survival),
                mode="lines",
                line={"shape": "hv", "color": colour},
                name=t.gettext(
                    "%(group)s (n = %(n)s, median %(median)s)",
                    group=_label(curve.group, t),
                    n=curve.n,
                    median=median,
                ),
                customdata=list(curve.at_risk),
                hovertemplate=(f"{day} %{{x}}: %{{y:.2f}} ({at_risk} %{{customdata}})<extra></extra>"),
            )
        )
    figure.update_layout(
        xaxis_title=t.gettext("days after the procedure"),
        yaxis={"title": t.gettext("still relieved (Kaplan-Meier)"), "range": [0, 1.02]},
        separators=plotly_separators(t.language),
        legend={"orientation": "h", "y": -0.25},
        margin={"t": 20, "r": 10},
    )
    return figure
