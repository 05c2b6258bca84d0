"""Typed, validated catalogue records.

Every clinical number or category is a :class:`Fact`: a value with the id of its source and a status
(``verified``, ``secondary``, ``open``; ``convention`` for painguide's own scoring conventions and
``site`` for a value a site policy set). A site override keeps who changed it, when, why, and the
previous value.
"""

from __future__ import annotations

from datetime import date
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

__all__ = [
    "MODALITIES",
    "BleedingRisk",
    "Catalogue",
    "Contrast",
    "EvidenceNote",
    "Fact",
    "Modality",
    "ModalityEntry",
    "Override",
    "Procedure",
    "Role",
    "Source",
    "Status",
    "TypicalDose",
]

Status = Literal["verified", "secondary", "open", "convention", "site"]
Modality = Literal["landmark", "ultrasound", "fluoroscopy", "ct"]
MODALITIES: tuple[Modality, ...] = ("landmark", "ultrasound", "fluoroscopy", "ct")
BleedingRisk = Literal["low", "intermediate", "high"]
Contrast = Literal["none", "optional", "standard"]
Role = Literal["preferred", "standard", "alternative", "selected", "not_used"]

T = TypeVar("T")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Override(_Frozen):
    """A site-policy change of one value, shown wherever the value is used."""

    author: str = Field(min_length=1)
    date: date
    reason: str = Field(min_length=1)
    previous: object = None


class Fact(_Frozen, Generic[T]):
    """A value with its source id and status."""

    value: T | None
    source: str | None = None
    status: Status
    note: str | None = None
    override: Override | None = None

    @property
    def label(self) -> str:
        """Short provenance label, e.g. ``N18, verified`` or ``site policy (Dr A, 2026-01-05)``."""
        if self.override is not None:
            return f"site policy ({self.override.author}, {self.override.date.isoformat()})"
        return f"{self.source or 'no source'}, {self.status}"


class Source(_Frozen):
    """A full citation behind a source id."""

    id: str
    citation: str = Field(min_length=1)
    url: str | None = None


class EvidenceNote(_Frozen):
    """A sentence of evidence with its source and status."""

    text: str = Field(min_length=1)
    source: str | None
    status: Status


class TypicalDose(_Frozen):
    """A typical dose where a source reports one (population figures, never individual risk)."""

    dap_gy_cm2: float | None = None
    fluoro_time_s: float | None = None
    effective_dose_msv: float | None = None
    note: str | None = None
    source: str
    status: Status


class ModalityEntry(_Frozen):
    """How one modality serves one procedure."""

    used: bool
    role: Fact[Role]
    rating: Fact[int] | None = None
    contrast: Fact[Contrast]
    radiation_level: Fact[int]
    typical_dose: TypicalDose | None = None
    evidence: tuple[EvidenceNote, ...] = ()

    @field_validator("radiation_level")
    @classmethod
    def _rrl_range(cls, fact: Fact[int]) -> Fact[int]:
        if fact.value is not None and not 0 <= fact.value <= 5:
            raise ValueError("relative radiation level must be 0 (none) to 5")
        return fact

    @field_validator("rating")
    @classmethod
    def _rating_range(cls, fact: Fact[int] | None) -> Fact[int] | None:
        if fact is not None and fact.value is not None and not 1 <= fact.value <= 9:
            raise ValueError("rating must be 1 to 9 (ACR-style)")
        return fact


class Procedure(_Frozen):
    """One interventional pain procedure and its four modalities."""

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    names: dict[Literal["en", "de"], str]
    region: str
    target: str
    tags: tuple[str, ...] = ()
    bleeding_risk: Fact[BleedingRisk]
    modalities: dict[Modality, ModalityEntry]
    evidence: tuple[EvidenceNote, ...] = ()
    enabled: bool = True
    site_added: Override | None = None

    @field_validator("names")
    @classmethod
    def _both_names(cls, names: dict[str, str]) -> dict[str, str]:
        missing = {"en", "de"} - set(names)
        if missing:
            raise ValueError(f"names needs both 'en' and 'de' (missing {sorted(missing)})")
        return names

    @field_validator("modalities")
    @classmethod
    def _all_modalities(cls, mods: dict[str, ModalityEntry]) -> dict[str, ModalityEntry]:
        missing = [m for m in MODALITIES if m not in mods]
        if missing:
            raise ValueError(f"every modality must be listed (missing {missing}); use used: false")
        return mods

    @property
    def name(self) -> str:
        return self.names["en"]

    def used_modalities(self) -> tuple[Modality, ...]:
        return tuple(m for m in MODALITIES if self.modalities[m].used)

    def summary(self) -> dict[str, object]:
        """The one-line listing used by ``catalogue list --json`` and ``/api/v1/catalogue``."""
        return {
            "id": self.id,
            "name": self.names["en"],
            "name_de": self.names["de"],
            "region": self.region,
            "target": self.target,
            "bleeding_risk": self.bleeding_risk.value,
            "modalities": list(self.used_modalities()),
        }


class Catalogue(_Frozen):
    """The loaded, validated catalogue: procedures, sources, conventions and any site overrides."""

    procedures: dict[str, Procedure]
    sources: dict[str, Source]
    role_ratings: dict[Role, Fact[int]]
    overrides: tuple[tuple[str, Override], ...] = ()
    policy_name: str | None = None

    def enabled(self) -> list[Procedure]:
        """Enabled procedures in catalogue order."""
        return [p for p in self.procedures.values() if p.enabled]

    def base_rating(self, entry: ModalityEntry) -> Fact[int]:
        """The explicit rating of a modality entry, or the convention for its role."""
        return entry.rating if entry.rating is not None else self.role_ratings[entry.role.value or "not_used"]
