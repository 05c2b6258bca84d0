"""Responder rates per group with Wilson score confidence intervals.

A follow-up is a responder by ``nrs30`` / ``nrs50`` when its NRS fell by at least 30 / 50 % from baseline
(IMMPACT08), and by ``pgic`` when the patient rated their change "much" or "very much improved" (Farrar
2001). The definitions are data (``outcomes/data/responders.yaml``). A follow-up that lacks what a
definition needs (no PGIC, or a baseline NRS of 0) is not evaluable for that definition and leaves its
denominator: every rate says how many follow-ups it rests on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable, Mapping
from dataclasses import dataclass
from statistics import NormalDist
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from painguide.catalogue.loader import iter_sources
from painguide.catalogue.models import Status
from painguide.catalogue.policy import pydantic_to_data_error
from painguide.datafiles import read_packaged_yaml
from painguide.errors import DataFileError, ValidationError

__all__ = [
    "PGIC",
    "FollowUp",
    "GroupResponders",
    "Proportion",
    "ResponderCriterion",
    "load_responder_criteria",
    "nrs_reduction_percent",
    "responder_rates",
    "wilson_interval",
]

#: Patient Global Impression of Change, best to worst (7-point scale).
PGIC = Literal[
    "very_much_improved",
    "much_improved",
    "minimally_improved",
    "no_change",
    "minimally_worse",
    "much_worse",
    "very_much_worse",
]


class ResponderCriterion(BaseModel):
    """One responder definition with its source and status."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str = Field(min_length=1)
    kind: Literal["nrs_reduction", "pgic"]
    min_percent: float | None = Field(default=None, gt=0, le=100)
    categories: tuple[PGIC, ...] = ()
    source: str | None
    status: Status


def load_responder_criteria() -> dict[str, ResponderCriterion]:
    """The packaged responder definitions by id (``nrs30``, ``nrs50``, ``pgic``)."""
    raw, label = read_packaged_yaml("painguide.outcomes", "data/responders.yaml")
    sources, _ = read_packaged_yaml("painguide.catalogue", "data/sources.yaml")
    for where, source in iter_sources(raw):
        if source not in sources.get("sources", {}):
            raise DataFileError(label, where, f"unknown source id {source!r}; add it to sources.yaml")
    criteria: dict[str, ResponderCriterion] = {}
    for key, item in raw.get("responders", {}).items():
        try:
            criteria[key] = ResponderCriterion.model_validate(item)
        except PydanticValidationError as exc:
            raise pydantic_to_data_error(label, exc, f"responders.{key}") from exc
    return criteria


@dataclass(frozen=True, slots=True)
class FollowUp:
    """One follow-up of one procedure: baseline and follow-up NRS (0-10), PGIC, and grouping labels."""

    baseline_nrs: float | None
    followup_nrs: float | None
    pgic: PGIC | None = None
    procedure_id: str | None = None
    modality: str | None = None
    operator: str | None = None

    def __post_init__(self) -> None:
        for name in ("baseline_nrs", "followup_nrs"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 10:
                raise ValidationError(name, f"expected an NRS from 0 to 10, got {value!r}")


def nrs_reduction_percent(baseline: float | None, followup: float | None) -> float | None:
    """Relative NRS reduction in percent; ``None`` when either is missing or the baseline is 0.

    Examples
    --------
    >>> nrs_reduction_percent(8, 4), nrs_reduction_percent(5, 6), nrs_reduction_percent(0, 0)
    (50.0, -20.0, None)
    """
    if baseline is None or followup is None or baseline == 0:
        return None
    return 100.0 * (baseline - followup) / baseline


def _responds(follow_up: FollowUp, criterion: ResponderCriterion) -> bool | None:
    if criterion.kind == "pgic":
        return None if follow_up.pgic is None else follow_up.pgic in criterion.categories
    reduction = nrs_reduction_percent(follow_up.baseline_nrs, follow_up.followup_nrs)
    # Compare with a small tolerance: 10 -> 7 is exactly 30 % but 100 * 3 / 10 is 30.000000000000004.
    return None if reduction is None else reduction >= (criterion.min_percent or 0) - 1e-9


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Wilson score interval for a binomial proportion (Wilson 1927).

    Examples
    --------
    >>> [round(x, 4) for x in wilson_interval(8, 10)]
    [0.4902, 0.9433]
    """
    if n <= 0 or not 0 <= successes <= n:
        raise ValidationError("n", f"expected 0 <= successes <= n and n > 0, got {successes} of {n}")
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p, z2 = successes / n, z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True, slots=True)
class Proportion:
    """Responders among evaluable follow-ups, with a Wilson interval (``None`` when nothing is evaluable)."""

    responders: int
    evaluable: int
    rate: float | None
    low: float | None
    high: float | None

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "responders": self.responders,
            "evaluable": self.evaluable,
            "rate": self.rate,
            "low": self.low,
            "high": self.high,
        }


@dataclass(frozen=True, slots=True)
class GroupResponders:
    """Responder rates of one group, by criterion id."""

    group: Hashable
    follow_ups: int
    rates: Mapping[str, Proportion]

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "group": self.group,
            "follow_ups": self.follow_ups,
            "rates": {k: v.to_dict() for k, v in self.rates.items()},
        }


def _proportion(verdicts: list[bool | None], confidence: float) -> Proportion:
    known = [v for v in verdicts if v is not None]
    if not known:
        return Proportion(0, 0, None, None, None)
    hits = sum(known)
    low, high = wilson_interval(hits, len(known), confidence)
    return Proportion(hits, len(known), hits / len(known), low, high)


def responder_rates(
    follow_ups: Iterable[FollowUp],
    criteria: Mapping[str, ResponderCriterion],
    *,
    group_by: Callable[[FollowUp], Hashable] = lambda f: (f.procedure_id, f.modality),
    confidence: float = 0.95,
) -> tuple[GroupResponders, ...]:
    """Responder rates per group (default: procedure × modality), groups in first-seen order."""
    groups: dict[Hashable, list[FollowUp]] = {}
    for follow_up in follow_ups:
        groups.setdefault(group_by(follow_up), []).append(follow_up)
    return tuple(
        GroupResponders(
            group=group,
            follow_ups=len(items),
            rates={
                key: _proportion([_responds(f, criterion) for f in items], confidence)
                for key, criterion in criteria.items()
            },
        )
        for group, items in groups.items()
    )
