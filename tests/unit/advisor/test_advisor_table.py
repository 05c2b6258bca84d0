"""The advisor against a table of cases drawn from KNOWLEDGE §1-3 (procedures, drugs, patient factors).

Each case states what the clinical source says and checks that the recommendation shows it: which modality
ranks first or above another, which warning appears on which modality, the bleeding-risk category, and the
anticoagulation action with its hold and restart hours.
"""

from __future__ import annotations

from typing import Any

import pytest

from painguide.advisor import PatientFactors, Recommendation, recommend
from painguide.catalogue.loader import KnowledgeBase, load_knowledge

F = PatientFactors
CASES: list[tuple[str, str, PatientFactors, dict[str, Any]]] = [
    # §1 preferred modalities without patient factors
    ("mbb-fluoro-first", "lumbar-facet-mbb", F(), {"top": "fluoroscopy"}),
    ("facet-ia-ct-first", "lumbar-facet-ia", F(), {"top": "ct"}),
    ("lumbar-rfa-fluoro-first", "lumbar-facet-rfa", F(), {"top": "fluoroscopy"}),
    ("mbb-us-only-selected", "lumbar-facet-mbb", F(), {"above": ("fluoroscopy", "ultrasound")}),
    ("tfesi-fluoro-over-us", "lumbar-tfesi", F(), {"above": ("fluoroscopy", "ultrasound")}),
    ("knee-us-used", "knee-ia", F(), {"used": ("ultrasound", True), "radiation": ("ultrasound", 0)}),
    ("scs-no-us", "scs-trial", F(), {"used": ("ultrasound", False), "top": "fluoroscopy"}),
    ("knee-no-ct", "knee-ia", F(), {"used": ("ct", False)}),
    ("ct-more-radiation", "lumbar-prt", F(), {"rrl_above": ("ct", "fluoroscopy")}),
    ("ilesi-contrast", "lumbar-ilesi", F(), {"contrast": ("fluoroscopy", "standard")}),
    # §2 bleeding-risk categories (N18)
    ("risk-mbb-low", "lumbar-facet-mbb", F(), {"risk": "low"}),
    ("risk-cervical-mbb", "cervical-facet-mbb", F(), {"risk": "intermediate"}),
    ("risk-ilesi", "cervical-ilesi", F(), {"risk": "intermediate"}),
    ("risk-scs", "scs-trial", F(), {"risk": "high"}),
    ("risk-pump", "intrathecal-pump", F(), {"risk": "high"}),
    ("risk-sij", "sij-ia", F(), {"risk": "low"}),
    ("risk-stellate", "stellate-ganglion", F(), {"risk": "intermediate"}),
    (
        "escalate-low",
        "knee-ia",
        F(high_bleeding_risk=True),
        {"risk": "intermediate", "patient_warning": "high_bleeding_risk"},
    ),
    ("escalate-intermediate", "lumbar-tfesi", F(high_bleeding_risk=True), {"risk": "high"}),
    ("escalate-high-stays", "vertebroplasty", F(high_bleeding_risk=True), {"risk": "high"}),
    # §2 drug table
    (
        "warfarin-intermediate",
        "lumbar-tfesi",
        F(drugs=("warfarin",)),
        {"plan": ("warfarin", "hold", 120, 120, 6, 6, True)},
    ),
    ("warfarin-low", "knee-ia", F(drugs=("warfarin",)), {"plan_action": ("warfarin", "shared_decision")}),
    (
        "apixaban-high",
        "scs-trial",
        F(drugs=("apixaban",)),
        {"plan": ("apixaban", "hold", 72, 72, 24, 24, False)},
    ),
    (
        "apixaban-low",
        "trigger-point",
        F(drugs=("apixaban",)),
        {"plan_action": ("apixaban", "shared_decision")},
    ),
    (
        "clopidogrel-intermediate",
        "cervical-ilesi",
        F(drugs=("clopidogrel",)),
        {"plan": ("clopidogrel", "hold", 168, 168, 12, 24, False)},
    ),
    (
        "prasugrel-range",
        "lumbar-ilesi",
        F(drugs=("prasugrel",)),
        {"plan": ("prasugrel", "hold", 168, 240, 24, 24, False)},
    ),
    (
        "ticagrelor-high",
        "intrathecal-pump",
        F(drugs=("ticagrelor",)),
        {"plan": ("ticagrelor", "hold", 120, 120, 24, 24, False)},
    ),
    (
        "naproxen-high",
        "scs-trial",
        F(drugs=("naproxen",)),
        {"plan": ("naproxen", "hold", 96, 96, 24, 24, False)},
    ),
    (
        "naproxen-intermediate",
        "lumbar-tfesi",
        F(drugs=("naproxen",)),
        {"plan_action": ("naproxen", "continue")},
    ),
    (
        "aspirin-primary-high",
        "scs-trial",
        F(drugs=("aspirin",), aspirin_indication="primary"),
        {"plan": ("aspirin", "hold", 144, 144, 24, 24, False)},
    ),
    (
        "aspirin-secondary-high",
        "scs-trial",
        F(drugs=("aspirin",), aspirin_indication="secondary"),
        {"plan_action": ("aspirin", "shared_decision")},
    ),
    (
        "aspirin-low",
        "knee-ia",
        F(drugs=("aspirin",), aspirin_indication="secondary"),
        {"plan_action": ("aspirin", "continue")},
    ),
    (
        "dabigatran-renal",
        "scs-trial",
        F(drugs=("dabigatran",), renal_impairment=True),
        {"plan": ("dabigatran", "hold", 144, 144, 24, 24, False)},
    ),
    (
        "dabigatran-normal",
        "scs-trial",
        F(drugs=("dabigatran",)),
        {"plan": ("dabigatran", "hold", 96, 120, 24, 24, False)},
    ),
    ("thrombotic-warning", "lumbar-tfesi", F(drugs=("clopidogrel",)), {"patient_warning": "thrombotic_risk"}),
    (
        "anticoagulant-warning",
        "lumbar-tfesi",
        F(drugs=("rivaroxaban",)),
        {"patient_warning": "anticoagulant"},
    ),
    (
        "no-warning-when-continued",
        "knee-ia",
        F(drugs=("naproxen",)),
        {"no_patient_warning": "thrombotic_risk"},
    ),
    # §3 patient factors
    (
        "pregnancy-us-first",
        "cervical-facet-mbb",
        F(pregnant=True),
        {"top": "ultrasound", "warning": ("fluoroscopy", "pregnancy")},
    ),
    ("pregnancy-sij-us-over-fluoro", "sij-ia", F(pregnant=True), {"above": ("ultrasound", "fluoroscopy")}),
    (
        "pregnancy-lowers-fluoro",
        "lumbar-tfesi",
        F(pregnant=True),
        {"delta": ("fluoroscopy", "pregnancy", -3)},
    ),
    ("pregnancy-patient-warning", "lumbar-tfesi", F(pregnant=True), {"patient_warning": "pregnancy"}),
    (
        "breastfeeding-fluoro",
        "lumbar-tfesi",
        F(breastfeeding=True),
        {"warning": ("fluoroscopy", "breastfeeding")},
    ),
    (
        "breastfeeding-not-us",
        "knee-ia",
        F(breastfeeding=True),
        {"no_warning": ("ultrasound", "breastfeeding")},
    ),
    ("justification-on-fluoro", "cervical-facet-mbb", F(), {"reason": ("fluoroscopy", "justification")}),
    ("evidence-vascular-breach", "cervical-facet-mbb", F(), {"evidence": ("fluoroscopy", "Finlayson2013")}),
    ("evidence-obese-us", "lumbar-facet-mbb", F(), {"evidence": ("ultrasound", "Rauch2009")}),
    ("no-justification-us", "cervical-facet-mbb", F(), {"no_reason": ("ultrasound", "justification")}),
    (
        "contrast-allergy-fluoro",
        "lumbar-tfesi",
        F(contrast_allergy=True),
        {"warning": ("fluoroscopy", "contrast_allergy")},
    ),
    (
        "contrast-allergy-not-us",
        "caudal-esi",
        F(contrast_allergy=True),
        {"no_warning": ("ultrasound", "contrast_allergy")},
    ),
    ("egfr-25", "lumbar-tfesi", F(egfr=25), {"delta": ("fluoroscopy", "renal_function", -2)}),
    ("egfr-40", "lumbar-tfesi", F(egfr=40), {"delta": ("fluoroscopy", "renal_function", -1)}),
    ("egfr-45-no-rule", "lumbar-tfesi", F(egfr=45), {"no_warning": ("fluoroscopy", "renal_function")}),
    ("egfr-us-unaffected", "caudal-esi", F(egfr=20), {"no_warning": ("ultrasound", "renal_function")}),
    ("obesity-us-down", "lumbar-facet-mbb", F(bmi=35), {"delta": ("ultrasound", "obesity", -2)}),
    ("bmi-30-not-obese-rule", "lumbar-facet-mbb", F(bmi=30), {"no_warning": ("ultrasound", "obesity")}),
    ("prior-fusion-facet", "lumbar-facet-rfa", F(prior_fusion=True), {"patient_warning": "prior_fusion"}),
    ("prior-fusion-not-knee", "knee-ia", F(prior_fusion=True), {"no_patient_warning": "prior_fusion"}),
    (
        "hardware-open",
        "lumbar-tfesi",
        F(spinal_hardware=True),
        {"patient_warning_status": ("spinal_hardware", "open")},
    ),
    ("child-open", "knee-ia", F(age=12), {"patient_warning_status": ("paediatric", "open")}),
]


@pytest.fixture(scope="module")
def kb() -> KnowledgeBase:
    return load_knowledge()


def _mod(rec: Recommendation, name: str) -> Any:
    return next(m for m in rec.modalities if m.modality == name)


def _plan(rec: Recommendation, drug: str) -> Any:
    # aspirin is planned per indication (aspirin-primary / aspirin-secondary)
    return next(p for p in rec.anticoagulation if p.drug == drug or p.drug.startswith(f"{drug}-"))


def _check(rec: Recommendation, key: str, want: Any) -> None:
    order = [m.modality for m in rec.modalities]
    codes = {w.code: w for w in rec.warnings}
    if key == "top":
        assert order[0] == want, order
    elif key == "above":
        assert order.index(want[0]) < order.index(want[1]), order
    elif key == "used":
        assert _mod(rec, want[0]).used is want[1]
    elif key == "radiation":
        assert _mod(rec, want[0]).radiation_level == want[1]
    elif key == "rrl_above":
        assert _mod(rec, want[0]).radiation_level > _mod(rec, want[1]).radiation_level
    elif key == "contrast":
        assert _mod(rec, want[0]).contrast == want[1]
    elif key == "risk":
        assert rec.bleeding_risk == want
    elif key in ("warning", "no_warning"):
        present = want[1] in {w.code for w in _mod(rec, want[0]).warnings}
        assert present is (key == "warning")
    elif key in ("reason", "no_reason"):
        present = want[1] in {r.code for r in _mod(rec, want[0]).reasons}
        assert present is (key == "reason")
    elif key == "evidence":
        assert want[1] in {e.source for e in _mod(rec, want[0]).evidence}
        assert all(e.delta == 0 for e in _mod(rec, want[0]).evidence)
    elif key == "delta":
        (reason,) = [r for r in _mod(rec, want[0]).reasons if r.code == want[1]]
        assert reason.delta == want[2]
    elif key in ("patient_warning", "no_patient_warning"):
        assert (want in codes) is (key == "patient_warning"), sorted(codes)
    elif key == "patient_warning_status":
        assert codes[want[0]].status == want[1]
    elif key == "plan_action":
        assert _plan(rec, want[0]).action == want[1]
    elif key == "plan":
        p = _plan(rec, want[0])
        got = (
            want[0],
            p.action,
            p.hold_before_hours_min,
            p.hold_before_hours_max,
            p.restart_after_hours_min,
            p.restart_after_hours_max,
            p.normal_inr_required,
        )
        assert got == want
    else:
        raise AssertionError(f"unknown check {key}")


@pytest.mark.parametrize(
    ("procedure", "factors", "expect"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_case(kb: KnowledgeBase, procedure: str, factors: PatientFactors, expect: dict[str, Any]) -> None:
    rec = recommend(kb, procedure, factors)
    for key, want in expect.items():
        _check(rec, key, want)


def test_table_has_at_least_forty_cases() -> None:
    assert len(CASES) >= 40
    assert len({c[0] for c in CASES}) == len(CASES)
