"""Advisor input and output types (frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from painguide.catalogue.models import BleedingRisk, Contrast, Modality
from painguide.errors import ValidationError
from painguide.i18n.marks import N_
from painguide.pathway.anticoagulation import AnticoagulationPlan

__all__ = ["BANDS", "ModalityAdvice", "PatientFactors", "Reason", "Recommendation", "band_for", "rrl_label"]

Band = Literal["usually appropriate", "may be appropriate", "usually not appropriate"]
#: ACR-AC conventions: 1-3 usually not appropriate, 4-6 may be appropriate, 7-9 usually appropriate.
BANDS: tuple[tuple[int, Band], ...] = (
    (7, "usually appropriate"),
    (4, "may be appropriate"),
    (1, "usually not appropriate"),
)
#: ACR-AC adult relative radiation levels (the two highest are secondary in the knowledge base).
RRL_LABELS = (
    "O (0 mSv)",
    "☢ (< 0.1 mSv)",
    "☢☢ (0.1-1 mSv)",
    "☢☢☢ (1-10 mSv)",
    "☢☢☢☢ (10-30 mSv)",
    "☢☢☢☢☢ (30-100 mSv)",
)


def band_for(rating: int) -> Band:
    """The ACR-AC band of a rating 1-9."""
    for lower, band in BANDS:
        if rating >= lower:
            return band
    return "usually not appropriate"


def rrl_label(level: int) -> str:
    """Human label of a relative radiation level 0-5."""
    return RRL_LABELS[level]


def _check_range(field_name: str, value: float | None, low: float, high: float, message: str) -> None:
    if value is not None and not low <= value <= high:
        raise ValidationError(field_name, message, value=value, low=low, high=high)


@dataclass(frozen=True)
class PatientFactors:
    """The patient facts that can move a modality's rating.

    Raises
    ------
    ValidationError
        If a number is outside its plausible range (the message names the field and the range).
    """

    pregnant: bool = False
    breastfeeding: bool = False
    contrast_allergy: bool = False
    egfr: float | None = None
    bmi: float | None = None
    age: float | None = None
    drugs: tuple[str, ...] = ()
    aspirin_indication: Literal["primary", "secondary"] | None = None
    high_bleeding_risk: bool = False
    renal_impairment: bool = False
    prior_fusion: bool = False
    spinal_hardware: bool = False

    def __post_init__(self) -> None:
        _check_range(
            "egfr", self.egfr, 0, 200, N_("%(value)s is out of range; give %(low)s-%(high)s mL/min/1.73 m²")
        )
        _check_range("bmi", self.bmi, 10, 100, N_("%(value)s is out of range; give %(low)s-%(high)s kg/m²"))
        _check_range("age", self.age, 0, 120, N_("%(value)s is out of range; give %(low)s-%(high)s years"))
        if self.aspirin_indication not in (None, "primary", "secondary"):
            raise ValidationError("aspirin_indication", N_("give 'primary' or 'secondary'"))


@dataclass(frozen=True)
class Reason:
    """One explanation: machine code, human text, source id and status, and how much it moved the rating."""

    code: str
    text: str
    source: str | None
    status: str
    delta: int = 0

    def to_dict(self) -> dict[str, object]:
        return {
            "code": self.code,
            "text": self.text,
            "source": self.source,
            "status": self.status,
            "delta": self.delta,
        }


@dataclass(frozen=True)
class ModalityAdvice:
    """The advice for one modality of one procedure for one patient."""

    modality: Modality
    used: bool
    rating: int
    base_rating: int
    band: Band
    radiation_level: int
    contrast: Contrast
    reasons: tuple[Reason, ...]
    warnings: tuple[Reason, ...]
    evidence: tuple[Reason, ...] = ()

    def to_dict(self) -> dict[str, object]:
        return {
            "modality": self.modality,
            "used": self.used,
            "rating": self.rating,
            "base_rating": self.base_rating,
            "band": self.band,
            "radiation_level": self.radiation_level,
            "radiation_label": rrl_label(self.radiation_level),
            "contrast": self.contrast,
            "reasons": [r.to_dict() for r in self.reasons],
            "warnings": [w.to_dict() for w in self.warnings],
            "evidence": [e.to_dict() for e in self.evidence],
        }


@dataclass(frozen=True)
class Recommendation:
    """Every modality of a procedure ranked best first, plus anticoagulation and patient-level warnings."""

    procedure: str
    procedure_name: str
    bleeding_risk: BleedingRisk
    base_bleeding_risk: BleedingRisk
    modalities: tuple[ModalityAdvice, ...]
    anticoagulation: tuple[AnticoagulationPlan, ...] = field(default=())
    warnings: tuple[Reason, ...] = field(default=())

    def to_dict(self) -> dict[str, object]:
        return {
            "procedure": self.procedure,
            "procedure_name": self.procedure_name,
            "bleeding_risk": self.bleeding_risk,
            "base_bleeding_risk": self.base_bleeding_risk,
            "modalities": [m.to_dict() for m in self.modalities],
            "anticoagulation": [p.to_dict() for p in self.anticoagulation],
            "warnings": [w.to_dict() for w in self.warnings],
            "disclaimer": "painguide supports decisions; the physician decides.",
        }
