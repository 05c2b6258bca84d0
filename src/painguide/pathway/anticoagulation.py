"""Periprocedural anticoagulation planner (N18): continue, hold or decide jointly, per drug.

For each drug the patient takes, the planner reads the table rule for the procedure's bleeding-risk
category (raised one step for a patient at high bleeding risk) and returns what to do, how many hours to
hold the drug before and restart it after, whether a normal INR is required, the source and status, and
the warnings that belong to the plan. Pure domain code: no I/O per call; a plan is a few dictionary
look-ups and is memoised per table.

Aspirin depends on its indication. Without one, the planner returns a shared decision that carries the
primary-prophylaxis hold interval, plus the warning ``aspirin_indication_missing``: it never proposes to
stop secondary prophylaxis on its own, and never hides the interval a primary-prophylaxis patient needs.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal, get_args

from painguide.catalogue.drugs import (
    BLEEDING_RISKS,
    Drug,
    DrugAction,
    DrugRule,
    DrugTable,
    Escalation,
    RenalAdjustment,
    find_drug,
    load_drug_table,
)
from painguide.catalogue.models import BleedingRisk, Fact, Override
from painguide.errors import ValidationError
from painguide.i18n.marks import N_

__all__ = [
    "WARNING_CODES",
    "AnticoagulationPlan",
    "AnticoagulationResult",
    "AspirinIndication",
    "PlanWarning",
    "WarningCode",
    "escalate_bleeding_risk",
    "plan_anticoagulation",
    "plan_drug",
]

AspirinIndication = Literal["primary", "secondary"]
WarningCode = Literal[
    "thrombotic_risk",
    "anticoagulant",
    "renal_impairment",
    "aspirin_indication_missing",
    "multiple_agents",
    "inr_required",
]
WARNING_CODES: tuple[str, ...] = get_args(WarningCode)

# Weakest status wins when a plan combines facts.
_STATUS_RANK = {"verified": 0, "convention": 1, "site": 2, "secondary": 3, "open": 4}
_ACTION_RANK: dict[str, int] = {"continue": 0, "shared_decision": 1, "hold": 2}
_INDICATIONS: tuple[str, ...] = get_args(AspirinIndication)
_PLAN_VALUES = (
    "action",
    "hold_before_hours_min",
    "hold_before_hours_max",
    "restart_after_hours_min",
    "restart_after_hours_max",
    "normal_inr_required",
)
_NOT_RAISED = "the category was not raised: plan as a patient at high bleeding risk if the clinician agrees"


@dataclass(frozen=True, slots=True)
class PlanWarning:
    """A warning shown with a plan, with the source and status of the rule behind it."""

    code: str
    text: str
    source: str | None
    status: str

    def to_dict(self) -> dict[str, object]:
        """Return ``{code, text, source, status}``."""
        return {"code": self.code, "text": self.text, "source": self.source, "status": self.status}


@dataclass(frozen=True, slots=True)
class AnticoagulationPlan:
    """What to do with one drug before and after one procedure.

    Hours are ``None`` where they do not apply (``continue``) or the source gives none; a single value
    has min = max. ``override`` is the site-policy change of a value used here, if any.
    """

    drug: str
    drug_class: str
    action: DrugAction
    hold_before_hours_min: float | None
    hold_before_hours_max: float | None
    restart_after_hours_min: float | None
    restart_after_hours_max: float | None
    normal_inr_required: bool
    source: str
    status: str
    text: str
    warnings: tuple[PlanWarning, ...] = ()
    override: Override | None = None

    def to_dict(self) -> dict[str, object]:
        """Return the CLI/JSON form; a site override shows as status and source, not as a key."""
        return {
            "drug": self.drug,
            "drug_class": self.drug_class,
            "action": self.action,
            "hold_before_hours_min": self.hold_before_hours_min,
            "hold_before_hours_max": self.hold_before_hours_max,
            "restart_after_hours_min": self.restart_after_hours_min,
            "restart_after_hours_max": self.restart_after_hours_max,
            "normal_inr_required": self.normal_inr_required,
            "source": self.source,
            "status": self.status,
            "text": self.text,
            "warnings": [w.to_dict() for w in self.warnings],
        }


@dataclass(frozen=True, slots=True)
class AnticoagulationResult:
    """Plans in input order, the bleeding-risk category used, and warnings about the drug list."""

    effective_bleeding_risk: Fact[BleedingRisk]
    plans: tuple[AnticoagulationPlan, ...]
    warnings: tuple[PlanWarning, ...] = ()

    @property
    def all_warnings(self) -> tuple[PlanWarning, ...]:
        """Result and plan warnings together, each distinct warning once."""
        seen: dict[tuple[str, str], PlanWarning] = {}
        for warning in (*self.warnings, *(w for plan in self.plans for w in plan.warnings)):
            seen.setdefault((warning.code, warning.text), warning)
        return tuple(seen.values())

    def to_dict(self) -> dict[str, object]:
        """Return the JSON form: effective bleeding risk, plans and result warnings."""
        return {
            "effective_bleeding_risk": self.effective_bleeding_risk.model_dump(mode="json"),
            "plans": [plan.to_dict() for plan in self.plans],
            "warnings": [w.to_dict() for w in self.warnings],
        }


# --------------------------------------------------------------------------------------------- escalation


def escalate_bleeding_risk(
    risk: BleedingRisk | Fact[BleedingRisk],
    *,
    high_bleeding_risk_patient: bool,
    rule: Escalation | None = None,
) -> Fact[BleedingRisk]:
    """Return the bleeding-risk category to plan with.

    Parameters
    ----------
    risk : {'low', 'intermediate', 'high'} or Fact
        The procedure's category, plain or as the catalogue's fact.
    high_bleeding_risk_patient : bool
        The patient is at high bleeding risk (old age, liver or renal disease, several agents, history of
        bleeding; N18).
    rule : Escalation, optional
        The escalation rule of the table in use (site policy applied); the packaged table's otherwise.

    Returns
    -------
    Fact
        The escalated category with the rule's source, status (``secondary`` in N18) and note; when the
        patient is not at high bleeding risk, the procedure category unchanged (a given fact keeps its
        provenance).

    Examples
    --------
    >>> escalate_bleeding_risk("low", high_bleeding_risk_patient=True).value
    'intermediate'
    """
    category = _category(risk)
    if not high_bleeding_risk_patient:
        if isinstance(risk, Fact):
            return risk
        return _AS_GIVEN[category]
    steps = (rule if rule is not None else load_drug_table().escalation).steps
    return steps[category]


_AS_GIVEN: dict[str, Fact[BleedingRisk]] = {
    risk: Fact[BleedingRisk](
        value=risk, source="N18", status="verified", note="procedure category, not raised"
    )
    for risk in BLEEDING_RISKS
}


def _category(risk: BleedingRisk | Fact[BleedingRisk]) -> BleedingRisk:
    value = risk.value if isinstance(risk, Fact) else risk
    if value not in BLEEDING_RISKS:
        raise ValidationError(
            "bleeding_risk", N_("must be low, intermediate or high (got %(value)s)"), value=repr(value)
        )
    return value


# ------------------------------------------------------------------------------------------------ wording


def _hours(low: float, high: float | None) -> str:
    high = low if high is None else high
    span = f"{low:g} h" if low == high else f"{low:g}-{high:g} h"
    if low <= 0 or low % 24 or high % 24:
        return span
    days = f"{low / 24:g}" if low == high else f"{low / 24:g}-{high / 24:g}"
    return f"{span} ({days} day{'' if high == 24 else 's'})"


def _sentence(name: str, plan: AnticoagulationPlan, *, hold_label: str = "if held, hold") -> str:
    if plan.action == "continue":
        return f"Continue {name}."
    hold = None
    if plan.hold_before_hours_min is not None:
        hold = _hours(plan.hold_before_hours_min, plan.hold_before_hours_max)
    if plan.action == "hold":
        parts = [f"Hold {name} {hold} before" if hold else f"Hold {name}"]
        restart = "restart"
    else:
        parts = [f"Shared decision on {name} with the prescribing physician"]
        parts += [f"{hold_label} {hold} before"] if hold else []
        restart = "if held, restart"
    if plan.normal_inr_required:
        parts.append("INR must be normal")
    if plan.restart_after_hours_min is not None:
        parts.append(f"{restart} {_hours(plan.restart_after_hours_min, plan.restart_after_hours_max)} after")
    return "; ".join(parts) + "."


# -------------------------------------------------------------------------------------------------- plans


def _value(fact: Fact[float] | None, default: float | None = None) -> float | None:
    return default if fact is None or fact.value is None else fact.value


def _weakest(statuses: Iterable[str]) -> str:
    return max(statuses, key=lambda status: _STATUS_RANK.get(status, len(_STATUS_RANK)))


def _provenance(facts: Sequence[Fact[Any] | None]) -> tuple[str, str, Override | None]:
    used = [f for f in facts if f is not None]
    sources = dict.fromkeys(f.source for f in used if f.source)
    override = next((f.override for f in used if f.override is not None), None)
    return ", ".join(sources) or "no source", _weakest(f.status for f in used), override


def _bare_plan(
    drug: Drug, rule: DrugRule, renal: bool, basis: Sequence[Fact[BleedingRisk]]
) -> AnticoagulationPlan:
    action: DrugAction = rule.action.value or "shared_decision"
    hold: DrugRule | RenalAdjustment = rule.renal_impairment if renal and rule.renal_impairment else rule
    facts: list[Fact[Any] | None] = [rule.action, *basis]
    hold_min = hold_max = restart_min = restart_max = None
    inr = False
    if action != "continue":
        facts += [hold.hold_before_hours_min, hold.hold_before_hours_max, rule.normal_inr_required]
        facts += [rule.restart_after_hours_min, rule.restart_after_hours_max]
        hold_min = _value(hold.hold_before_hours_min)
        hold_max = _value(hold.hold_before_hours_max, hold_min)
        restart_min = _value(rule.restart_after_hours_min)
        restart_max = _value(rule.restart_after_hours_max, restart_min)
        inr = bool(rule.normal_inr_required is not None and rule.normal_inr_required.value)
    source, status, override = _provenance(facts)
    return AnticoagulationPlan(
        drug=drug.id,
        drug_class=drug.drug_class.value or "unknown",
        action=action,
        hold_before_hours_min=hold_min,
        hold_before_hours_max=hold_max,
        restart_after_hours_min=restart_min,
        restart_after_hours_max=restart_max,
        normal_inr_required=inr,
        source=source,
        status=status,
        text="",
        override=override,
    )


def _plan_warnings(
    table: DrugTable, name: str, plan: AnticoagulationPlan, *, renal_adjusted: bool = False
) -> tuple[PlanWarning, ...]:
    warnings: list[PlanWarning] = []
    if plan.action != "continue":
        note = table.warnings["thrombotic_risk"]
        warnings.append(PlanWarning("thrombotic_risk", note.text, note.source, note.status))
        verb = "holding it" if plan.action == "hold" else "a shared decision"
        text = f"{name}: {verb} is proposed; weigh its bleeding risk against the thrombotic risk of stopping."
        warnings.append(PlanWarning("anticoagulant", text, plan.source, plan.status))
    if plan.normal_inr_required:
        text = f"{name}: INR must be normal before the procedure."
        warnings.append(PlanWarning("inr_required", text, plan.source, plan.status))
    if renal_adjusted:
        text = f"{name}: hold interval for renal impairment."
        warnings.append(PlanWarning("renal_impairment", text, plan.source, plan.status))
    return tuple(warnings)


def plan_drug(
    table: DrugTable,
    drug: Drug,
    risk: BleedingRisk,
    *,
    renal_impairment: bool = False,
    basis: Sequence[Fact[BleedingRisk]] = (),
) -> AnticoagulationPlan:
    """Plan one table entry for one (already escalated) bleeding-risk category.

    Parameters
    ----------
    table : DrugTable
        The table in use (for the warning texts).
    drug : Drug
        The entry, e.g. from :func:`~painguide.catalogue.drugs.find_drug`.
    risk : {'low', 'intermediate', 'high'}
        The category to plan with (see :func:`escalate_bleeding_risk`).
    renal_impairment : bool
        Use the rule's renal-impairment hold interval where the source gives one.
    basis : sequence of Fact, optional
        The facts ``risk`` rests on (the procedure's bleeding-risk fact, the escalation step when the
        category was raised); their status and any site override count towards the plan's provenance.

    Returns
    -------
    AnticoagulationPlan
        The plan with its sentence and warnings.
    """
    rule = drug.rules[risk]
    renal = renal_impairment and rule.renal_impairment is not None and rule.action.value == "hold"
    plan = _bare_plan(drug, rule, renal, basis)
    warnings = _plan_warnings(table, drug.name, plan, renal_adjusted=renal)
    return replace(plan, text=_sentence(drug.name, plan), warnings=warnings)


def _same(a: AnticoagulationPlan, b: AnticoagulationPlan) -> bool:
    return all(getattr(a, f) == getattr(b, f) for f in _PLAN_VALUES)


def _aspirin_unspecified(
    table: DrugTable, variants: Sequence[Drug], risk: BleedingRisk, basis: Sequence[Fact[BleedingRisk]]
) -> AnticoagulationPlan:
    """One plan for aspirin of unknown indication: the common plan, or a shared decision."""
    plans = [plan_drug(table, drug, risk, basis=basis) for drug in variants]
    ranked = sorted(zip(plans, variants, strict=True), key=lambda pair: -_ACTION_RANK[pair[0].action])
    base, holder = ranked[0]
    generic = holder.generic
    status = _weakest(p.status for p in plans)
    override = next((p.override for p in plans if p.override is not None), None)
    merged = replace(base, drug=generic, status=status, override=override)
    hold_label = "if held, hold"
    if all(_same(base, p) for p in plans):
        detail = "every indication gives the same plan here"
    else:
        merged = replace(merged, action="shared_decision")
        detail = "the plan depends on it, so it is a shared decision"
        hold_label = f"for {holder.indication} prophylaxis hold"
    missing = PlanWarning(
        "aspirin_indication_missing",
        f"Aspirin indication (primary or secondary prophylaxis) not given: {detail}.",
        merged.source,
        status,
    )
    warnings = (missing, *_plan_warnings(table, generic, merged))
    return replace(merged, text=_sentence(generic, merged, hold_label=hold_label), warnings=warnings)


# ----------------------------------------------------------------------------------------------- planner

_Memo = dict[tuple[object, ...], Any]
_MEMOS: dict[int, _Memo] = {}
_MEMO_LIMIT = 4096


def _memo(table: DrugTable) -> _Memo:
    """Results already computed for this immutable table; freed with it, cleared when it grows large."""
    memo = _MEMOS.get(id(table))
    if memo is None:
        memo = _MEMOS[id(table)] = {}
        weakref.finalize(table, _MEMOS.pop, id(table), None)
    elif len(memo) > _MEMO_LIMIT:
        memo.clear()
    return memo


def _resolve(table: DrugTable, name: str, indication: AspirinIndication | None) -> tuple[Drug, ...]:
    """Resolve a name to its entry, or to every variant of an indication-dependent drug (aspirin)."""
    variants = [table.drugs[i] for i in table.lookup(name)]
    if len(variants) > 1 and all(d.indication is not None for d in variants):
        chosen = [d for d in variants if d.indication == indication]
        return tuple(variants) if indication is None else tuple(chosen[:1]) or tuple(variants)
    drug = find_drug(table, name)
    if indication is not None and drug.indication not in (None, indication):
        raise ValidationError(
            "aspirin_indication",
            N_("%(name)s is for %(drug_indication)s prophylaxis but %(indication)s was given"),
            name=repr(name),
            drug_indication=str(drug.indication),
            indication=indication,
        )
    return (drug,)


def _entry_plan(
    table: DrugTable,
    entry: tuple[Drug, ...],
    risk: BleedingRisk,
    renal: bool,
    basis: tuple[Fact[BleedingRisk], ...],
) -> AnticoagulationPlan:
    if len(entry) == 1:
        return plan_drug(table, entry[0], risk, renal_impairment=renal, basis=basis)
    return _aspirin_unspecified(table, entry, risk, basis)


def _result_warnings(
    table: DrugTable, entries: Sequence[tuple[Drug, ...]], *, high_risk_patient: bool, renal: bool
) -> tuple[PlanWarning, ...]:
    markers = table.escalation.markers
    step = table.escalation.steps["low"]
    unraised = "" if high_risk_patient else f"; {_NOT_RAISED}"
    warnings: list[PlanWarning] = []
    agents = list(dict.fromkeys(entry[0].generic for entry in entries))
    if len(agents) > 1 and "several agents" in markers:
        names = ", ".join(agents)
        text = f"Several antithrombotic agents ({names}) mark a patient at high bleeding risk{unraised}."
        warnings.append(PlanWarning("multiple_agents", text, step.source, step.status))
    if renal and not high_risk_patient and "renal disease" in markers:
        text = f"Renal disease marks a patient at high bleeding risk{unraised}."
        warnings.append(PlanWarning("renal_impairment", text, step.source, step.status))
    return tuple(warnings)


def _plan(
    table: DrugTable,
    drugs: Sequence[str],
    risk: BleedingRisk | Fact[BleedingRisk],
    flags: tuple[bool, bool],
    indication: AspirinIndication | None,
) -> AnticoagulationResult:
    high_risk_patient, renal = flags
    effective = escalate_bleeding_risk(
        risk, high_bleeding_risk_patient=high_risk_patient, rule=table.escalation
    )
    category: BleedingRisk = effective.value or "high"
    given = (risk,) if isinstance(risk, Fact) else ()
    basis = (*given, effective) if category != _category(risk) else given
    entries = [_resolve(table, name, indication) for name in drugs]
    plans = tuple(_entry_plan(table, entry, category, renal, basis) for entry in entries)
    warnings = _result_warnings(table, entries, high_risk_patient=high_risk_patient, renal=renal)
    return AnticoagulationResult(effective_bleeding_risk=effective, plans=plans, warnings=warnings)


def _check_input(drugs: Sequence[str], indication: str | None) -> None:
    if isinstance(drugs, str) or not all(isinstance(name, str) for name in drugs):
        raise ValidationError("drugs", N_("give a list of drug names (strings), not one string"))
    if indication is not None and indication not in _INDICATIONS:
        raise ValidationError(
            "aspirin_indication", N_("must be primary or secondary (got %(value)s)"), value=repr(indication)
        )


def plan_anticoagulation(
    table: DrugTable,
    drugs: Sequence[str],
    *,
    bleeding_risk: BleedingRisk | Fact[BleedingRisk],
    high_bleeding_risk_patient: bool = False,
    renal_impairment: bool = False,
    aspirin_indication: AspirinIndication | None = None,
) -> AnticoagulationResult:
    """Plan every antithrombotic drug of a patient for one procedure.

    Parameters
    ----------
    table : DrugTable
        The drug table (packaged, or with site policy applied).
    drugs : sequence of str
        Generic names, ids or aliases; plans come back in this order.
    bleeding_risk : {'low', 'intermediate', 'high'} or Fact
        The procedure's bleeding-risk category (N18).
    high_bleeding_risk_patient : bool
        Raise the category one step (N18, secondary); see :func:`escalate_bleeding_risk`.
    renal_impairment : bool
        Use renal-impairment hold intervals where the source gives one (dabigatran, high risk).
    aspirin_indication : {'primary', 'secondary'}, optional
        Needed for aspirin; without it aspirin gets the combined plan and ``aspirin_indication_missing``.

    Returns
    -------
    AnticoagulationResult
        The category used, one plan per drug, and ``multiple_agents`` / ``renal_impairment`` warnings
        about the patient (never an automatic escalation); immutable, memoised per table.

    Raises
    ------
    UnknownDrugError
        A name is unknown or ambiguous (``AmbiguousDrugError``); the suggestions say what to use.
    ValidationError
        ``bleeding_risk``, ``drugs`` or ``aspirin_indication`` is invalid.
    """
    _check_input(drugs, aspirin_indication)
    flags = (bool(high_bleeding_risk_patient), bool(renal_impairment))
    if isinstance(bleeding_risk, Fact) or bleeding_risk not in BLEEDING_RISKS:
        return _plan(table, drugs, bleeding_risk, flags, aspirin_indication)
    memo = _memo(table)
    key = (tuple(drugs), bleeding_risk, flags, aspirin_indication)
    result: AnticoagulationResult | None = memo.get(key)
    if result is None:
        result = memo[key] = _plan(table, drugs, bleeding_risk, flags, aspirin_indication)
    return result
