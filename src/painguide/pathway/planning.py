"""Turn the advisor's ranking and the anticoagulation planner's result into case records (pure).

The plan keeps the ranking exactly as the advisor returned it (its JSON form, as shown on the page and by
``painguide advise --json``). Anticoagulation times are computed from the scheduled procedure time: the last
dose before it is the procedure time minus the longest hold interval, the restart the procedure time plus the
shortest restart interval (both ``None`` where the table gives none).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta

from painguide.advisor.models import Recommendation
from painguide.errors import ValidationError
from painguide.i18n.marks import N_
from painguide.pathway.anticoagulation import AnticoagulationResult
from painguide.pathway.models import Anticoagulation, DrugDecision, DrugSchedule, Plan, build

__all__ = ["make_plan", "schedule_anticoagulation"]


def make_plan(recommendation: Recommendation, modality: str, *, reason: str | None, on: date) -> Plan:
    """The plan for ``modality`` with the ranking as shown.

    Raises
    ------
    ValidationError
        ``modality`` is not used for this procedure, or it is not the top-ranked one and ``reason`` is empty.
    """
    used = [m.modality for m in recommendation.modalities if m.used]
    if modality not in used:
        raise ValidationError(
            "modality",
            N_("%(modality)s is not used for %(procedure)s; choose one of %(used)s"),
            modality=repr(modality),
            procedure=recommendation.procedure,
            used=", ".join(used),
        )
    top = next(m.modality for m in recommendation.modalities if m.used)
    return build(
        Plan,
        procedure=recommendation.procedure,
        ranking=recommendation.to_dict(),
        top_modality=top,
        modality=modality,
        reason=reason or None,
        on=on,
    )


def _hours(value: float | None) -> timedelta | None:
    return None if value is None else timedelta(hours=value)


def schedule_anticoagulation(
    result: AnticoagulationResult,
    procedure_at: datetime,
    *,
    names: Sequence[str],
    decisions: Mapping[str, DrugDecision] | None = None,
    decided_by: str | None = None,
    on: date,
) -> Anticoagulation:
    """Date every drug's plan from the procedure time and apply the physician's shared decisions.

    Parameters
    ----------
    result : AnticoagulationResult
        The planner's result for the patient's drugs (in the patient's order).
    names : sequence of str
        The patient's drug names as recorded, one per plan (the plans are keyed by them).
    procedure_at : datetime
        The scheduled time (timezone-aware).
    decisions : mapping of drug to {'continue', 'hold'}, optional
        Resolutions of shared decisions, keyed by the patient's drug names as planned.
    decided_by : str, optional
        Who decided (recorded with each decision).
    on : date
        The day of planning.

    Raises
    ------
    ValidationError
        A decision names a drug that is not a shared decision in the plan.
    """
    decisions = dict(decisions or {})
    drugs: list[DrugSchedule] = []
    named = list(zip(names, result.plans, strict=True))
    shared = {name for name, p in named if p.action == "shared_decision"}
    unknown = sorted(set(decisions) - shared)
    if unknown:
        raise ValidationError(
            "decisions",
            N_("%(unknown)s is not a shared decision here (shared: %(shared)s)"),
            unknown=", ".join(unknown),
            shared=", ".join(shared) or "none",
        )
    for name, plan in named:
        decision = decisions.get(name)
        held = plan.action == "hold" or decision == "hold"
        hold = _hours(
            plan.hold_before_hours_max
            if plan.hold_before_hours_max is not None
            else plan.hold_before_hours_min
        )
        restart = _hours(plan.restart_after_hours_min)
        drugs.append(
            DrugSchedule(
                drug=name,
                action=plan.action,
                text=plan.text,
                source=plan.source,
                status=plan.status,
                normal_inr_required=plan.normal_inr_required,
                hold_before_hours=(plan.hold_before_hours_min, plan.hold_before_hours_max),
                restart_after_hours=(plan.restart_after_hours_min, plan.restart_after_hours_max),
                last_dose_before=procedure_at - hold if held and hold is not None else None,
                restart_from=procedure_at + restart if held and restart is not None else None,
                decision=decision,
                decided_by=decided_by if decision else None,
            )
        )
    return Anticoagulation(
        procedure_at=procedure_at,
        bleeding_risk=result.effective_bleeding_risk.value or "high",
        drugs=tuple(drugs),
        warnings=tuple(w.to_dict() for w in result.all_warnings),
        on=on,
    )
