"""The Plotly adapters draw what the numbers say: limit line, competence marker, interval bars, KM steps."""

from __future__ import annotations

import pytest

from painguide.outcomes.charts import kaplan_meier_figure, responder_figure
from painguide.outcomes.responders import FollowUp, load_responder_criteria, responder_rates
from painguide.outcomes.survival import ReliefDuration, kaplan_meier
from painguide.training.charts import figure_html, learning_curve_figure
from painguide.training.cusum import CusumDesign, learning_curve

DESIGN = CusumDesign(p0=0.10, p1=0.20, alpha=0.10, beta=0.10)


def test_learning_curve_chart_has_limit_and_competence_marker() -> None:
    curve = learning_curve([0] + [1] * 19, DESIGN)
    figure = learning_curve_figure(curve)
    names = [t.name for t in figure.data]
    assert len(names) == 4 and "competence declared at procedure 20" in names
    limit = figure.data[2]
    assert list(limit.y) == pytest.approx([curve.h, curve.h])
    assert list(figure.data[1].y) == pytest.approx(list(curve.lc_scores))
    assert 'id="lc"' in figure_html(figure, "lc")


def test_learning_curve_chart_without_competence_has_no_marker() -> None:
    assert len(learning_curve_figure(learning_curve([1, 0, 1], DESIGN)).data) == 3


def test_responder_bars_carry_wilson_intervals() -> None:
    criteria = load_responder_criteria()
    groups = responder_rates([FollowUp(8, 4, "much_improved"), FollowUp(8, 8, "no_change")], criteria)
    figure = responder_figure(groups, criteria)
    bar = figure.data[1]  # nrs50: 1 of 2
    rate = groups[0].rates["nrs50"]
    assert list(bar.y) == pytest.approx([50.0])
    assert list(bar.error_y.array) == pytest.approx([100 * (rate.high or 0) - 50])
    assert list(bar.error_y.arrayminus) == pytest.approx([50 - 100 * (rate.low or 0)])


def test_kaplan_meier_figure_one_step_line_per_group() -> None:
    data = [ReliefDuration(d, True, procedure_id=p) for d, p in [(10, "a"), (20, "a"), (5, "b"), (40, "b")]]
    curves = kaplan_meier(data, group_by=lambda r: r.procedure_id)
    figure = kaplan_meier_figure(curves)
    lines = [t for t in figure.data if t.showlegend is not False]
    assert [t.name for t in lines] == ["a (n = 2, median 10 days)", "b (n = 2, median 5 days)"]
    assert all(t.line.shape == "hv" for t in lines)
