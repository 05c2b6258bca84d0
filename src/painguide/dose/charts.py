"""Plotly figures of the dose pages (dashboard box plots and trend; a report's events and skin dose map).

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
from painguide.dose.models import DoseReport, ReportKind, SkinDoseMap
from painguide.i18n.text import ENGLISH, N_, Texts, number, plotly_separators

__all__ = ["box_figure", "events_figure", "log_ticks", "skin_map_figure", "trend_figure", "wrap_label"]

_BOX = "#4c72b0"
_MEDIAN = "#c44e52"
_REFERENCE = "#222222"
_ALERT = "#dd8452"
_HTML: dict[str, object] = {"full_html": False, "include_plotlyjs": False, "config": {"displaylogo": False}}


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


def _axis(data: DashboardData, t: Texts) -> dict[str, object]:
    title = t.gettext("%(quantity)s (%(unit)s, log scale)", quantity=t.label(data.label), unit=data.unit)
    axis: dict[str, object] = {"type": "log", "title": title}
    if data.y_range is not None:
        low, high = data.y_range
        ticks = log_ticks(low, high)
        axis |= {
            "range": [math.log10(low), math.log10(high)],
            "tickvals": ticks,
            "ticktext": [f"{t:g}" for t in ticks],
        }
    return axis


def _alert(data: DashboardData, t: Texts) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """The alert level's line (a layout shape) and note (an annotation), or only the note above the chart."""
    if data.alert_level is None:
        return [], []
    text = t.gettext(
        "alert level %(level)s %(unit)s (%(source)s)",
        level=number(data.alert_level, t.language),
        unit=data.unit,
        source=data.alert_source,
    )
    if data.alert_in_range:
        line = {
            "type": "line",
            "xref": "x domain",
            "x0": 0,
            "x1": 1,
            "yref": "y",
            "y0": data.alert_level,
            "y1": data.alert_level,
            "line": {"dash": "dot", "color": _ALERT},
        }
        note = {
            "xref": "paper",
            "x": 1.0,
            "y": math.log10(data.alert_level),
            "text": text,
            "showarrow": False,
            "xanchor": "right",
            "yanchor": "bottom",
            "font": {"color": _ALERT, "size": 11},
        }
        return [line], [note]
    note = {
        "xref": "paper",
        "yref": "paper",
        "x": 0.0,
        "y": 1.0,
        "text": "▲ " + t.gettext("%(alert)s above the plotted range", alert=text),
        "showarrow": False,
        "xanchor": "left",
        "yanchor": "bottom",
        "font": {"color": _ALERT, "size": 12},
    }
    return [], [note]


def _html(
    traces: list[dict[str, Any]], layout: dict[str, Any], data: DashboardData, div_id: str, t: Texts
) -> str:
    """The figure as an HTML fragment, written from plain dicts (Plotly's figure objects validate every
    property of every trace, which took longer than the database work of a dashboard with many groups)."""
    import plotly.io as pio

    shapes, notes = _alert(data, t)
    layout = layout | {"shapes": shapes, "annotations": notes, "separators": plotly_separators(t.language)}
    layout["yaxis"] = layout["yaxis"] | {"gridcolor": "#e5e5e5", "zeroline": False}
    figure = {"data": traces, "layout": layout}
    return str(pio.to_html(figure, validate=False, **_HTML, div_id=div_id))


def _markers(data: DashboardData, labels: list[str], t: Texts) -> list[dict[str, Any]]:
    median_name = (
        t.gettext("local median (this site)") if data.group_by == "procedure" else t.gettext("group median")
    )
    traces = [
        {
            "type": "scatter",
            "x": labels,
            "y": [g.median for g in data.groups],
            "customdata": [len(g.values) for g in data.groups],
            "mode": "markers",
            "name": median_name,
            "marker": {"symbol": "line-ew", "size": 46, "line": {"width": 3, "color": _MEDIAN}},
            "hovertemplate": f"{median_name}: %{{y:.3g}} {data.unit} (n=%{{customdata}})<extra></extra>",
        }
    ]
    for label, group in zip(labels, data.groups, strict=True):
        for level in group.references:
            name = t.gettext(
                "published level: %(source)s [%(status)s]", source=level.source, status=t.label(level.status)
            )
            traces.append(
                {
                    "type": "scatter",
                    "x": [label],
                    "y": [level.value],
                    "mode": "markers",
                    "name": name,
                    "marker": {"symbol": "line-ew", "size": 60, "line": {"width": 2, "color": _REFERENCE}},
                    "hovertemplate": f"{level.description}: {level.published} ({name})<extra></extra>",
                }
            )
    return traces


def _box(label: str, group: Group, unit: str, t: Texts) -> list[dict[str, object]]:
    """A small group: every report as a point (Plotly computes the box); a large one: the box from the
    database's statistics with the reports beyond the whiskers as points."""
    style: dict[str, object] = {
        "name": group.label,
        "showlegend": False,
        "line": {"color": _BOX, "width": 1.5},
        "fillcolor": "rgba(76,114,176,0.12)",
        "marker": {"color": _BOX, "size": 5, "opacity": 0.65},
    }
    hover = t.gettext("report") + f" %{{customdata}}: %{{y:.3g}} {unit}<extra>{group.label}</extra>"
    if group.complete:
        return [
            {
                "type": "box",
                "y": list(group.values),
                "x": [label] * len(group.values),
                "boxpoints": "all",
                "jitter": 0.4,
                "pointpos": 0,
                "customdata": list(group.report_ids),
                "hovertemplate": hover,
                **style,
            }
        ]
    s = group.spread
    box = {
        "type": "box",
        "x": [label],
        "q1": [s.q1],
        "median": [s.median],
        "q3": [s.q3],
        "lowerfence": [s.low],
        "upperfence": [s.high],
        "boxpoints": False,
        "hoverinfo": "y",
        **style,
    }
    outliers = {
        "type": "scatter",
        "x": [label] * len(group.values),
        "y": list(group.values),
        "customdata": list(group.report_ids),
        "mode": "markers",
        "showlegend": False,
        "marker": style["marker"],
        "hovertemplate": hover,
    }
    return [box, outliers]


def box_figure(data: DashboardData, t: Texts = ENGLISH) -> str:
    """Box plots per group on a log axis, every report (or, in large groups, every outlier) a point."""
    labels = [wrap_label(t.label(g.label)) for g in data.groups]
    traces = [
        trace for label, g in zip(labels, data.groups, strict=True) for trace in _box(label, g, data.unit, t)
    ]
    traces += _markers(data, labels, t)
    titles = {
        "procedure": t.gettext("%(quantity)s per procedure type (%(count)s %(kind)s reports)"),
        "device": t.gettext("%(quantity)s per device (%(count)s %(kind)s reports)"),
        "operator": t.gettext("%(quantity)s per operator (%(count)s %(kind)s reports)"),
    }
    title = titles[data.group_by] % {
        "quantity": t.label(data.label),
        "count": data.count,
        "kind": t.label(data.kind),
    }
    layout = {
        "title": {"text": title, "x": 0.0},
        "yaxis": _axis(data, t),
        "xaxis": {"tickangle": 0, "automargin": True},
        "height": 500,
        "margin": {"t": 80, "l": 70, "r": 20, "b": 40},
        "boxmode": "overlay",
        "plot_bgcolor": "white",
        "legend": {"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
        "showlegend": bool(data.groups),
    }
    return _html(traces, layout, data, "dose-box", t)


def trend_figure(data: DashboardData, t: Texts = ENGLISH) -> str:
    """Monthly median with interquartile range on a log axis; an HTML fragment."""
    median, iqr = t.gettext("median"), t.gettext("IQR")
    months = [m.month.isoformat() for m in data.months]
    traces: list[dict[str, object]] = [
        {
            "type": "scatter",
            "x": months,
            "y": [m.q3 for m in data.months],
            "mode": "lines",
            "line": {"width": 0},
            "showlegend": False,
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": months,
            "y": [m.q1 for m in data.months],
            "mode": "lines",
            "line": {"width": 0},
            "fill": "tonexty",
            "fillcolor": "rgba(76,114,176,0.2)",
            "name": t.gettext("interquartile range"),
            "hoverinfo": "skip",
        },
        {
            "type": "scatter",
            "x": months,
            "y": [m.median for m in data.months],
            "mode": "lines+markers",
            "name": t.gettext("median"),
            "line": {"color": _BOX, "width": 2},
            "customdata": [[m.count, m.q1, m.q3] for m in data.months],
            "hovertemplate": (
                f"%{{x|%m/%Y}}: {median} %{{y:.3g}} {data.unit}, {iqr} "
                f"%{{customdata[1]:.3g}}-%{{customdata[2]:.3g}} (n=%{{customdata[0]}})<extra></extra>"
            ),
        },
    ]
    layout = {
        "title": {
            "text": t.gettext(
                "%(quantity)s per month: median and interquartile range", quantity=t.label(data.label)
            ),
            "x": 0.0,
        },
        "yaxis": _axis(data, t),
        "xaxis": {"dtick": "M1", "tickformat": "%m<br>%Y"},
        "height": 380,
        "margin": {"t": 80, "l": 70, "r": 20, "b": 40},
        "plot_bgcolor": "white",
        "legend": {"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
    }
    return _html(traces, layout, data, "dose-trend", t)


_FLUORO = "#4c72b0"
_ACQUISITION = "#dd8452"
_CUMULATIVE = "#555555"


def _event_axis(report: DoseReport, t: Texts) -> tuple[list[Any], str, bool]:
    """Event start times when every event has one and they differ, else event numbers."""
    times = [event.started for event in report.events]
    if times and None not in times and (len(times) == 1 or len(set(times)) > 1):
        return times, t.gettext("event start (modality time)"), False
    return [event.index + 1 for event in report.events], t.gettext("event number"), True


def _cumulative(values: list[float | None]) -> list[float]:
    total, result = 0.0, []
    for value in values:
        total += value or 0.0
        result.append(total)
    return result


# (row, event field, label, unit, draw a running total)
_PROJECTION_ROWS = ((1, "dap_gy_cm2", "DAP", "Gy·cm²", True), (2, "rp_dose_mgy", N_("RP dose"), "mGy", True))
_CT_ROWS = ((1, "dlp_mgy_cm", "DLP", "mGy·cm", True), (2, "ctdivol_mgy", "CTDIvol", "mGy", False))


def _groups(report: DoseReport, t: Texts) -> tuple[tuple[str, str, list[bool]], ...]:
    """Marker groups: fluoroscopy against acquisition events (all CT acquisitions are one group)."""
    if report.kind is ReportKind.CT:
        return ((t.gettext("CT acquisition"), _FLUORO, [True] * len(report.events)),)
    return (
        (t.gettext("fluoroscopy"), _FLUORO, [e.event_type == "fluoroscopy" for e in report.events]),
        (t.gettext("acquisition"), _ACQUISITION, [e.event_type != "fluoroscopy" for e in report.events]),
    )


def events_figure(report: DoseReport, t: Texts = ENGLISH) -> str:
    """Irradiation events over time: DAP and reference-point dose per event (fluoroscopy against acquisition)
    with their running totals, or DLP and CTDIvol for CT, and tube voltage and copper filtration where the
    report states them.

    Returns an HTML fragment (Plotly, without its script).
    """
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    x, x_title, numbered = _event_axis(report, t)
    figure = make_subplots(
        rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.06, row_heights=[0.38, 0.38, 0.24],
        specs=[[{"secondary_y": True}], [{"secondary_y": True}], [{"secondary_y": True}]],
    )  # fmt: skip
    for row, field, quantity, unit, running in _CT_ROWS if report.kind is ReportKind.CT else _PROJECTION_ROWS:
        label = t.gettext(quantity)
        values = [getattr(event, field) for event in report.events]
        for kind, colour, selected in _groups(report, t):
            points = [
                (xi, v, e.index + 1, e.protocol or "")
                for xi, v, e, chosen in zip(x, values, report.events, selected, strict=True)
                if chosen and v is not None
            ]
            figure.add_trace(
                go.Scatter(
                    x=[p[0] for p in points], y=[p[1] for p in points], mode="markers",
                    name=kind, legendgroup=kind, showlegend=row == 1,
                    marker={"color": colour, "size": 7}, customdata=[[p[2], p[3]] for p in points],
                    hovertemplate=(t.gettext("event") + f" %{{customdata[0]}} ({kind}, %{{customdata[1]}}): "
                                   f"%{{y:.3g}} {unit}<extra></extra>"),
                ),
                row=row, col=1,
            )  # fmt: skip
        per_event = t.gettext("%(quantity)s per event (%(unit)s)", quantity=label, unit=unit)
        figure.update_yaxes(title_text=per_event, row=row, col=1, rangemode="tozero")
        if running:
            running_total = t.gettext("running total")
            figure.add_trace(
                go.Scatter(
                    x=x, y=_cumulative(values), mode="lines", name=running_total, legendgroup="total",
                    showlegend=row == 1, line={"color": _CUMULATIVE, "width": 1.5, "shape": "hv"},
                    hovertemplate=f"{running_total} %{{y:.3g}} {unit}<extra></extra>",
                ),
                row=row, col=1, secondary_y=True,
            )  # fmt: skip
            total = t.gettext("%(quantity)s total (%(unit)s)", quantity=label, unit=unit)
            figure.update_yaxes(title_text=total, row=row, col=1, secondary_y=True,
                                rangemode="tozero", showgrid=False, tickmode="auto", nticks=5,
                                tickformat=".3~g")  # fmt: skip
        else:
            figure.update_yaxes(visible=False, row=row, col=1, secondary_y=True)
    _technique(figure, report, x, t)
    figure.update_xaxes(title_text=x_title, row=3, col=1)
    if numbered:
        figure.update_xaxes(dtick=max(1, math.ceil(len(x) / 20)))
    figure.update_layout(
        title={"text": t.gettext("%(n)s irradiation events", n=len(report.events)), "x": 0.0}, height=640,
        separators=plotly_separators(t.language),
        margin={"t": 70, "l": 70, "r": 70, "b": 50}, plot_bgcolor="white",
        legend={"orientation": "h", "x": 1.0, "xanchor": "right", "y": 1.0, "yanchor": "bottom"},
    )  # fmt: skip
    figure.update_yaxes(gridcolor="#e5e5e5", zeroline=False)
    figure.update_xaxes(gridcolor="#e5e5e5")
    return str(figure.to_html(**_HTML, div_id="dose-events"))


def _technique(figure: Any, report: DoseReport, x: list[Any], t: Texts) -> None:
    """Row 3: tube voltage (left axis) and copper filtration (right axis), each only where stated."""
    import plotly.graph_objects as go

    kvp = [(xi, e.kvp) for xi, e in zip(x, report.events, strict=True) if e.kvp is not None]
    copper = [
        (xi, e.filter_cu_mm) for xi, e in zip(x, report.events, strict=True) if e.filter_cu_mm is not None
    ]
    if kvp:
        figure.add_trace(
            go.Scatter(x=[p[0] for p in kvp], y=[p[1] for p in kvp], mode="markers", name="kVp",
                       marker={"color": "#8172b2", "size": 6, "symbol": "diamond"},
                       hovertemplate="%{y:g} kVp<extra></extra>"),
            row=3, col=1,
        )  # fmt: skip
    if copper:
        figure.add_trace(
            go.Scatter(x=[p[0] for p in copper], y=[p[1] for p in copper], mode="markers",
                       name=t.gettext("Cu filtration"),
                       marker={"color": "#937860", "size": 6, "symbol": "square"},
                       hovertemplate="%{y:g} mm Cu<extra></extra>"),
            row=3, col=1, secondary_y=True,
        )  # fmt: skip
    figure.update_yaxes(title_text="kVp" if kvp else t.gettext("kVp (not stated)"), row=3, col=1)
    figure.update_yaxes(title_text="mm Cu" if copper else t.gettext("Cu (not stated)"), row=3, col=1,
                        secondary_y=True, showgrid=False, rangemode="tozero", tickmode="auto", nticks=4,
                        tickformat=".2~g")  # fmt: skip


def skin_map_figure(skin_map: SkinDoseMap, *, peak_mgy: float, t: Texts = ENGLISH) -> str:
    """The skin dose map unrolled around the phantom (10° by 2 cm cells, highest dose per cell).

    Returns an HTML fragment (Plotly, without its script).
    """
    import plotly.graph_objects as go

    around_bins = list(range(-180, 180, 10))
    along = [cm for cm in skin_map.along_cm]
    low = 2 * math.floor(min(along, default=0.0) / 2) - 10
    high = 2 * math.ceil(max(along, default=0.0) / 2) + 10
    along_bins = list(range(int(low), int(high), 2))
    grid: list[list[float | None]] = [[None] * len(around_bins) for _ in along_bins]
    for angle, position, dose in zip(skin_map.around_deg, skin_map.along_cm, skin_map.dose_mgy, strict=True):
        column = min(len(around_bins) - 1, int((angle + 180) // 10))
        row = min(len(along_bins) - 1, max(0, int((position - low) // 2)))
        current = grid[row][column]
        grid[row][column] = dose if current is None else max(current, dose)
    zmax = peak_mgy
    around_word, along_word = t.gettext("around the body"), t.gettext("along the body")
    title = t.gettext("Skin dose map (peak %(peak)s mGy)", peak=number(peak_mgy, t.language, ".3g"))
    figure = go.Figure(
        go.Heatmap(
            x=[a + 5 for a in around_bins], y=[b + 1 for b in along_bins], z=grid, zmin=0, zmax=zmax,
            colorscale="YlOrRd", colorbar={"title": {"text": "mGy"}}, hoverongaps=False,
            hovertemplate=(f"%{{x}}° {around_word}, %{{y}} cm {along_word}"
                           ": %{z:.3g} mGy<extra></extra>"),
        )
    )  # fmt: skip
    figure.update_layout(
        title={"text": title, "x": 0.0},
        height=460, separators=plotly_separators(t.language),
        margin={"t": 60, "l": 70, "r": 20, "b": 60}, plot_bgcolor="#f4f4f4",
        xaxis={"title": t.gettext("angle around the body (°; 0 = table side, ±180 = tube-away side)"),
               "tickvals": list(range(-180, 181, 45)), "range": [-180, 180]},
        yaxis={"title": t.gettext("along the phantom (cm from its head end)"), "autorange": "reversed"},
    )  # fmt: skip
    return str(figure.to_html(**_HTML, div_id="dose-skin-map"))
