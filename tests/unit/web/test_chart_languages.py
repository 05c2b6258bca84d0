"""Charts speak the reader's language: titles, axes, legends and hover texts, and the decimal sign.

The chart modules are pure: they take a ``Texts`` (the web layer's ``Translator`` is one) and stay English
without it. Every test draws the same data in both languages and checks the words and Plotly's
``separators`` (German writes 0,5 where English writes 0.5).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from painguide.dose.charts import box_figure, events_figure, skin_map_figure, trend_figure
from painguide.dose.dashboard import dashboard_data
from painguide.dose.models import DoseReport, IrradiationEvent, ReportKind, SkinDoseMap
from painguide.dose.reference import DoseSample, load_reference_data
from painguide.i18n.text import ENGLISH, number, plotly_separators
from painguide.outcomes.charts import kaplan_meier_figure
from painguide.outcomes.survival import ReliefDuration, kaplan_meier
from painguide.sono.charts import timeline_figure
from painguide.training.charts import learning_curve_figure
from painguide.training.cusum import CusumDesign, learning_curve
from painguide.web.i18n import Translator

GERMAN = Translator("de")


def _plain(html: str) -> str:
    """Plotly writes non-ASCII characters as JSON escapes."""
    return json.loads(json.dumps(html).replace("\\\\u", "\\u"))  # type: ignore[no-any-return]


def _data():  # type: ignore[no-untyped-def]
    t0 = datetime(2025, 1, 15, 9, tzinfo=UTC)
    samples = [
        DoseSample(i, "P1", t0, "lumbar-tfesi", "fluoro", "Cios CARM01", "Doe^Jane", dap_total_gy_cm2=dap)
        for i, dap in enumerate((0.5, 0.7, 2.0), start=1)
    ]
    reference = load_reference_data()
    return dashboard_data(
        samples, kind="fluoro", group_by="procedure", names={"lumbar-tfesi": "Lumbar TFESI"},
        levels=reference.levels, alerts=reference.alerts,
    )  # fmt: skip


def test_dashboard_charts_in_german_and_english() -> None:
    data = _data()
    english, german = _plain(box_figure(data)), _plain(box_figure(data, GERMAN))
    assert "per procedure type (3" in english and '"separators":".,"' in english.replace(" ", "")
    assert "je Eingriffsart (3 Berichte" in german and '"separators":",."' in german.replace(" ", "")
    assert "Alarmschwelle 200 Gy·cm²" in german and "oberhalb des dargestellten Bereichs" in german
    assert "lokaler Median (dieser Standort)" in german and "local median" not in german
    assert "logarithmische Skala" in german and "log scale" in english
    trend = _plain(trend_figure(data, GERMAN))
    assert "je Monat: Median und Interquartilsabstand" in trend and "per month" not in trend


def _report(kind: ReportKind) -> DoseReport:
    events = tuple(
        IrradiationEvent(index=i, event_type=kind_, dap_gy_cm2=0.25 * (i + 1), rp_dose_mgy=1.5, kvp=70.0)
        for i, kind_ in enumerate(("fluoroscopy", "stationary acquisition", "fluoroscopy"))
    )
    return DoseReport(sop_instance_uid="1.2.3", sop_class_uid="1.2.840.10008.5.1.4.1.1.88.67", kind=kind,
                      events=events)  # fmt: skip


def test_event_chart_in_german() -> None:
    html = _plain(events_figure(_report(ReportKind.FLUORO), GERMAN))
    expected = [
        "3 Bestrahlungsereignisse",
        "DFP je Ereignis (Gy·cm²)",
        "Referenzpunktdosis je Ereignis",
        "laufende Summe",
        "Durchleuchtung",
        "Aufnahme",
        "Ereignisnummer",
        "Cu (nicht angegeben)",
    ]
    assert [words for words in expected if words not in html] == []
    english = _plain(events_figure(_report(ReportKind.FLUORO)))
    assert "RP dose per event" in english and "Referenzpunktdosis" not in english


def test_skin_map_in_german_writes_a_decimal_comma() -> None:
    skin = SkinDoseMap(around_deg=(0.0, 10.0), along_cm=(4.0, 6.0), dose_mgy=(12.0, 12.72))
    german = _plain(skin_map_figure(skin, peak_mgy=12.72, t=GERMAN))
    assert "Hautdosiskarte (Maximum 12,7 mGy)" in german and "um den Körper" in german
    assert "Skin dose map (peak 12.7 mGy)" in _plain(skin_map_figure(skin, peak_mgy=12.72))


def test_ultrasound_timeline_and_event_labels_in_german() -> None:
    timeline = {"time_s": [0.0, 0.5], "visible": [True, True], "confidence": [0.6, 0.7],
                "tip_z_mm": [10.0, 11.0], "area_mm2": [0.0, 0.0]}  # fmt: skip
    events = [{"time_s": 4.25, "type": "no_visible_spread", "detail": ""}]
    german = _plain(timeline_figure(timeline, events, GERMAN))
    assert "KEINE SICHTBARE AUSBREITUNG 4,25 s" in german and "Zeit (s)" in german
    assert "NO VISIBLE SPREAD 4.25 s" in _plain(timeline_figure(timeline, events))


def test_learning_curve_and_relief_curves_in_german() -> None:
    curve = learning_curve([0] + [1] * 19, CusumDesign(p0=0.10, p1=0.20, alpha=0.10, beta=0.10))
    figure = learning_curve_figure(curve, t=GERMAN)
    names = [trace.name for trace in figure.data]
    assert "Kompetenz erklärt bei Eingriff 20" in names
    assert figure.layout.title.text.startswith("Lernkurve (p0 = 0,1, p1 = 0,2")
    assert figure.layout.separators == ",."
    data = [ReliefDuration(d, True, procedure_id="a") for d in (10, 20)]
    km = kaplan_meier_figure(kaplan_meier(data, group_by=lambda r: r.procedure_id), GERMAN)
    assert [t.name for t in km.data if t.showlegend is not False] == ["a (n = 2, Median 10 Tage)"]
    assert km.layout.xaxis.title.text == "Tage nach dem Eingriff"


@pytest.mark.parametrize(("language", "expected"), [("de", ",."), ("en", ".,")])
def test_separators_follow_the_language(language: str, expected: str) -> None:
    assert plotly_separators(language) == expected
    assert number(0.5, language) == ("0,5" if language == "de" else "0.5")


def test_english_default_fills_placeholders_and_keeps_values() -> None:
    assert ENGLISH.gettext("%(n)s days", n=3) == "3 days" and ENGLISH.label("fluoro") == "fluoro"
    assert GERMAN.gettext("%(n)s days", n=3) == "3 Tage"
