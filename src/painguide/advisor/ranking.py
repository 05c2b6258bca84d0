"""Rank the modalities of one procedure for one patient, explaining every move (pure functions).

Each modality starts at its base rating (explicit, or the convention for its sourced role), then each rule
whose patient factor applies adds a :class:`Reason` with a delta. Ratings are clamped to 1-9 and ranked best
first; ties go to the lower radiation level, then to the catalogue order of modalities.
"""

from __future__ import annotations

from collections.abc import Callable
from difflib import get_close_matches

from painguide.advisor.models import ModalityAdvice, PatientFactors, Reason, Recommendation, band_for
from painguide.catalogue.loader import KnowledgeBase
from painguide.catalogue.models import MODALITIES, Modality, ModalityEntry, Procedure
from painguide.catalogue.rules import RuleSpec
from painguide.errors import UnknownProcedureError
from painguide.pathway.anticoagulation import plan_anticoagulation

__all__ = ["find_procedure", "recommend"]

ModalityRule = Callable[[Procedure, Modality, ModalityEntry, PatientFactors, RuleSpec], list[Reason]]


def _reason(spec: RuleSpec, delta: float = 0, text: str | None = None, code: str | None = None) -> Reason:
    note = spec.site_note
    return Reason(
        code=code or spec.code,
        text=(text or spec.text) + note,
        source=spec.source,
        status="site" if note else spec.status,
        delta=int(delta),
    )


def _ionizing(entry: ModalityEntry) -> bool:
    return (entry.radiation_level.value or 0) > 0


def _pregnancy(p: Procedure, m: Modality, e: ModalityEntry, f: PatientFactors, s: RuleSpec) -> list[Reason]:
    if not f.pregnant:
        return []
    if _ionizing(e):
        return [_reason(s, s.param("ionizing_delta"))]
    if m == "ultrasound":
        return [_reason(s, s.param("ultrasound_delta"))]
    return []


def _breastfeeding(
    p: Procedure, m: Modality, e: ModalityEntry, f: PatientFactors, s: RuleSpec
) -> list[Reason]:
    return [_reason(s, s.param("ionizing_delta"))] if f.breastfeeding and _ionizing(e) else []


def _justification(
    p: Procedure, m: Modality, e: ModalityEntry, f: PatientFactors, s: RuleSpec
) -> list[Reason]:
    if not _ionizing(e):
        return []
    alternatives = [x for x in p.used_modalities() if not _ionizing(p.modalities[x])]
    extra = (
        f" Alternatives without radiation for this procedure: {', '.join(alternatives)}."
        if alternatives
        else ""
    )
    return [_reason(s, 0, s.text + extra)]


def _contrast_allergy(
    p: Procedure, m: Modality, e: ModalityEntry, f: PatientFactors, s: RuleSpec
) -> list[Reason]:
    if not f.contrast_allergy or e.contrast.value == "none":
        return []
    key = "standard_contrast_delta" if e.contrast.value == "standard" else "optional_contrast_delta"
    return [_reason(s, s.param(key))]


def _renal(p: Procedure, m: Modality, e: ModalityEntry, f: PatientFactors, s: RuleSpec) -> list[Reason]:
    if e.contrast.value == "none" or (f.egfr is None and not f.renal_impairment):
        return []
    low, mid = s.param("egfr_prophylaxis_below"), s.param("egfr_consider_below")
    if f.egfr is None:
        text = f"Renal impairment without eGFR: measure it; {s.text}"
        return [_reason(s, s.param("consider_delta"), text)]
    if f.egfr < low:
        return [_reason(s, s.param("prophylaxis_delta"), f"eGFR {f.egfr:g} < {low:g}: prophylaxis. {s.text}")]
    if f.egfr < mid:
        return [
            _reason(
                s,
                s.param("consider_delta"),
                f"eGFR {f.egfr:g} ({low:g}-{mid - 1:g}): consider prophylaxis. {s.text}",
            )
        ]
    return []


def _obesity(p: Procedure, m: Modality, e: ModalityEntry, f: PatientFactors, s: RuleSpec) -> list[Reason]:
    if m != "ultrasound" or f.bmi is None or f.bmi <= s.param("bmi_above"):
        return []
    key = "ultrasound_delta_spine" if "spine" in p.tags else "ultrasound_delta_other"
    return [_reason(s, s.param(key), f"BMI {f.bmi:g}. {s.text}")]


def _not_used(p: Procedure, m: Modality, e: ModalityEntry, f: PatientFactors, s: RuleSpec) -> list[Reason]:
    return [] if e.used else [_reason(s)]


MODALITY_RULES: tuple[tuple[str, ModalityRule], ...] = (
    ("not_used", _not_used),
    ("pregnancy", _pregnancy),
    ("breastfeeding", _breastfeeding),
    ("justification", _justification),
    ("contrast_allergy", _contrast_allergy),
    ("renal_function", _renal),
    ("obesity", _obesity),
)
#: Rules whose reasons are warnings (shown prominently) rather than plain explanations.
WARNING_CODES = frozenset({"pregnancy", "breastfeeding", "contrast_allergy", "renal_function", "obesity"})


def find_procedure(kb: KnowledgeBase, procedure_id: str) -> Procedure:
    """Look up an enabled procedure, or raise :class:`UnknownProcedureError` with the closest ids."""
    proc = kb.catalogue.procedures.get(procedure_id.strip().lower())
    if proc is None or not proc.enabled:
        ids = [p.id for p in kb.catalogue.enabled()]
        raise UnknownProcedureError(
            procedure_id, get_close_matches(procedure_id.lower(), ids, n=3, cutoff=0.5)
        )
    return proc


def _advise_modality(kb: KnowledgeBase, proc: Procedure, m: Modality, f: PatientFactors) -> ModalityAdvice:
    entry = proc.modalities[m]
    base_fact = kb.catalogue.base_rating(entry)
    base = int(base_fact.value or 1)
    reasons: list[Reason] = []
    if base_fact.override is not None:
        ov = base_fact.override
        reasons.append(
            Reason(
                "site_override",
                f"Base rating set to {base} by site policy ({ov.author}, {ov.date.isoformat()}): {ov.reason}",
                "site-policy",
                "site",
            )
        )
    for code, rule in MODALITY_RULES if entry.used else MODALITY_RULES[:1]:  # unused: only say so
        reasons.extend(rule(proc, m, entry, f, kb.rules[code]))
    rating = max(1, min(9, base + sum(r.delta for r in reasons)))
    warnings = tuple(r for r in reasons if r.code in WARNING_CODES)
    return ModalityAdvice(
        modality=m,
        used=entry.used,
        rating=rating,
        base_rating=base,
        band=band_for(rating),
        radiation_level=int(entry.radiation_level.value or 0),
        contrast=entry.contrast.value or "none",
        reasons=tuple(reasons),
        warnings=warnings,
        evidence=_evidence(entry),
    )


def _evidence(entry: ModalityEntry) -> tuple[Reason, ...]:
    """The catalogue's evidence notes for this modality, shown beside the reasons (they move no rating)."""
    return tuple(Reason("evidence", n.text, n.source, n.status) for n in entry.evidence)


def _patient_warnings(kb: KnowledgeBase, proc: Procedure, f: PatientFactors) -> list[Reason]:
    rules = kb.rules
    out: list[Reason] = []
    if f.pregnant:
        out.append(_reason(rules["pregnancy"]))
    if f.prior_fusion and "facet" in proc.tags:
        out.append(_reason(rules["prior_fusion"]))
    if f.spinal_hardware and "spine" in proc.tags:
        out.append(_reason(rules["spinal_hardware"]))
    if f.age is not None and f.age < rules["paediatric"].param("age_below"):
        out.append(_reason(rules["paediatric"]))
    if f.high_bleeding_risk:
        out.append(_reason(rules["high_bleeding_risk"]))
    return out


def recommend(kb: KnowledgeBase, procedure_id: str, factors: PatientFactors) -> Recommendation:
    """Rank every modality of ``procedure_id`` for a patient, best first, with reasons and warnings.

    Deterministic: the same knowledge base, procedure and factors give the same recommendation.

    Raises
    ------
    UnknownProcedureError
        The id is not an enabled procedure (the message names the closest ids).
    UnknownDrugError
        A drug is not in the anticoagulant table.
    """
    proc = find_procedure(kb, procedure_id)
    advice = [_advise_modality(kb, proc, m, factors) for m in MODALITIES]
    order = {m: i for i, m in enumerate(MODALITIES)}
    advice.sort(key=lambda a: (-a.rating, not a.used, a.radiation_level, order[a.modality]))
    anticoag = plan_anticoagulation(
        kb.drugs,
        factors.drugs,
        bleeding_risk=proc.bleeding_risk.value or "high",
        high_bleeding_risk_patient=factors.high_bleeding_risk,
        renal_impairment=factors.renal_impairment,
        aspirin_indication=factors.aspirin_indication,
    )
    warnings = _patient_warnings(kb, proc, factors)
    if any(plan.action != "continue" for plan in anticoag.plans):
        warnings.append(_reason(kb.rules["anticoagulant"]))
    seen = {w.code for w in warnings}
    for w in (*anticoag.warnings, *(w for plan in anticoag.plans for w in plan.warnings)):
        if w.code not in seen:
            seen.add(w.code)
            warnings.append(Reason(w.code, w.text, w.source, w.status))
    return Recommendation(
        procedure=proc.id,
        procedure_name=proc.name,
        bleeding_risk=anticoag.effective_bleeding_risk.value or "high",
        base_bleeding_risk=proc.bleeding_risk.value or "high",
        modalities=tuple(advice),
        anticoagulation=anticoag.plans,
        warnings=tuple(warnings),
    )
