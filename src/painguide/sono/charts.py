"""Plotly timeline of a stored ultrasound analysis, as an HTML fragment for the review page.

Three stacked panels share the time axis: needle confidence (with the frames where the needle is shown
as visible), tip depth ``z_mm`` (deeper is lower, as on the screen) and the spread area in mm². Events are
vertical lines across all panels, labelled above the chart; warnings are red.
"""

from __future__ import annotations

from typing import Any

from painguide.i18n.text import ENGLISH, Texts, event_detail, number, plotly_separators
from painguide.sono.pipeline import EVENT_LABELS

__all__ = ["EVENT_STYLE", "timeline_figure"]

_NEEDLE = "#1f5fa8"
_SPREAD = "#0e8a7e"
_DEPTH = "#6b4fbb"
#: Colour, dash and label of each event line (events not listed here are not drawn; labels from
#: :data:`painguide.sono.pipeline.EVENT_LABELS`).
EVENT_STYLE: dict[str, tuple[str, str, str]] = {
    kind: (colour, dash, EVENT_LABELS[kind])
    for kind, colour, dash in (
        ("needle_visible", "#8a94a6", "dot"),
        ("injection_start", "#1d2430", "dash"),
        ("spread_onset", _SPREAD, "dash"),
        ("no_visible_spread", "#b42318", "solid"),
        ("spread_away_from_tip", "#b42318", "solid"),
        ("vessel_near_path", "#b42318", "solid"),
        ("fluid_in_vessel", "#b42318", "solid"),
        ("cine_ended_without_spread", "#b42318", "solid"),
    )
}
_HTML: dict[str, object] = {"full_html": False, "include_plotlyjs": False, "config": {"displaylogo": False}}


def _traces(timeline: dict[str, list[object]], tr: Texts) -> list[tuple[Any, int]]:
    import plotly.graph_objects as go

    t = timeline.get("time_s", [])
    visible = timeline.get("visible", [])
    confidence = timeline.get("confidence", [])
    shown = [c if v else None for c, v in zip(confidence, visible, strict=False)]
    confidence_word, tip_depth, fluid = tr.gettext("confidence"), tr.gettext("tip depth"), tr.gettext("fluid")
    return [
        (
            go.Scatter(
                x=t, y=confidence, mode="lines", name=tr.gettext("needle confidence"), uid="confidence",
                line={"color": _NEEDLE, "width": 1, "dash": "dot"},
                hovertemplate=f"%{{x:.2f}} s: {confidence_word} %{{y:.2f}}<extra></extra>",
            ),
            1,
        ),
        (
            go.Scatter(
                x=t, y=shown, mode="markers", name=tr.gettext("needle visible"), uid="visible",
                marker={"color": _NEEDLE, "size": 5}, hoverinfo="skip",
            ),
            1,
        ),
        (
            go.Scatter(
                x=t, y=timeline.get("tip_z_mm", []), mode="lines+markers", connectgaps=False,
                name=tr.gettext("tip depth z (mm)"), uid="tip_z", line={"color": _DEPTH, "width": 2},
                marker={"size": 3},
                hovertemplate=f"%{{x:.2f}} s: {tip_depth} %{{y:.1f}} mm<extra></extra>",
            ),
            2,
        ),
        (
            go.Scatter(
                x=t, y=timeline.get("area_mm2", []), mode="lines", name=tr.gettext("spread area (mm²)"),
                uid="spread",
                line={"color": _SPREAD, "width": 2}, fill="tozeroy", fillcolor="rgba(14,138,126,0.15)",
                hovertemplate=f"%{{x:.2f}} s: {fluid} %{{y:.1f}} mm²<extra></extra>",
            ),
            3,
        ),
    ]  # fmt: skip


#: What a label's width in the chart is reckoned from: the plot area's narrowest width on the review page
#: (pixels) and the mean width of a character of the labels' 12 px font.
_PLOT_PX = 640.0
_CHAR_PX = 7.0


def _label_rows(labels: list[tuple[float, int]], span: float) -> list[int]:
    """The row above the chart for each label ``(x, characters)``, in order: the lowest row on which it
    does not overlap a label placed before it (a label reaches from ``x`` to the right by its text's
    width at the narrowest chart, as a fraction ``span`` of the time axis).

    Examples
    --------
    >>> _label_rows([(0.6, 18), (1.5, 21), (1.8, 19), (2.95, 20)], 3.0)
    [0, 0, 1, 0]
    """
    per_char = span * _CHAR_PX / _PLOT_PX
    ends: list[float] = []  # where the last label of each row ends
    rows: list[int] = []
    for x, characters in labels:
        row = next((r for r, end in enumerate(ends) if end <= x), len(ends))
        if row == len(ends):
            ends.append(0.0)
        ends[row] = x + characters * per_char
        rows.append(row)
    return rows


def _event_lines(figure: Any, events: list[dict[str, Any]], t: Texts, end_s: float) -> int:
    """A vertical line per event across the three panels and its label above the chart, labels that would
    overlap on rows above one another (``end_s``: the end of the time axis). Returns the number of rows."""
    drawn = [(e, EVENT_STYLE[str(e.get("type"))]) for e in events if str(e.get("type")) in EVENT_STYLE]
    texts = [
        f"{t.gettext(label)} {number(float(e['time_s']), t.language, '.2f')} s" for e, (_, _, label) in drawn
    ]
    places = [(float(e["time_s"]), len(text)) for (e, _), text in zip(drawn, texts, strict=True)]
    rows = _label_rows(places, end_s or 1.0)
    for (event, (colour, dash, _)), text, row in zip(drawn, texts, rows, strict=True):
        x = float(event["time_s"])
        figure.add_shape(
            type="line", xref="x", yref="paper", x0=x, x1=x, y0=0, y1=1, name=f"event-{event['type']}",
            line={"color": colour, "dash": dash, "width": 2 if colour == "#b42318" else 1.5},
        )  # fmt: skip
        figure.add_annotation(
            x=x, xref="x", yref="paper", y=1.0 + 0.01 + 0.045 * row, text=text,
            showarrow=False, xanchor="left", yanchor="bottom", name=f"label-{event['type']}",
            font={"color": colour, "size": 12}, hovertext=event_detail(t, event),
        )  # fmt: skip
    return max(rows, default=-1) + 1


def timeline_figure(
    timeline: dict[str, list[object]] | None, events: list[dict[str, object]], t: Texts = ENGLISH
) -> str:
    """The review timeline: needle confidence, tip depth and spread area over time, with event lines.

    Parameters
    ----------
    timeline : dict of lists, optional
        Stored per-frame series (:func:`painguide.sono.service.timeline_of`); ``None`` draws the events
        only.
    events : list of dict
        Stored events (``time_s``, ``type``, ``detail``).
    t : Texts, optional
        The reader's language (English when not given).

    Returns
    -------
    str
        HTML fragment with the chart in ``div#sono-timeline`` (Plotly loaded by the page).
    """
    from plotly.subplots import make_subplots

    figure = make_subplots(
        rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07, row_heights=[0.28, 0.32, 0.40],
    )  # fmt: skip
    for trace, row in _traces(timeline or {}, t):
        figure.add_trace(trace, row=row, col=1)
    times = [float(v) for v in (timeline or {}).get("time_s", []) if isinstance(v, int | float)]
    end_s = max([*times, *(float(str(e["time_s"])) for e in events)], default=1.0)
    label_rows = _event_lines(figure, events, t, end_s)
    figure.update_yaxes(title_text=t.gettext("needle<br>confidence"), range=[0, 1.05], row=1, col=1)
    figure.update_yaxes(title_text=t.gettext("tip depth<br>z (mm)"), autorange="reversed", row=2, col=1)
    figure.update_yaxes(title_text=t.gettext("spread<br>area (mm²)"), rangemode="tozero", row=3, col=1)
    figure.update_xaxes(title_text=t.gettext("time (s)"), row=3, col=1)
    figure.update_xaxes(gridcolor="#e5e5e5", zeroline=False, showline=True, linecolor="#c9ced6")
    figure.update_yaxes(gridcolor="#e5e5e5", zeroline=False)
    figure.update_layout(
        height=480, plot_bgcolor="white", separators=plotly_separators(t.language), hovermode="x unified",
        margin={"t": 40 + 18 * max(1, label_rows), "l": 80, "r": 20, "b": 50},
        legend={"orientation": "h", "x": 0.0, "y": -0.16, "xanchor": "left", "yanchor": "top"},
    )  # fmt: skip
    return str(figure.to_html(**_HTML, div_id="sono-timeline"))
