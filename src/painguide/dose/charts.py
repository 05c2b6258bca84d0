"""Plotly figures of the dose dashboard (box plots per group and the monthly trend), as HTML fragments.

Both charts use a logarithmic dose axis: fluoroscopy-guided injections lie around 0.1-10 Gy·cm² while the
high-dose alert level is 200 Gy·cm². When the alert level lies far above the data it is named in a note
above the chart instead of being drawn as a line that would squash the data to the floor. Labels never sit
on the plot: local medians and reference levels are short markers explained in the legend and on hover.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

from painguide.dose.dashboard import DashboardData, Group

__all__ = ["box_figure", "log_ticks", "trend_figure", "wrap_label"]

_BOX = "#4c72b0"
_MEDIAN = "#c44e52"
_REFERENCE = "#222222"
_ALERT = "#dd8452"
_HTML: dict[str, Any] = {"full_html": False, "include_plotlyjs": False, "config": {"displaylogo": False}}


def wrap_label(text: str, width: int = 18) -> str:
    """Break a category label into lines of about ``width`` characters (Plotly ``<br>``).

    Examples
    --------
    >>> wrap_label("Lumbar transforaminal epidural steroid injection")
    'Lumbar<br>transforaminal<br>epidural steroid<br>injection'
    """
    return "<br>".join(textwrap.wrap(text, width)) or text


def log_ticks(low: float, high: float) -> list[float]:
    """1-2-5 tick values covering ``[low, high]`` (readable labels on a log axis).

    Examples
    --------
    >>> log_ticks(0.15, 60)
    [0.2, 0.5, 1, 2, 5, 10, 20, 50]
    """
    for mantissas in ((1, 2, 5), (1, 1.5, 2, 3, 5, 7)):  # finer steps when the range is narrow
        ticks: list[float] = []
        for exponent in range(math.floor(math.log10(low)), math.ceil(math.log10(high)) + 1):
            for mantissa in mantissas:
                value = float(f"{mantissa}e{exponent}")
                if low <= value <= high:
                    ticks.append(int(value) if value == int(value) else value)
        if len(ticks) >= 4:
            break
    return ticks


def _axis(data: DashboardData) -> dict[str, Any]:
    axis: dict[str, Any] = {"type": "log", "title": f"{data.label} ({data.unit}, log scale)"}
    if data.y_range is not None:
        low, high = data.y_range
        ticks = log_ticks(low, high)
        axis |= {
            "range": [math.log10(low), math.log10(high)],
            "tickvals": ticks,
            "ticktext": [f"{t:g}" for t in ticks],
        }
    return axis


def _alert(figure: Any, data: DashboardData) -> None:
    if data.alert_level is None:
        return
    text = f"alert level {data.alert_level:g} {data.unit} ({data.alert_source})"
    if data.alert_in_range:
        figure.add_hline(y=data.alert_level, line_dash="dot", line_color=_ALERT)
        figure.add_annotation(
            xref="paper",
            x=1.0,
            y=math.log10(data.alert_level),
            text=text,
            showarrow=False,
            xanchor="right",
            yanchor="bottom",
            font={"color": _ALERT, "size": 11},
        )
        return
    figure.add_annotation(
        xref="paper",
        yref="paper",
        x=0.0,
        y=1.0,
        text=f"▲ {text} above the plotted range",
        showarrow=False,
        xanchor="left",
        yanchor="bottom",
        font={"color": _ALERT, "size": 12},
    )


def _markers(data: DashboardData, labels: list[str]) -> list[Any]:
    import plotly.graph_objects as go

    median_name = "local median (this site)" if data.group_by == "procedure" else "group median"
    traces = [
        go.Scatter(
            x=labels,
            y=[g.median for g in data.groups],
            customdata=[len(g.values) for g in data.groups],
            mode="markers",
            name=median_name,
            marker={"symbol": "line-ew", "size": 46, "line": {"width": 3, "color": _MEDIAN}},
            hovertemplate=f"{median_name}: %{{y:.3g}} {data.unit} (n=%{{customdata}})<extra></extra>",
        )
    ]
    for label, group in zip(labels, data.groups, strict=True):
        for level in group.references:
            name = f"published level: {level.source} [{level.status}]"
            traces.append(
                go.Scatter(
                    x=[label],
                    y=[level.value],
                    mode="markers",
                    name=name,
                    marker={"symbol": "line-ew", "size": 60, "line": {"width": 2, "color": _REFERENCE}},
                    hovertemplate=f"{level.description}: {level.published} ({name})<extra></extra>",
                )
            )
    return traces


def _box(label: str, group: Group, unit: str) -> list[Any]:
    """A small group: every report as a point (Plotly computes the box); a large one: the box from the
    database's statistics with the reports beyond the whiskers as points."""
    import plotly.graph_objects as go

    style: dict[str, Any] = {
        "name": group.label,
        "showlegend": False,
        "line": {"color": _BOX, "width": 1.5},
        "fillcolor": "rgba(76,114,176,0.12)",
        "marker": {"color": _BOX, "size": 5, "opacity": 0.65},
    }
    hover = f"report %{{customdata}}: %{{y:.3g}} {unit}<extra>{group.label}</extra>"
    if group.complete:
        return [
            go.Box(
                y=group.values,
                x=[label] * len(group.values),
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                customdata=group.report_ids,
                hovertemplate=hover,
                **style,
            )
        ]
    s = group.spread
    box = go.Box(
        x=[label],
        q1=[s.q1],
        median=[s.median],
        q3=[s.q3],
        lowerfence=[s.low],
        upperfence=[s.high],
        boxpoints=False,
        hoverinfo="y",
        **style,
    )
    outliers = go.Scatter(
        x=[label] * len(group.values),
        y=group.values,
        customdata=group.report_ids,
        mode="markers",
        showlegend=False,
        marker=style["marker"],
        hovertemplate=hover,
    )
    return [box, outliers]


def box_figure(data: DashboardData) -> str:
    """Box plots per group on a log axis, every report (or, in large groups, every outlier) a point."""
    import plotly.graph_objects as go

    figure = go.Figure()
    labels = [wrap_label(g.label) for g in data.groups]
    for label, group in zip(labels, data.groups, strict=True):
        for trace in _box(label, group, data.unit):
            figure.add_trace(trace)
    for trace in _markers(data, labels):
        figure.add_trace(trace)
    _alert(figure, data)
    group_name = {"procedure": "procedure type", "device": "device", "operator": "operator"}[data.group_by]
    figure.update_layout(
        title={"text": f"{data.label} per {group_name} ({data.count} {data.kind} reports)", "x": 0.0},
        yaxis=_axis(data),
        xaxis={"tickangle": 0, "automargin": True},
        height=500,
        margin={"t": 80, "l": 70, "r": 20, "b": 40},
        boxmode="overlay",
        plot_bgcolor="white",
        legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
        showlegend=bool(data.groups),
    )
    figure.update_yaxes(gridcolor="#e5e5e5", zeroline=False)
    return str(figure.to_html(**_HTML, div_id="dose-box"))


def trend_figure(data: DashboardData) -> str:
    """Monthly median with interquartile range on a log axis; an HTML fragment."""
    import plotly.graph_objects as go

    months = [m.month for m in data.months]
    figure = go.Figure()
    figure.add_trace(
        go.Scatter(
            x=months,
            y=[m.q3 for m in data.months],
            mode="lines",
            line={"width": 0},
            showlegend=False,
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=months,
            y=[m.q1 for m in data.months],
            mode="lines",
            line={"width": 0},
            fill="tonexty",
            fillcolor="rgba(76,114,176,0.2)",
            name="interquartile range",
            hoverinfo="skip",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=months,
            y=[m.median for m in data.months],
            mode="lines+markers",
            name="median",
            line={"color": _BOX, "width": 2},
            customdata=[[m.count, m.q1, m.q3] for m in data.months],
            hovertemplate=(
                f"%{{x|%b %Y}}: median %{{y:.3g}} {data.unit}, IQR %{{customdata[1]:.3g}}-"
                f"%{{customdata[2]:.3g}} (n=%{{customdata[0]}})<extra></extra>"
            ),
        )
    )
    _alert(figure, data)
    figure.update_layout(
        title={"text": f"{data.label} per month: median and interquartile range", "x": 0.0},
        yaxis=_axis(data),
        xaxis={"dtick": "M1", "tickformat": "%b<br>%Y"},
        height=380,
        margin={"t": 80, "l": 70, "r": 20, "b": 40},
        plot_bgcolor="white",
        legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
    )
    figure.update_yaxes(gridcolor="#e5e5e5", zeroline=False)
    return str(figure.to_html(**_HTML, div_id="dose-trend"))
