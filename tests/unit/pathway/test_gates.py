"""Every gate code, every step's refusal listing all reasons, overrides, and the transitions of a case."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any, TypeVar

import pytest
from pydantic import BaseModel
from tests.unit.pathway.builders import AT, TODAY, case_up_to, context, justification, patient, prior

from painguide.errors import GateError
from painguide.pathway.case import STEPS, next_step, stage_of
from painguide.pathway.gates import GATE_CODES, assess, check, require
from painguide.pathway.models import (
    Checklist,
    ConsentRevocation,
    FollowUp,
    FollowUpResult,
    Indication,
    LabResult,
    Override,
    ProcedureRecord,
)

T = TypeVar("T")


def replace(obj: T, **changes: Any) -> T:
    """A changed copy of a case (dataclass) or a record (pydantic model)."""
    if isinstance(obj, BaseModel):
        return obj.model_copy(update=changes)  # type: ignore[return-value]
    return dataclasses.replace(obj, **changes)


def codes(step: str, case: object, ctx: object = None, candidate: object = None) -> list[str]:
    unmet, _ = check(case, step, ctx or context(), candidate)  # type: ignore[arg-type]
    return [u.code for u in unmet]


def procedure_record(**changes: object) -> ProcedureRecord:
    data: dict[str, object] = {
        "performed_at": AT,
        "operator": "dr.b",
        "modality": "fluoroscopy",
        "levels": ("L4-L5",),
        "side": "right",
    }
    data.update(changes)
    return ProcedureRecord.model_validate(data)


def override(code: str) -> Override:
    return Override(code=code, reason="discussed with the patient, documented", by="dr.a", at=AT)


def test_gate_codes_are_the_published_contract() -> None:
    assert GATE_CODES == (
        "diagnostics_missing",
        "indication_missing",
        "conservative_therapy_missing",
        "anticoagulation_unresolved",
        "justification_missing",
        "justification_not_qualified",
        "pregnancy_status_unknown",
        "consent_missing",
        "consent_revoked",
        "checklist_incomplete",
        "diagnostic_blocks_insufficient",
        "repetition_limit",
        "contraindication",
        "operator_not_competent",
    )


# ------------------------------------------------------------------------------------------- transitions


def test_a_complete_case_passes_every_gate_up_to_the_procedure() -> None:
    case = case_up_to("procedure")
    for step in STEPS:
        assert codes(step, case) == [], step


@pytest.mark.parametrize(
    ("step", "stage"),
    [
        ("diagnostics", "workup"),
        ("conservative_therapies", "workup"),
        ("indication", "workup"),
        ("plan", "planning"),
        ("schedule", "planning"),
        ("justification", "preparation"),
        ("consent", "preparation"),
        ("checklist", "preparation"),
        ("procedure", "ready"),
    ],
)
def test_next_step_and_stage_follow_the_records(step: str, stage: str) -> None:
    case = case_up_to(step)
    assert next_step(case) == step
    assert stage_of(next_step(case)) == stage
    assert assess(case, context()).stage == stage


def test_anticoagulation_is_a_step_only_for_patients_on_antithrombotics() -> None:
    on_drug = patient(drugs=("apixaban",))
    case = case_up_to("anticoagulation", pat=on_drug)
    assert next_step(case) == "anticoagulation"
    assert next_step(case_up_to("anticoagulation")) == "justification"


def test_ultrasound_and_landmark_need_no_justification() -> None:
    case = case_up_to("justification", procedure="cervical-facet-mbb", modality="ultrasound")
    assert next_step(case) == "consent"
    knee = case_up_to("justification", procedure="knee-ia", modality="landmark", levels=())
    assert next_step(knee) == "consent"
    assert codes("consent", knee) == []


def test_follow_ups_then_closed() -> None:
    case = replace(case_up_to("procedure"), procedure=procedure_record())
    assert next_step(case) == "follow_ups"
    due = FollowUp(due_on=date(2026, 3, 30), days_after=14)
    case = replace(case, follow_ups=(due,))
    assert next_step(case) == "follow_ups"
    done = replace(due, result=FollowUpResult(on=date(2026, 3, 30), nrs=2, pgic="much_improved"))
    case = replace(case, follow_ups=(done,))
    assert next_step(case) is None
    assert assess(case, context()).stage == "closed"


def test_a_new_indication_for_another_procedure_makes_the_plan_stale() -> None:
    case = case_up_to("procedure")
    other = replace(case.indication, procedure="lumbar-facet-ia")
    assert next_step(replace(case, indication=other)) == "plan"


# ----------------------------------------------------------------------------------------- each gate code


def test_diagnostics_missing_lists_exam_imaging_and_baseline_scores() -> None:
    case = case_up_to("diagnostics")
    case = replace(case, info=replace(case.info, nrs=None, disability_score=None, disability_scale=None))
    case = replace(case, therapies=case_up_to("indication").therapies)
    indication = case_up_to("plan").indication
    unmet, _ = check(case, "indication", context(), indication)
    messages = [u.message for u in unmet if u.code == "diagnostics_missing"]
    assert len(messages) == 4
    assert any("clinical examination" in m for m in messages)
    assert any("No imaging" in m for m in messages)
    assert any("NRS" in m for m in messages) and any("ODI or NDI" in m for m in messages)


def test_esi_needs_concordant_imaging_under_the_lcd() -> None:
    case = case_up_to("indication", procedure="lumbar-tfesi")
    mri = case.imaging[0]
    case = replace(case, diagnostics=(case.exams[0], replace(mri, concordant=False)))
    indication = Indication(
        procedure="lumbar-tfesi",
        levels=("L5",),
        side="right",
        rationale="radicular",
        physician="dr.a",
        on=TODAY,
    )
    assert codes("indication", case, candidate=indication) == ["diagnostics_missing"]
    assert codes("indication", case, context("practice-c20"), indication) == []


def test_indication_missing_before_plan_and_schedule() -> None:
    case = case_up_to("indication")
    assert codes("plan", case) == ["indication_missing"]
    planned = case_up_to("schedule")
    assert codes("anticoagulation", planned) == ["indication_missing"]
    assert "not scheduled" in check(planned, "anticoagulation", context())[0][0].message


def test_pain_duration_and_levels_under_the_lcd() -> None:
    case = case_up_to("indication")
    case = replace(case, info=replace(case.info, pain_duration_weeks=2, opened_on=TODAY))
    three = Indication(
        procedure="lumbar-facet-mbb",
        levels=("L3-L4", "L4/5", "L5-S1"),
        side="right",
        rationale="facet pain",
        physician="dr.a",
        on=TODAY,
    )
    unmet, _ = check(case, "indication", context(), three)
    assert [u.code for u in unmet] == ["indication_missing", "indication_missing"]
    assert "3 months" in unmet[0].message and "2 weeks" in unmet[0].message
    assert "L4-L5" in unmet[1].message
    assert unmet[0].source == "L38773, verified"


def test_conservative_therapy_missing_and_too_short() -> None:
    case = case_up_to("conservative_therapies")
    indication = case_up_to("plan").indication
    assert codes("indication", case, candidate=indication) == ["conservative_therapy_missing"]
    short = replace(
        case_up_to("indication"),
        therapies=(replace(case_up_to("indication").therapies[0], duration_weeks=6),),
    )
    # The LCD names no duration (open): any failed therapy suffices; the C20 practice set wants 3 months.
    assert codes("indication", short, candidate=indication) == []
    unmet, _ = check(short, "indication", context("practice-c20"), indication)
    assert [u.code for u in unmet] == ["conservative_therapy_missing"]
    assert "6 weeks; 13 needed" in unmet[0].message
    improved = replace(short, therapies=(replace(short.therapies[0], outcome="improved"),))
    assert codes("indication", improved, candidate=indication) == ["conservative_therapy_missing"]


def test_contraindication_prior_fusion_at_the_level() -> None:
    case = case_up_to("plan", pat=patient(fused_levels=("L4/5",)))
    assert codes("indication", case, candidate=case.indication) == ["contraindication"]
    other_level = case_up_to("plan", pat=patient(fused_levels=("L2-L3",)))
    assert codes("indication", other_level, candidate=other_level.indication) == []


RFA = Indication(
    procedure="lumbar-facet-rfa", levels=("L4-L5",), side="right", rationale="r", physician="d", on=TODAY
)


def test_rfa_needs_two_blocks_of_80_percent_two_weeks_apart_under_the_lcd() -> None:
    none = case_up_to("indication", procedure="lumbar-facet-rfa")
    assert codes("indication", none, candidate=RFA) == ["diagnostic_blocks_insufficient"]
    one = replace(none, history=(prior("lumbar-facet-mbb", date(2026, 1, 10), 90),))
    assert codes("indication", one, candidate=RFA) == ["diagnostic_blocks_insufficient"]
    weak = (prior("lumbar-facet-mbb", date(2026, 1, 10), 90), prior("lumbar-facet-mbb", date(2026, 2, 1), 70))
    unmet, _ = check(replace(none, history=weak), "indication", context(), RFA)
    assert "Qualifying blocks: 1 of 2" in unmet[0].message and "70 %" in unmet[0].message
    close = (
        prior("lumbar-facet-mbb", date(2026, 1, 10), 90),
        prior("lumbar-facet-mbb", date(2026, 1, 17), 85),
    )
    unmet, _ = check(replace(none, history=close), "indication", context(), RFA)
    assert [u.code for u in unmet] == ["diagnostic_blocks_insufficient"] and "7 days apart" in unmet[
        0
    ].message
    good = (
        prior("lumbar-facet-mbb", date(2026, 1, 10), 90),
        prior("lumbar-facet-mbb", date(2026, 1, 24), 85),
    )
    assert codes("indication", replace(none, history=good), candidate=RFA) == []
    elsewhere = tuple(replace(p, region="cervical") for p in good)
    assert codes("indication", replace(none, history=elsewhere), candidate=RFA) == [
        "diagnostic_blocks_insufficient"
    ]


def test_practice_set_accepts_one_block_of_50_percent() -> None:
    case = case_up_to("indication", procedure="lumbar-facet-rfa")
    one = replace(case, history=(prior("lumbar-facet-mbb", date(2026, 1, 10), 60),))
    assert codes("indication", one, context("practice-c20"), RFA) == []
    assert codes("indication", one, context("cms-lcd"), RFA) == ["diagnostic_blocks_insufficient"]


def test_relief_is_computed_from_nrs_against_baseline() -> None:
    result = FollowUpResult(on=TODAY, nrs=1)
    assert result.relief(8) == 87.5
    assert FollowUpResult(on=TODAY, nrs=9).relief(8) == 0.0
    assert FollowUpResult(on=TODAY, pgic="no_change").relief(8) is None
    assert FollowUpResult(on=TODAY, nrs=5, relief_percent=90).relief(8) == 90


def test_repetition_limit_counts_sessions_in_the_rolling_window() -> None:
    case = case_up_to("plan")
    four = tuple(prior("lumbar-facet-mbb", date(2025, m, 1), 90) for m in (5, 7, 9, 11))
    unmet, _ = check(replace(case, history=four), "indication", context(), case.indication)
    assert [u.code for u in unmet] == ["repetition_limit"]
    assert "session 5" in unmet[0].message
    older = (prior("lumbar-facet-mbb", date(2025, 2, 1), 90), *four[1:])
    assert codes("indication", replace(case, history=older), candidate=case.indication) == []
    # The practice set leaves the number open: shown, not enforced.
    assert codes("indication", replace(case, history=four), context("practice-c20"), case.indication) == []


def test_repeat_rfa_needs_lasting_relief_after_the_last_one() -> None:
    blocks = (
        prior("lumbar-facet-mbb", date(2025, 1, 10), 90),
        prior("lumbar-facet-mbb", date(2025, 1, 30), 90),
    )
    case = case_up_to("indication", procedure="lumbar-facet-rfa")
    short = (*blocks, prior("lumbar-facet-rfa", date(2025, 3, 1), 80, days=90))
    unmet, _ = check(replace(case, history=short), "indication", context(), RFA)
    assert [u.code for u in unmet] == ["repetition_limit"]
    assert "182 days or later" in unmet[0].message
    lasting = (*blocks, prior("lumbar-facet-rfa", date(2025, 3, 1), 60, days=200))
    assert codes("indication", replace(case, history=lasting), candidate=RFA) == []


def test_anticoagulation_unresolved() -> None:
    on_drug = patient(drugs=("warfarin", "aspirin"), aspirin_indication="secondary")
    missing = case_up_to("anticoagulation", procedure="lumbar-tfesi", pat=on_drug, levels=("L5",))
    assert codes("checklist", missing).count("anticoagulation_unresolved") == 1
    planned = case_up_to("checklist", procedure="lumbar-tfesi", pat=on_drug, levels=("L5",))
    assert "anticoagulation_unresolved" not in codes("checklist", planned)
    moved = replace(planned, schedule=replace(planned.schedule, at=datetime(2026, 3, 20, 9, tzinfo=UTC)))
    unmet, _ = check(moved, "checklist", context())
    assert any("plan again" in u.message for u in unmet if u.code == "anticoagulation_unresolved")
    assert next_step(moved) == "anticoagulation"
    record = planned.anticoagulation
    assert record is not None
    undecided = tuple(replace(d, decision=None) if d.action == "shared_decision" else d for d in record.drugs)
    case = replace(planned, anticoagulation=replace(record, drugs=undecided))
    unmet, _ = check(case, "checklist", context())
    assert any("Shared decision on aspirin" in u.message for u in unmet)


def test_warfarin_hold_dates_and_inr_requirement() -> None:
    on_drug = patient(drugs=("warfarin",))
    case = case_up_to("procedure", procedure="lumbar-tfesi", pat=on_drug, levels=("L5",))
    record = case.anticoagulation
    assert record is not None
    (warfarin,) = record.drugs
    assert warfarin.action == "hold" and warfarin.normal_inr_required
    assert warfarin.last_dose_before == datetime(2026, 3, 11, 9, tzinfo=UTC)  # 5 days (N18)
    assert warfarin.restart_from == datetime(2026, 3, 16, 15, tzinfo=UTC)  # 6 h
    unmet, _ = check(case, "procedure", context())
    assert [u.code for u in unmet] == ["diagnostics_missing"]
    assert "INR" in unmet[0].message and "2026-03-11" in unmet[0].message
    inr = LabResult(on=date(2026, 3, 15), test="inr", value=1.0)
    assert codes("procedure", replace(case, diagnostics=(*case.diagnostics, inr))) == []
    stale = LabResult(on=date(2026, 3, 1), test="inr", value=1.0)
    assert codes("procedure", replace(case, diagnostics=(*case.diagnostics, stale))) == [
        "diagnostics_missing"
    ]


def test_egfr_before_standard_contrast() -> None:
    case = case_up_to(
        "procedure", procedure="lumbar-tfesi", pat=patient(egfr=None, egfr_on=None), levels=("L5",)
    )
    assert case.plan is not None and case.plan.contrast == "standard"
    unmet, _ = check(case, "procedure", context())
    assert [u.code for u in unmet] == ["diagnostics_missing"] and "eGFR" in unmet[0].message
    lab = LabResult(on=date(2026, 3, 1), test="egfr", value=75)
    assert codes("procedure", replace(case, diagnostics=(*case.diagnostics, lab))) == []


def test_justification_missing_not_qualified_and_for_another_modality() -> None:
    case = case_up_to("justification")
    assert codes("consent", case) == ["justification_missing"]
    expired = justification(valid_until=date(2026, 1, 1))
    assert codes("justification", case, candidate=expired) == ["justification_not_qualified"]
    unqualified = replace(justification(), qualification=None)
    assert codes("justification", case, candidate=unqualified) == ["justification_not_qualified"]
    # The EU frame leaves the qualification to national law.
    assert codes("justification", case, context(frame="eu-euratom"), unqualified) == []
    ct = justification("ct")
    assert codes("consent", replace(case, justification=ct)) == ["justification_missing"]


def test_pregnancy_status_unknown_for_persons_who_can_be_pregnant() -> None:
    unasked = patient(pregnancy="unknown", pregnancy_asked_on=None, breastfeeding=None)
    case = case_up_to("justification", pat=unasked)
    unmet, _ = check(case, "justification", context(), justification())
    assert [u.code for u in unmet] == ["pregnancy_status_unknown", "pregnancy_status_unknown"]
    assert "Breastfeeding" in unmet[1].message
    man = case_up_to("justification", pat=patient(sex="male", pregnancy="unknown", pregnancy_asked_on=None))
    assert codes("justification", man, candidate=justification()) == []
    later = patient(pregnancy_asked_on=date(2026, 3, 20))  # asked after the procedure day
    assert "pregnancy_status_unknown" in codes(
        "justification", case_up_to("justification", pat=later), candidate=justification()
    )
    us = case_up_to(
        "justification", procedure="cervical-facet-mbb", modality="ultrasound", pat=unasked, levels=("C3",)
    )
    assert codes("consent", us) == []


def test_consent_missing_revoked_and_for_another_modality() -> None:
    case = case_up_to("consent")
    assert codes("checklist", case) == ["consent_missing"]
    consented = case_up_to("checklist")
    revoked = replace(consented, revocation=ConsentRevocation(on=TODAY, reason="changed mind"))
    assert codes("checklist", revoked) == ["consent_revoked"]
    assert next_step(revoked) == "consent"
    ct_plan = replace(consented.plan, modality="ct", reason="CT preferred")
    changed = replace(consented, plan=ct_plan, justification=justification("ct"))
    unmet, _ = check(changed, "checklist", context())
    assert [u.code for u in unmet] == ["consent_missing"] and "plan is now ct" in unmet[0].message


def test_checklist_incomplete_names_every_missing_item() -> None:
    case = case_up_to("checklist")
    unmet, _ = check(case, "procedure", context())
    assert [u.code for u in unmet] == ["checklist_incomplete"]
    assert "Staff radiation protection" in unmet[0].message and "Sterile probe cover" not in unmet[0].message
    us = case_up_to("checklist", procedure="cervical-facet-mbb", modality="ultrasound", levels=("C3",))
    assert "Sterile probe cover" in check(us, "procedure", context())[0][0].message
    partial = replace(
        case_up_to("procedure"), checklist=Checklist(items={"identity": True}, by="n", on=TODAY)
    )
    assert codes("procedure", partial) == ["checklist_incomplete"]


def test_required_checklist_items_by_modality_and_contrast() -> None:
    assert "sterile_probe_cover" in Checklist.required_items("ultrasound", "none")
    assert "staff_radiation_protection" in Checklist.required_items("ct", "none")
    assert "contrast_ready" in Checklist.required_items("fluoroscopy", "standard")
    assert "contrast_ready" not in Checklist.required_items("landmark", "none")


def test_operator_competence_only_when_required_and_known() -> None:
    case = case_up_to("procedure")
    record = procedure_record()
    assert codes("procedure", case, context(), record) == []
    required = context(competence=frozenset({("lumbar-facet-mbb", "ultrasound")}))
    assert codes("procedure", case, required, record) == ["operator_not_competent"]
    assert codes("procedure", case, required, procedure_record(supervisor="dr.a")) == []
    declared = context(competence=frozenset({("lumbar-facet-mbb", "fluoroscopy")}))
    assert codes("procedure", case, declared, record) == []


# ------------------------------------------------------------------------------------- refusal, overrides


def test_require_raises_with_every_unmet_reason() -> None:
    case = case_up_to("justification", pat=patient(pregnancy="unknown", pregnancy_asked_on=None))
    with pytest.raises(
        GateError, match=r"procedure refused: .*justification_missing.*pregnancy_status_unknown"
    ) as refused:
        require(case, "procedure", context())
    got = [u["code"] for u in refused.value.unmet]
    assert got == [
        "justification_missing",
        "pregnancy_status_unknown",
        "consent_missing",
        "checklist_incomplete",
    ]
    assert refused.value.exit_code == 4 and refused.value.http_status == 409
    assert all(set(u) == {"code", "message", "source", "text", "params"} for u in refused.value.unmet)
    for u in refused.value.unmet:  # the English message is the template filled with its values
        params = {k: "; ".join(v) if isinstance(v, list) else v for k, v in u["params"].items()}
        assert u["message"] == u["text"] % params


def test_override_lifts_a_code_and_stays_visible() -> None:
    case = case_up_to("plan", pat=patient(fused_levels=("L4-L5",)))
    with pytest.raises(GateError):
        require(case, "indication", context(), case.indication)
    lifted = replace(case, overrides=(override("contraindication"),))
    overridden = require(lifted, "indication", context(), case.indication)
    assert [u.code for u in overridden] == ["contraindication"]


def test_codes_the_policy_protects_cannot_be_lifted() -> None:
    consented = case_up_to("checklist")
    revoked = replace(
        consented, revocation=ConsentRevocation(on=TODAY), overrides=(override("consent_revoked"),)
    )
    assert codes("checklist", revoked) == ["consent_revoked"]
    unjustified = replace(case_up_to("justification"), overrides=(override("justification_missing"),))
    assert codes("consent", unjustified) == ["justification_missing"]
    assert not context().policy.overridable("justification_not_qualified")
    assert context().policy.overridable("repetition_limit")


def test_assessment_lists_unmet_of_the_next_step_only() -> None:
    case = case_up_to("procedure")
    case = replace(case, revocation=ConsentRevocation(on=TODAY))
    found = assess(case, context())
    assert found.next_step == "consent" and found.unmet == ()
    stuck = case_up_to("checklist")
    stuck = replace(stuck, checklist=Checklist(items={"identity": True}, by="n", on=TODAY))
    assert assess(stuck, context()).to_dict()["next_step"] == "checklist"
