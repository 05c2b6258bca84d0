"""Words that arrive as data values (modalities, statuses, regions, …), marked for the message catalogue.

Templates show them with ``label(value)``: the value's text in the page language, or the value itself
when it has no entry here (catalogue data such as evidence notes stays in the language of the data files).
"""

from __future__ import annotations

__all__ = ["LABELS", "N_"]


def N_(message: str) -> str:
    """Mark ``message`` for extraction without translating it here."""
    return message


LABELS: dict[str, str] = {
    # modalities
    "landmark": N_("landmark"),
    "ultrasound": N_("ultrasound"),
    "fluoroscopy": N_("fluoroscopy"),
    "ct": N_("CT"),
    # bleeding risk (ASRA)
    "low": N_("low"),
    "intermediate": N_("intermediate"),
    "high": N_("high"),
    # contrast
    "none": N_("none"),
    "optional": N_("optional"),
    "standard": N_("standard"),
    # modality roles
    "preferred": N_("preferred"),
    "alternative": N_("alternative"),
    "selected": N_("selected"),
    "not_used": N_("not used"),
    # statuses of facts
    "verified": N_("verified"),
    "secondary": N_("secondary"),
    "open": N_("open"),
    "convention": N_("convention"),
    "site": N_("site"),
    # ACR appropriateness bands
    "usually appropriate": N_("usually appropriate"),
    "may be appropriate": N_("may be appropriate"),
    "usually not appropriate": N_("usually not appropriate"),
    # anticoagulation actions
    "continue": N_("continue"),
    "hold": N_("hold"),
    "shared_decision": N_("shared decision"),
    # regions
    "abdomen": N_("abdomen"),
    "cervical": N_("cervical"),
    "head": N_("head"),
    "lower-limb": N_("lower limb"),
    "lumbar": N_("lumbar"),
    "neck": N_("neck"),
    "pelvis": N_("pelvis"),
    "sacral": N_("sacral"),
    "thoracic": N_("thoracic"),
    "trunk": N_("trunk"),
    "upper-limb": N_("upper limb"),
    # ultrasound events
    "needle_visible": N_("needle seen"),
    "needle_lost": N_("needle lost"),
    "injection_start": N_("injection start"),
    "spread_onset": N_("spread onset"),
    "no_visible_spread": N_("no visible spread"),
    "spread_away_from_tip": N_("spread away from tip"),
    "vessel_near_path": N_("vessel near path"),
    "fluid_in_vessel": N_("fluid in vessel"),
    "cine_ended_without_spread": N_("cine ended without spread"),
    # ultrasound key frames
    "Needle first seen": N_("Needle first seen"),
    "Injection start": N_("Injection start"),
    "Spread onset": N_("Spread onset"),
    "No visible spread": N_("No visible spread"),
    "Spread away from the tip": N_("Spread away from the tip"),
    "Vessel near the needle path": N_("Vessel near the needle path"),
    "Fluid inside a vessel": N_("Fluid inside a vessel"),
    "Cine ended without spread": N_("Cine ended without spread"),
    "First frame": N_("First frame"),
    "Last frame": N_("Last frame"),
    "Middle": N_("Middle"),
    # dose report kinds and groupings
    "fluoro": N_("fluoroscopy"),
    "radiography": N_("radiography"),
    "procedure": N_("procedure"),
    "device": N_("device"),
    "operator": N_("operator"),
    # care pathway: stages
    "workup": N_("work-up"),
    "planning": N_("planning"),
    "preparation": N_("preparation"),
    "ready": N_("ready"),
    "follow_up": N_("follow-up"),
    "closed": N_("closed"),
    # care pathway: steps (``label("step:" ~ step)``)
    "step:diagnostics": N_("Diagnostics"),
    "step:conservative_therapies": N_("Conservative therapy"),
    "step:indication": N_("Indication"),
    "step:plan": N_("Plan (modality)"),
    "step:schedule": N_("Scheduling"),
    "step:anticoagulation": N_("Anticoagulation"),
    "step:justification": N_("Radiation justification"),
    "step:consent": N_("Informed consent"),
    "step:checklist": N_("Checklist"),
    "step:procedure": N_("Procedure record"),
    "step:follow_ups": N_("Follow-ups"),
    # care pathway: timeline entries (``label("entry:" ~ kind)``)
    "entry:opened": N_("Case opened"),
    "entry:diagnostic": N_("Diagnostic finding"),
    "entry:therapy": N_("Conservative therapy"),
    "entry:indication": N_("Indication"),
    "entry:plan": N_("Plan (modality)"),
    "entry:schedule": N_("Scheduling"),
    "entry:anticoagulation": N_("Anticoagulation"),
    "entry:justification": N_("Radiation justification"),
    "entry:consent": N_("Informed consent"),
    "entry:consent_revoked": N_("Consent revoked"),
    "entry:checklist": N_("Checklist"),
    "entry:procedure": N_("Procedure record"),
    "entry:follow_ups_scheduled": N_("Follow-ups scheduled"),
    "entry:follow_up": N_("Follow-up recorded"),
    "entry:refusal": N_("Refused"),
    "entry:override": N_("Override"),
    # care pathway: gate codes
    "diagnostics_missing": N_("diagnostics missing"),
    "indication_missing": N_("indication missing"),
    "conservative_therapy_missing": N_("conservative therapy missing"),
    "anticoagulation_unresolved": N_("anticoagulation unresolved"),
    "justification_missing": N_("radiation justification missing"),
    "justification_not_qualified": N_("signer not qualified in radiation protection"),
    "pregnancy_status_unknown": N_("pregnancy status unknown"),
    "consent_missing": N_("consent missing"),
    "checklist_incomplete": N_("checklist incomplete"),
    "diagnostic_blocks_insufficient": N_("diagnostic blocks insufficient"),
    "repetition_limit": N_("repetition limit"),
    "contraindication": N_("contraindication"),
    "operator_not_competent": N_("operator not competent"),
    # patients and cases
    "female": N_("female"),
    "male": N_("male"),
    "diverse": N_("diverse"),
    "unknown": N_("unknown"),
    "pregnant": N_("pregnant"),
    "not_pregnant": N_("not pregnant"),
    "not_applicable": N_("not applicable"),
    "left": N_("left"),
    "right": N_("right"),
    "bilateral": N_("bilateral"),
    "midline": N_("midline"),
    "patient": N_("patient"),
    "legal_representative": N_("legal representative"),
    # diagnostics
    "exam": N_("clinical examination"),
    "imaging": N_("imaging"),
    "lab": N_("laboratory"),
    "xray": N_("X-ray"),
    "mri": N_("MRI"),
    "scintigraphy": N_("scintigraphy"),
    "other": N_("other"),
    "egfr": N_("eGFR"),
    "inr": N_("INR"),
    # conservative therapy
    "physiotherapy": N_("physiotherapy"),
    "exercise": N_("exercise therapy"),
    "medication": N_("medication"),
    "manual_therapy": N_("manual therapy"),
    "psychological": N_("psychological therapy"),
    "multimodal": N_("multimodal pain therapy"),
    "failed": N_("failed"),
    "partial": N_("partial effect"),
    "not_tolerated": N_("not tolerated"),
    "improved": N_("improved"),
    "ongoing": N_("ongoing"),
    # logbook settings and competence bases; PGIC answers
    "simulator": N_("simulator"),
    "cadaver": N_("cadaver"),
    "lc_cusum": N_("LC-CUSUM"),
    "attestation": N_("attestation"),
    "very_much_improved": N_("very much improved"),
    "much_improved": N_("much improved"),
    "minimally_improved": N_("minimally improved"),
    "no_change": N_("no change"),
    "minimally_worse": N_("minimally worse"),
    "much_worse": N_("much worse"),
    "very_much_worse": N_("very much worse"),
    # unlinked items (pathway/links.html): kinds and what automatic linking decided
    "item:dose": N_("dose report"),
    "item:sono": N_("ultrasound analysis"),
    "link:unmatched": N_("no procedure found"),
    "link:ambiguous": N_("several procedures fit"),
    "link:conflict": N_("identifier of another patient"),
    "link:linked": N_("would link now"),
    # procedure status
    "scheduled": N_("scheduled"),
    "performed": N_("performed"),
    # checklist items (CHECKLIST_ITEMS)
    "Patient identity confirmed": N_("Patient identity confirmed"),
    "Side and level confirmed and marked": N_("Side and level confirmed and marked"),
    "Allergies checked": N_("Allergies checked"),
    "Anticoagulation plan carried out": N_("Anticoagulation plan carried out"),
    "Signed consent present": N_("Signed consent present"),
    "Resuscitation equipment ready": N_("Resuscitation equipment ready"),
    "Contrast agent ready": N_("Contrast agent ready"),
    "Sterile probe cover for the ultrasound probe": N_("Sterile probe cover for the ultrasound probe"),
    "Staff radiation protection (apron, thyroid shield, dosimeter)": N_(
        "Staff radiation protection (apron, thyroid shield, dosimeter)"
    ),
    "modality": N_("modality"),
    "procedure_modality": N_("procedure and modality"),
}
