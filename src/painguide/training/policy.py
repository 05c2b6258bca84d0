"""Training defaults as sourced data: CUSUM design, success criteria, education requirements.

The packaged ``training/data/training.yaml`` holds the defaults of KNOWLEDGE §6 with source id and status. A
site file of the same shape replaces any part of it (mappings are merged key by key, lists replaced); a value
it sets without a status gets status ``site``. Every source id must resolve in the catalogue's sources.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from painguide.catalogue.loader import iter_sources
from painguide.catalogue.models import Fact, Modality, Status
from painguide.catalogue.policy import pydantic_to_data_error
from painguide.datafiles import read_packaged_yaml, read_yaml
from painguide.errors import DataFileError
from painguide.training.cusum import CusumDesign

__all__ = [
    "CusumDefaults",
    "EducationPolicy",
    "LogbookPolicy",
    "Requirement",
    "StaffRole",
    "SuccessCriteria",
    "SuccessCriterion",
    "TrainingPolicy",
    "load_training_policy",
    "parse_training_policy",
]

StaffRole = Literal["admin", "physician", "rpo", "trainee", "viewer"]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CusumDefaults(_Frozen):
    """Default failure rates and error rates of the learning curves."""

    p0: Fact[float]
    p1: Fact[float]
    alpha: Fact[float]
    beta: Fact[float]

    def design(self) -> CusumDesign:
        """The :class:`CusumDesign` of these values (raises ``ValidationError`` naming a bad one)."""
        values = {name: getattr(self, name).value for name in ("p0", "p1", "alpha", "beta")}
        missing = sorted(name for name, value in values.items() if value is None)
        if missing:
            raise DataFileError("training policy", f"cusum.{missing[0]}", "a value is needed (none is set)")
        return CusumDesign(**values)


class SuccessCriterion(_Frozen):
    """When a performed procedure counts as a success in the logbook."""

    target_reached: bool = True
    no_complication: bool = True
    min_relief_percent: float | None = Field(default=None, ge=0, le=100)
    source: str | None = None
    status: Status
    note: str | None = None


class SuccessCriteria(_Frozen):
    """The default criterion and per-procedure exceptions (by catalogue procedure id)."""

    default: SuccessCriterion
    procedures: dict[str, SuccessCriterion] = {}

    def for_procedure(self, procedure_id: str) -> SuccessCriterion:
        """The procedure's own criterion, else the default."""
        return self.procedures.get(procedure_id, self.default)


class Requirement(_Frozen):
    """Hours of education a role needs within a rolling period, optionally on one topic or modality."""

    id: str = Field(min_length=1)
    roles: tuple[StaffRole, ...] = Field(min_length=1)
    period_months: int = Field(gt=0)
    min_hours: float = Field(gt=0)
    topic: str | None = None
    modality: Modality | None = None
    source: str | None = None
    status: Status
    note: str | None = None


class EducationPolicy(_Frozen):
    """Continuing-education requirements, the radiation-protection refresher interval, reminder window."""

    radiation_refresher_interval_years: Fact[int]
    requirements: tuple[Requirement, ...] = ()
    reminder_days: Fact[int]


class LogbookPolicy(_Frozen):
    """How the logbook reads the care pathway's records."""

    short_term_relief_days: Fact[int]


class TrainingPolicy(_Frozen):
    """Everything the training module reads from data."""

    cusum: CusumDefaults
    success_criteria: SuccessCriteria
    education: EducationPolicy
    logbook: LogbookPolicy


def _merge(base: Any, site: Any) -> Any:
    if isinstance(base, Mapping) and isinstance(site, Mapping):
        merged = dict(base)
        for key, value in site.items():
            merged[key] = _merge(base.get(key), value)
        if "value" in site and "status" not in site:  # a value the site sets is the site's
            merged["status"] = "site"
        return merged
    if isinstance(site, Mapping) and "value" in site and "status" not in site:
        return {**site, "status": "site"}
    return site


def parse_training_policy(raw: Mapping[str, object], *, path: str, known_sources: set[str]) -> TrainingPolicy:
    """Validate a raw policy mapping; errors name ``path``, the dotted key and what is expected."""
    for where, source in iter_sources(raw):
        if source not in known_sources and source != "site-policy":
            raise DataFileError(path, where, f"unknown source id {source!r}; add it to sources.yaml")
    try:
        return TrainingPolicy.model_validate(raw)
    except PydanticValidationError as exc:
        raise pydantic_to_data_error(path, exc) from exc


@lru_cache(maxsize=4)
def load_training_policy(site_path: Path | None = None) -> TrainingPolicy:
    """The packaged defaults, with a site file of the same shape merged over them when given.

    Examples
    --------
    >>> policy = load_training_policy()
    >>> policy.cusum.p0.value, policy.cusum.p0.label
    (0.1, 'KB-S6, secondary')
    >>> policy.success_criteria.for_procedure("lumbar-facet-mbb").min_relief_percent
    50.0
    """
    raw, label = read_packaged_yaml("painguide.training", "data/training.yaml")
    sources, _ = read_packaged_yaml("painguide.catalogue", "data/sources.yaml")
    if site_path is not None:
        raw, label = _merge(raw, read_yaml(site_path)), str(site_path)
    return parse_training_policy(raw, path=label, known_sources=set(sources.get("sources", {})))
