"""Duration of relief as Kaplan-Meier curves (lifelines).

A :class:`ReliefDuration` is the number of days from a procedure until relief ended (``ended=True``: the
follow-up found the pain back, an event) or until the last follow-up that still found relief (``ended=False``:
censored). lifelines is imported inside :func:`kaplan_meier`, because importing it costs about a second.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Iterable
from dataclasses import dataclass

from painguide.errors import ValidationError

__all__ = ["KaplanMeierCurve", "ReliefDuration", "kaplan_meier"]


@dataclass(frozen=True, slots=True)
class ReliefDuration:
    """Days of relief after one procedure; ``ended`` is ``False`` when relief lasted to the last follow-up."""

    days: float
    ended: bool
    procedure_id: str | None = None
    modality: str | None = None
    operator: str | None = None

    def __post_init__(self) -> None:
        if not (math.isfinite(self.days) and self.days >= 0):
            raise ValidationError("days", f"expected a duration of 0 days or more, got {self.days!r}")


@dataclass(frozen=True, slots=True)
class KaplanMeierCurve:
    """A step curve: survival (still relieved) at each time, its pointwise interval and numbers at risk.

    ``median_days`` is ``None`` when the curve never falls to 0.5 (median not reached).
    """

    group: Hashable
    n: int
    events: int
    days: tuple[float, ...]
    survival: tuple[float, ...]
    low: tuple[float, ...]
    high: tuple[float, ...]
    at_risk: tuple[int, ...]
    median_days: float | None

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "group": self.group,
            "n": self.n,
            "events": self.events,
            "days": list(self.days),
            "survival": list(self.survival),
            "low": list(self.low),
            "high": list(self.high),
            "at_risk": list(self.at_risk),
            "median_days": self.median_days,
        }


def _fit(group: Hashable, items: list[ReliefDuration], confidence: float) -> KaplanMeierCurve:
    from lifelines import KaplanMeierFitter

    fitter = KaplanMeierFitter(alpha=1 - confidence)
    fitter.fit([r.days for r in items], event_observed=[r.ended for r in items], label="relief")
    interval = fitter.confidence_interval_survival_function_
    table = fitter.event_table
    median = float(fitter.median_survival_time_)
    return KaplanMeierCurve(
        group=group,
        n=len(items),
        events=sum(r.ended for r in items),
        days=tuple(float(t) for t in fitter.survival_function_.index),
        survival=tuple(float(v) for v in fitter.survival_function_["relief"]),
        low=tuple(float(v) for v in interval.iloc[:, 0]),
        high=tuple(float(v) for v in interval.iloc[:, 1]),
        at_risk=tuple(int(v) for v in table["at_risk"]),
        median_days=median if math.isfinite(median) else None,
    )


def kaplan_meier(
    durations: Iterable[ReliefDuration],
    *,
    group_by: Callable[[ReliefDuration], Hashable] = lambda r: (r.procedure_id, r.modality),
    confidence: float = 0.95,
) -> tuple[KaplanMeierCurve, ...]:
    """One Kaplan-Meier curve per group (default: procedure × modality), groups in first-seen order.

    The pointwise interval is lifelines' default (exponential Greenwood, "log(-log)").
    """
    if not 0 < confidence < 1:
        raise ValidationError("confidence", f"expected a level between 0 and 1, got {confidence!r}")
    groups: dict[Hashable, list[ReliefDuration]] = {}
    for duration in durations:
        groups.setdefault(group_by(duration), []).append(duration)
    return tuple(_fit(group, items, confidence) for group, items in groups.items())
