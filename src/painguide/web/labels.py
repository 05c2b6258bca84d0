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
}
