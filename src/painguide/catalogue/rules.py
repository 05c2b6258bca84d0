"""Advisor rules as data: each rule's text, source, status and its numeric parameters (as Facts).

The rule logic lives in :mod:`painguide.advisor`; this module fixes which rules exist and which parameters
each needs, so that a malformed rules file stops start-up with the key that is wrong.
"""

from __future__ import annotations

from functools import cached_property
from types import MappingProxyType

from pydantic import BaseModel, ConfigDict, Field, model_validator

from painguide.catalogue.models import Fact, Status

__all__ = ["RULE_PARAMS", "RuleSet", "RuleSpec"]

#: Every rule code the advisor implements, with the parameters it reads.
RULE_PARAMS: MappingProxyType[str, tuple[str, ...]] = MappingProxyType(
    {
        "pregnancy": ("ionizing_delta", "ultrasound_delta", "fetal_dose_no_effect_mgy"),
        "breastfeeding": ("ionizing_delta",),
        "justification": (),
        "contrast_allergy": ("standard_contrast_delta", "optional_contrast_delta"),
        "renal_function": (
            "egfr_prophylaxis_below",
            "egfr_consider_below",
            "prophylaxis_delta",
            "consider_delta",
        ),
        "obesity": ("bmi_above", "ultrasound_delta_spine", "ultrasound_delta_other"),
        "prior_fusion": (),
        "spinal_hardware": (),
        "paediatric": ("age_below",),
        "anticoagulant": (),
        "high_bleeding_risk": (),
        "not_used": (),
    }
)


class RuleSpec(BaseModel):
    """One advisor rule: what it says, where it comes from, and its parameters."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: str
    text: str = Field(min_length=1)
    source: str | None
    status: Status
    params: dict[str, Fact[float]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _known_params(self) -> RuleSpec:
        if self.code not in RULE_PARAMS:
            raise ValueError(f"unknown rule {self.code!r}; known rules: {', '.join(RULE_PARAMS)}")
        missing = [p for p in RULE_PARAMS[self.code] if p not in self.params]
        if missing:
            raise ValueError(f"rule {self.code!r} needs params {missing}")
        return self

    @cached_property
    def site_note(self) -> str:
        """Every site-policy change of this rule's parameters (author, date, reason), or ``""``."""
        return "".join(
            f" Site policy: {name} = {fact.value:g} (was {fact.override.previous}) by "
            f"{fact.override.author}, {fact.override.date.isoformat()}: {fact.override.reason}."
            for name, fact in self.params.items()
            if fact.override is not None and fact.value is not None
        )

    def param(self, name: str) -> float:
        """The value of a parameter (0 where the fact is open, i.e. has no value)."""
        value = self.params[name].value
        return float(value) if value is not None else 0.0


class RuleSet(BaseModel):
    """All advisor rules, keyed by code."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rules: dict[str, RuleSpec]

    @model_validator(mode="after")
    def _complete(self) -> RuleSet:
        missing = [code for code in RULE_PARAMS if code not in self.rules]
        if missing:
            raise ValueError(f"rules missing: {missing}")
        return self

    def __getitem__(self, code: str) -> RuleSpec:
        return self.rules[code]
