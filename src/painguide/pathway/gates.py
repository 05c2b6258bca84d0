"""Safety gates of the care pathway: which step is refused, and every reason why (pure functions).

Each gate group reads a :class:`~painguide.pathway.case.CaseFile` and the policy in force and returns
:class:`Unmet` reasons ``{code, message, source}``. :func:`check` gathers the groups a step requires (with the
record about to be added already in place), :func:`require` raises :class:`~painguide.errors.GateError`
with all of them. A physician's override of a code lifts it on that case, unless the policy says the code
cannot be overridden; overridden reasons stay visible beside the unmet ones.

The codes are a stable contract (the API returns them):
``diagnostics_missing``, ``indication_missing``, ``conservative_therapy_missing``,
``anticoagulation_unresolved``, ``justification_missing``, ``justification_not_qualified``,
``pregnancy_status_unknown``, ``consent_missing``, ``consent_revoked``, ``checklist_incomplete``,
``diagnostic_blocks_insufficient``, ``repetition_limit``, ``contraindication``, ``operator_not_competent``.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, Literal, get_args

from painguide.catalogue.models import Procedure
from painguide.errors import GateError, UnmetDict
from painguide.i18n.marks import N_
from painguide.pathway.case import CaseFile, PriorSession, Stage, Step, next_step, stage_of
from painguide.pathway.models import CHECKLIST_ITEMS, FAILED_OUTCOMES, IONIZING, Qualification
from painguide.pathway.policy import PathwayPolicy, PolicyRule
from painguide.training.education import RadiationQualification, can_sign_justification

__all__ = [
    "GATE_CODES",
    "REQUIRES",
    "Assessment",
    "GateCode",
    "GateContext",
    "Unmet",
    "assess",
    "check",
    "require",
]

Param = str | tuple[str, ...] | dict[str, str]
"""A value in a reason's message: a word, a list of words, or a data text by language (``"en"`` always)."""

GateCode = Literal[
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
]
#: Every gate code, the stable contract of refusals.
GATE_CODES: tuple[str, ...] = get_args(GateCode)
_DAYS_PER_MONTH = 365.25 / 12


@dataclass(frozen=True, slots=True)
class Unmet:
    """One unmet condition: stable code, a message saying what is missing and how to fix it, its source.

    ``text`` is the message's English template (``%(name)s`` placeholders, marked for translation) and
    ``params`` its values, so a page shows the message in the reader's language (a tuple is a list of
    words, each translated, joined by "; "; a mapping is a text from data in each language it is written
    in, such as a policy rule's text); ``message`` is the English text the API returns.
    """

    code: str
    message: str
    source: str | None = None
    text: str = ""
    params: tuple[tuple[str, Param], ...] = ()

    @classmethod
    def of(cls, code: str, text: str, source: str | None = None, **params: Param) -> Unmet:
        """The reason ``code`` with the message ``text`` filled from ``params``.

        Examples
        --------
        >>> Unmet.of("consent_revoked", "Consent was revoked on %(on)s.", on="2026-03-01").message
        'Consent was revoked on 2026-03-01.'
        """
        filled = {k: _english(v) for k, v in params.items()}
        return cls(code, text % filled if params else text, source, text, tuple(params.items()))

    def to_dict(self) -> UnmetDict:
        """``{code, message, source}``, with ``text`` and ``params`` where the message has a template."""
        out: UnmetDict = {"code": self.code, "message": self.message, "source": self.source}
        if self.text:
            out["text"] = self.text
            out["params"] = {k: list(v) if isinstance(v, tuple) else v for k, v in self.params}
        return out


def _english(value: Param) -> str:
    if isinstance(value, tuple):
        return "; ".join(value)
    return value if isinstance(value, str) else value["en"]


def _text(rule: PolicyRule) -> dict[str, str]:
    """A rule's text in each language it is written in (``{"en": …, "de": …}``)."""
    return {"en": rule.text, **({"de": rule.text_de} if rule.text_de else {})}


def _ruled(code: str, text: str, rule: PolicyRule, *cited: str, **params: Param) -> Unmet:
    """A reason that quotes ``rule`` (``%(rule)s``, in each language it is written in) and cites the named
    parameters of it (all when none are named)."""
    return Unmet.of(code, text, rule.cite(*cited), rule=_text(rule), **params)


@dataclass(frozen=True, slots=True)
class GateContext:
    """What the gates read besides the case.

    Attributes
    ----------
    policy : PathwayPolicy
        Rule set and radiation frame in force.
    today : date
        The day of the check.
    procedures : mapping of str to Procedure
        The catalogue (region and name of each procedure id).
    competence : collection of (procedure, modality), optional
        What the operator has declared competence for; ``None``: not known, the gate does not apply.
    """

    policy: PathwayPolicy
    today: date
    procedures: Mapping[str, Procedure]
    competence: Collection[tuple[str, str]] | None = None


@dataclass(frozen=True, slots=True)
class Assessment:
    """Where a case stands: stage, next step, what blocks that step, and what was overridden."""

    stage: Stage
    next_step: Step | None
    unmet: tuple[Unmet, ...]
    overridden: tuple[Unmet, ...]

    def to_dict(self) -> dict[str, object]:
        """The JSON form."""
        return {
            "stage": self.stage,
            "next_step": self.next_step,
            "unmet": [u.to_dict() for u in self.unmet],
            "overridden": [u.to_dict() for u in self.overridden],
        }


Gate = Callable[[CaseFile, GateContext], list[Unmet]]


def _day(case: CaseFile, ctx: GateContext) -> date:
    return case.procedure_day or ctx.today


def _rules(case: CaseFile, ctx: GateContext, *kinds: str) -> list[PolicyRule]:
    if case.indication is None:
        return []
    found = ctx.policy.rules.rules_for(case.indication.procedure)
    return [r for r in found if r.kind in kinds]


def _region(ctx: GateContext, procedure: str) -> str:
    proc = ctx.procedures.get(procedure)
    return proc.region if proc is not None else ""


def _sessions(case: CaseFile, ctx: GateContext, classes: tuple[str, ...]) -> list[PriorSession]:
    assert case.indication is not None
    region = _region(ctx, case.indication.procedure)
    day = _day(case, ctx)
    found = [
        s
        for s in case.history
        if s.region == region and s.performed_on <= day and ctx.policy.rules.in_classes(s.procedure, classes)
    ]
    return sorted(found, key=lambda s: s.performed_on)


# ------------------------------------------------------------------------------------------------ work-up


def _workup(case: CaseFile, ctx: GateContext) -> list[Unmet]:
    out: list[Unmet] = []
    for rule in _rules(case, ctx, "diagnostics"):
        if rule.value("exam") and not case.exams:
            out.append(
                Unmet.of("diagnostics_missing", N_("No clinical examination recorded."), rule.cite("exam"))
            )
        if rule.value("imaging") and not case.imaging:
            out.append(Unmet.of("diagnostics_missing", N_("No imaging recorded."), rule.cite("imaging")))
    for rule in _rules(case, ctx, "baseline_scores"):
        if rule.value("nrs") and case.info.nrs is None:
            msg = N_("No baseline pain score (NRS 0-10) on the case; record it.")
            out.append(Unmet.of("diagnostics_missing", msg, rule.cite("nrs")))
        if rule.value("disability") and case.info.disability_score is None:
            msg = N_("No baseline disability score (ODI or NDI) on the case; record it.")
            out.append(Unmet.of("diagnostics_missing", msg, rule.cite("disability")))
    for rule in _rules(case, ctx, "concordant_imaging"):
        if not any(i.concordant for i in case.imaging):
            msg = N_("No imaging finding concordant with the complaint recorded.")
            out.append(Unmet.of("diagnostics_missing", msg, rule.cite()))
    return out


def _conservative(case: CaseFile, ctx: GateContext) -> list[Unmet]:
    out: list[Unmet] = []
    failed = [t for t in case.therapies if t.outcome in FAILED_OUTCOMES]
    for rule in _rules(case, ctx, "conservative_care"):
        weeks = rule.value("weeks")
        if not failed:
            msg = N_("%(rule)s No failed conservative therapy recorded.")
            out.append(_ruled("conservative_therapy_missing", msg, rule))
            continue
        start = min(t.started_on.toordinal() for t in failed)
        span = (max(t.ends_on_ordinal for t in failed) - start) / 7
        if weeks is not None and span < weeks:
            msg = N_("%(rule)s Recorded conservative care spans %(span)s weeks; %(weeks)s needed.")
            params = {"span": f"{span:.0f}", "weeks": f"{weeks:g}"}
            out.append(_ruled("conservative_therapy_missing", msg, rule, "weeks", **params))
    return out


# ----------------------------------------------------------------------------------- indication criteria


def _duration_and_levels(case: CaseFile, ctx: GateContext) -> list[Unmet]:
    indication = case.indication
    out: list[Unmet] = []
    if indication is None:
        return out
    for rule in _rules(case, ctx, "pain_duration"):
        weeks, have = rule.value("weeks"), case.info.pain_weeks_on(indication.on)
        if weeks is not None and have < weeks:
            msg = N_("%(rule)s The case records %(weeks)s weeks of pain on %(on)s.")
            params = {"weeks": f"{have:.0f}", "on": indication.on.isoformat()}
            out.append(_ruled("indication_missing", msg, rule, "weeks", **params))
    for rule in _rules(case, ctx, "max_levels"):
        most = rule.value("levels")
        if most is not None and not indication.levels:
            msg = N_("Name the level(s) of %(procedure)s in the indication (%(rule)s)")
            out.append(_ruled("indication_missing", msg, rule, "levels", procedure=indication.procedure))
        elif most is not None and len(indication.levels) > most:
            msg = N_("%(rule)s The indication names %(count)s: %(levels)s.")
            params = {"count": str(len(indication.levels)), "levels": ", ".join(indication.levels)}
            out.append(_ruled("indication_missing", msg, rule, "levels", **params))
    for rule in _rules(case, ctx, "prior_fusion"):
        fused = sorted(set(indication.levels) & set(case.patient.fused_levels))
        if fused:
            msg = N_("%(rule)s Fused level(s) in the indication: %(levels)s.")
            out.append(_ruled("contraindication", msg, rule, levels=", ".join(fused)))
    return out


def _blocks(case: CaseFile, ctx: GateContext) -> list[Unmet]:
    out: list[Unmet] = []
    for rule in _rules(case, ctx, "diagnostic_blocks"):
        count, relief, gap = (
            rule.value("count"),
            rule.value("min_relief_percent"),
            rule.value("min_days_between"),
        )
        if count is None or relief is None:
            continue
        blocks = _sessions(case, ctx, rule.blocks_from)
        good = [s for s in blocks if (s.best_relief() or 0) >= relief]
        if len(good) < count:
            found = ", ".join(f"{s.performed_on.isoformat()}: {_pct(s.best_relief())}" for s in blocks)
            msg = N_("%(rule)s Qualifying blocks: %(good)s of %(count)s (blocks in this region: %(found)s).")
            params = {"good": str(len(good)), "count": f"{count:g}", "found": found or N_("none")}
            cited = ("count", "min_relief_percent")
            out.append(_ruled("diagnostic_blocks_insufficient", msg, rule, *cited, **params))
        elif count >= 2 and gap is not None and (good[-1].performed_on - good[0].performed_on).days < gap:
            apart = (good[-1].performed_on - good[0].performed_on).days
            msg = N_("%(rule)s The qualifying blocks are %(days)s days apart.")
            out.append(
                _ruled("diagnostic_blocks_insufficient", msg, rule, "min_days_between", days=str(apart))
            )
    return out


def _pct(value: float | None) -> str:
    return "no relief recorded" if value is None else f"{value:g} %"


def _repetition(case: CaseFile, ctx: GateContext) -> list[Unmet]:
    out: list[Unmet] = []
    day = _day(case, ctx)
    for rule in _rules(case, ctx, "repetition"):
        most, months = rule.value("sessions"), rule.value("months")
        if most is None or months is None:
            continue
        since = day - timedelta(days=round(months * _DAYS_PER_MONTH))
        within = [s for s in _sessions(case, ctx, rule.counts) if s.performed_on > since]
        if len(within) + 1 > most:
            dates = ", ".join(s.performed_on.isoformat() for s in within)
            msg = N_("%(rule)s This would be session %(n)s since %(since)s (%(dates)s).")
            params = {"n": str(len(within) + 1), "since": since.isoformat(), "dates": dates}
            out.append(_ruled("repetition_limit", msg, rule, "sessions", "months", **params))
    for rule in _rules(case, ctx, "repeat_relief"):
        relief, min_days = rule.value("min_relief_percent"), rule.value("min_days")
        earlier = _sessions(case, ctx, rule.counts)
        if relief is None or not earlier:
            continue
        last = earlier[-1]
        best = last.best_relief(min_days=int(min_days or 0))
        if best is None or best < relief:
            params = {"on": last.performed_on.isoformat(), "days": f"{min_days or 0:g}"}
            if best is None:
                msg = (
                    N_(
                        "%(rule)s After the last session (%(on)s): no relief recorded "
                        "at %(days)s days or later."
                    )
                    if min_days
                    else N_("%(rule)s After the last session (%(on)s): no relief recorded.")
                )
            else:
                params["relief"] = f"{best:g}"
                msg = (
                    N_("%(rule)s After the last session (%(on)s): %(relief)s %% at %(days)s days or later.")
                    if min_days
                    else N_("%(rule)s After the last session (%(on)s): %(relief)s %%.")
                )
            out.append(_ruled("repetition_limit", msg, rule, **params))
    return out


# ----------------------------------------------------------------------------------- steps in sequence


def _indication(case: CaseFile, ctx: GateContext) -> list[Unmet]:
    if case.indication is None:
        msg = N_("No indication recorded: record procedure, levels, side, rationale.")
        return [Unmet.of("indication_missing", msg)]
    return []


def _plan(case: CaseFile, ctx: GateContext) -> list[Unmet]:
    if case.indication is not None and not case.plan_current:
        msg = N_("No plan for %(procedure)s: choose the modality from the advisor's ranking.")
        return [Unmet.of("indication_missing", msg, procedure=case.indication.procedure)]
    return []


def _schedule(case: CaseFile, ctx: GateContext) -> list[Unmet]:
    if case.indication is not None and case.schedule is None:
        return [Unmet.of("indication_missing", N_("The procedure is not scheduled: give its date and time."))]
    return []


def _anticoagulation(case: CaseFile, ctx: GateContext) -> list[Unmet]:
    drugs = case.patient.drugs
    record = case.anticoagulation
    if not drugs or case.schedule is None:
        return []
    code = "anticoagulation_unresolved"
    if record is None:
        return [
            Unmet.of(
                code, N_("No anticoagulation plan for %(drugs)s: plan it."), "N18", drugs=", ".join(drugs)
            )
        ]
    out: list[Unmet] = []
    if record.procedure_at != case.schedule.at:
        msg = N_("The anticoagulation plan is for %(planned)s; the procedure is now at %(at)s: plan again.")
        at = {"planned": record.procedure_at.isoformat(), "at": case.schedule.at.isoformat()}
        out.append(Unmet.of(code, msg, "N18", **at))
    planned = {d.drug for d in record.drugs}
    if planned != set(drugs):
        msg = N_("The drug list changed since the plan (now %(drugs)s): plan again.")
        out.append(Unmet.of(code, msg, "N18", drugs=", ".join(drugs)))
    for item in record.drugs:
        if not item.resolved:
            msg = N_("Shared decision on %(drug)s not recorded: decide continue or hold with the prescriber.")
            out.append(Unmet.of(code, msg, item.source, drug=item.drug))
    return out


def _labs(case: CaseFile, ctx: GateContext) -> list[Unmet]:
    out: list[Unmet] = []
    day = _day(case, ctx)
    if case.plan is not None and case.plan.contrast == "standard":
        for rule in _rules(case, ctx, "egfr_before_contrast"):
            max_age = rule.value("max_age_days")
            values = [(lab.on, lab.value) for lab in case.labs("egfr")]
            if case.patient.egfr is not None and case.patient.egfr_on is not None:
                values.append((case.patient.egfr_on, case.patient.egfr))
            fresh = [v for v in values if v[0] <= day and (max_age is None or (day - v[0]).days <= max_age)]
            if not fresh:
                msg = (
                    N_(
                        "%(modality)s uses contrast: record an eGFR measured within %(days)s days "
                        "before the procedure."
                    )
                    if max_age is not None
                    else N_("%(modality)s uses contrast: record an eGFR before the procedure.")
                )
                params = {"modality": case.plan.modality, "days": f"{max_age or 0:g}"}
                out.append(Unmet.of("diagnostics_missing", msg, rule.cite(), **params))
    record = case.anticoagulation
    for item in record.drugs if record is not None else ():
        if item.held and item.normal_inr_required:
            since = item.last_dose_before.date() if item.last_dose_before else None
            inr = [lab for lab in case.labs("inr") if lab.on <= day and (since is None or lab.on >= since)]
            if not inr:
                msg = (
                    N_(
                        "%(drug)s is held and INR must be normal: record an INR measured after the last "
                        "dose (%(on)s)."
                    )
                    if since
                    else N_("%(drug)s is held and INR must be normal: record an INR measured.")
                )
                params = {"drug": item.drug, "on": since.isoformat() if since else ""}
                out.append(Unmet.of("diagnostics_missing", msg, item.source, **params))
    return out


def _justification(case: CaseFile, ctx: GateContext) -> list[Unmet]:
    if not case.ionizing:
        return []
    frame = ctx.policy.frame
    j = case.justification
    out: list[Unmet] = []
    if j is None or j.modality != case.modality:
        msg = (
            N_("No radiation justification for %(modality)s: a qualified physician signs it in advance.")
            if j is None
            else N_(
                "The justification covers %(covered)s, not %(modality)s: a new radiation justification for "
                "%(modality)s: a qualified physician signs it in advance."
            )
        )
        params: dict[str, str | tuple[str, ...]] = {"modality": str(case.modality)}
        params["covered"] = j.modality if j is not None else ""
        out.append(Unmet.of("justification_missing", msg, frame.qualification_required.label, **params))
    elif frame.qualification_required.value:
        eligibility = can_sign_justification(_radiation_qualification(j.qualification), j.on)
        if not eligibility:
            msg = N_("%(physician)s had no valid radiation-protection qualification on %(on)s (%(reasons)s).")
            params = {"physician": j.physician, "on": j.on.isoformat(), "reasons": tuple(eligibility.reasons)}
            out.append(
                Unmet.of("justification_not_qualified", msg, frame.qualification_required.label, **params)
            )
    return out + _pregnancy(case, ctx, _day(case, ctx))


def _radiation_qualification(q: Qualification | None) -> RadiationQualification | None:
    """The pathway's certificate as the training module's qualification: valid from, refresher due."""
    if q is None:
        return None
    return RadiationQualification(
        holder=q.username, acquired_on=q.valid_from or date.min, refresher_due=q.valid_until
    )


def _pregnancy(case: CaseFile, ctx: GateContext, day: date) -> list[Unmet]:
    frame = ctx.policy.frame
    patient = case.patient
    out: list[Unmet] = []
    ages = (frame.pregnancy_age_min.value, frame.pregnancy_age_max.value)
    if not patient.can_be_pregnant(day, age_range=ages):
        return out
    if frame.pregnancy_question.value and not patient.pregnancy_known(
        day, valid_days=frame.pregnancy_valid_days.value
    ):
        msg = N_("Pregnancy status not asked (or too long ago): ask and record it with the date.")
        out.append(Unmet.of("pregnancy_status_unknown", msg, frame.pregnancy_question.label))
    if frame.breastfeeding_question.value and patient.breastfeeding is None:
        msg = N_("Breastfeeding not asked: ask and record it.")
        out.append(Unmet.of("pregnancy_status_unknown", msg, frame.breastfeeding_question.label))
    return out


def _consent(case: CaseFile, ctx: GateContext) -> list[Unmet]:
    if case.plan is None:
        return []
    if case.consent is None:
        return [Unmet.of("consent_missing", N_("No informed consent recorded."))]
    if case.revocation is not None:
        msg = N_("Consent was revoked on %(on)s: a new consent is needed.")
        return [Unmet.of("consent_revoked", msg, on=case.revocation.on.isoformat())]
    if case.consent.modality != case.modality:
        msg = N_("The consent covers %(covered)s; the plan is now %(modality)s: consent again.")
        return [Unmet.of("consent_missing", msg, covered=case.consent.modality, modality=str(case.modality))]
    return []


def _checklist(case: CaseFile, ctx: GateContext) -> list[Unmet]:
    missing = case.missing_checklist_items()
    if not missing:
        return []
    labels = tuple(CHECKLIST_ITEMS[k][0] for k in missing)
    return [Unmet.of("checklist_incomplete", N_("Checklist items not confirmed: %(items)s."), items=labels)]


def _competence(case: CaseFile, ctx: GateContext) -> list[Unmet]:
    record = case.procedure
    if (
        not ctx.policy.competence_required
        or ctx.competence is None
        or record is None
        or case.indication is None
    ):
        return []
    if record.supervisor or (case.indication.procedure, record.modality) in ctx.competence:
        return []
    msg = N_(
        "%(operator)s has declared no competence for %(procedure)s under %(modality)s: name a supervisor."
    )
    params = {
        "operator": record.operator,
        "procedure": case.indication.procedure,
        "modality": record.modality,
    }
    return [Unmet.of("operator_not_competent", msg, "site-policy", **params)]


_GATES: dict[str, Gate] = {
    "indication": _indication,
    "workup": _workup,
    "conservative": _conservative,
    "criteria": lambda c, x: _duration_and_levels(c, x) + _blocks(c, x) + _repetition(c, x),
    "plan": _plan,
    "schedule": _schedule,
    "anticoagulation": _anticoagulation,
    "labs": _labs,
    "justification": _justification,
    "consent": _consent,
    "checklist": _checklist,
    "competence": _competence,
}
_BEFORE_PROCEDURE = ("indication", "workup", "conservative", "criteria", "plan", "schedule")
#: The gate groups each step requires.
REQUIRES: dict[str, tuple[str, ...]] = {
    "diagnostics": (),
    "conservative_therapies": (),
    "indication": ("workup", "conservative", "criteria"),
    "plan": ("indication",),
    "schedule": ("indication", "plan"),
    "anticoagulation": ("indication", "plan", "schedule"),
    "justification": ("indication", "plan", "justification"),
    "consent": ("indication", "plan", "justification"),
    "checklist": (*_BEFORE_PROCEDURE, "anticoagulation", "labs", "justification", "consent"),
    "procedure": (
        *_BEFORE_PROCEDURE,
        "anticoagulation",
        "labs",
        "justification",
        "consent",
        "checklist",
        "competence",
    ),
    "follow_ups": (),
}
_FIELD = {
    "indication": "indication",
    "plan": "plan",
    "schedule": "schedule",
    "anticoagulation": "anticoagulation",
    "justification": "justification",
    "consent": "consent",
    "checklist": "checklist",
    "procedure": "procedure",
}


def check(
    case: CaseFile, step: Step, ctx: GateContext, candidate: object = None
) -> tuple[tuple[Unmet, ...], tuple[Unmet, ...]]:
    """Every reason ``step`` is refused, and the reasons a physician's override lifts.

    Parameters
    ----------
    case : CaseFile
        The case as stored.
    step : str
        One of :data:`~painguide.pathway.case.STEPS`.
    ctx : GateContext
        Policy, day, catalogue and competence.
    candidate : record, optional
        The record this step is about to add (an indication, a plan, a justification...): the gates see it
        in place.

    Returns
    -------
    unmet, overridden : tuple of Unmet
        What still blocks the step, and what would block it but is overridden on this case.
    """
    if candidate is not None and step in _FIELD:
        changes: dict[str, Any] = {_FIELD[step]: candidate}
        case = replace(case, **changes)
    reasons = [u for group in REQUIRES[step] for u in _GATES[group](case, ctx)]
    lifted = {code for code in case.overridden_codes if ctx.policy.overridable(code)}
    unmet = tuple(u for u in reasons if u.code not in lifted)
    overridden = tuple(u for u in reasons if u.code in lifted)
    return unmet, overridden


def require(
    case: CaseFile, step: Step, ctx: GateContext, candidate: object | None = None
) -> tuple[Unmet, ...]:
    """Raise :class:`GateError` listing every unmet reason of ``step``; return the overridden ones."""
    unmet, overridden = check(case, step, ctx, candidate)
    if unmet:
        raise GateError(step, [f"{u.code}: {u.message}" for u in unmet], unmet=[u.to_dict() for u in unmet])
    return overridden


def assess(case: CaseFile, ctx: GateContext) -> Assessment:
    """The case's stage, next step, and what blocks that step (with what is overridden)."""
    step = next_step(case)
    unmet, overridden = check(case, step, ctx) if step is not None else ((), ())
    return Assessment(stage=stage_of(step), next_step=step, unmet=unmet, overridden=overridden)


#: Modalities that need a radiation justification (re-exported for pages).
NEEDS_JUSTIFICATION = IONIZING
