"""The logbook: performed procedures counted and judged per operator × procedure × modality.

The logbook reads plain :class:`PerformedProcedure` records, so the care pathway's procedure records (and a
trainee's simulator or cadaver sessions) can feed it. Whether a procedure was a success is decided by a
:class:`~painguide.training.policy.SuccessCriterion` held as data; a record that lacks what the criterion
needs (for example the relief after a diagnostic block) is *not assessable* and stays out of the success
series instead of being counted either way.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from painguide.catalogue.models import Modality
from painguide.training.policy import SuccessCriteria, SuccessCriterion

__all__ = [
    "LogbookEntry",
    "PerformedProcedure",
    "Setting",
    "is_success",
    "logbook",
    "outcome_series",
]

#: Where a procedure was performed: on a patient, or as training on a simulator or a cadaver.
Setting = Literal["patient", "simulator", "cadaver"]


@dataclass(frozen=True, slots=True)
class PerformedProcedure:
    """One procedure (or training session) as the logbook needs it.

    ``supervisor`` is ``None`` when the operator worked unsupervised; ``relief_percent`` is the short-term
    pain relief (0-100) where it was measured; ``target_reached`` is ``None`` when not recorded.
    """

    operator: str
    procedure_id: str
    modality: Modality
    performed_on: date
    supervisor: str | None = None
    target_reached: bool | None = None
    complications: tuple[str, ...] = ()
    relief_percent: float | None = None
    setting: Setting = "patient"


def is_success(record: PerformedProcedure, criterion: SuccessCriterion) -> bool | None:
    """``True``/``False`` by the criterion, or ``None`` when the record lacks what the criterion needs.

    A failure on any recorded part decides even when another part is missing.

    Examples
    --------
    >>> from datetime import date
    >>> from painguide.training.policy import SuccessCriterion
    >>> block = SuccessCriterion(min_relief_percent=50, status="convention")
    >>> r = PerformedProcedure("dr-a", "lumbar-facet-mbb", "fluoroscopy", date(2026, 1, 5),
    ...                        target_reached=True, relief_percent=40)
    >>> is_success(r, block)
    False
    """
    verdicts: list[bool | None] = []
    if criterion.target_reached:
        verdicts.append(record.target_reached)
    if criterion.no_complication:
        verdicts.append(not record.complications)
    if criterion.min_relief_percent is not None:
        relief = record.relief_percent
        verdicts.append(None if relief is None else relief >= criterion.min_relief_percent)
    if False in verdicts:
        return False
    return None if None in verdicts else True


@dataclass(frozen=True, slots=True)
class LogbookEntry:
    """Counts for one operator × procedure × modality × setting."""

    operator: str
    procedure_id: str
    modality: Modality
    setting: Setting
    count: int
    supervised: int
    unsupervised: int
    successes: int
    failures: int
    not_assessable: int
    complications: int
    first: date
    last: date

    def to_dict(self) -> dict[str, object]:
        """JSON form (dates as ISO strings)."""
        return {
            "operator": self.operator,
            "procedure_id": self.procedure_id,
            "modality": self.modality,
            "setting": self.setting,
            "count": self.count,
            "supervised": self.supervised,
            "unsupervised": self.unsupervised,
            "successes": self.successes,
            "failures": self.failures,
            "not_assessable": self.not_assessable,
            "complications": self.complications,
            "first": self.first.isoformat(),
            "last": self.last.isoformat(),
        }


def logbook(records: Iterable[PerformedProcedure], criteria: SuccessCriteria) -> tuple[LogbookEntry, ...]:
    """Group records per operator × procedure × modality × setting, sorted by those keys."""
    groups: dict[tuple[str, str, Modality, Setting], list[PerformedProcedure]] = {}
    for record in records:
        key = (record.operator, record.procedure_id, record.modality, record.setting)
        groups.setdefault(key, []).append(record)
    entries = []
    for (operator, procedure_id, modality, setting), items in sorted(groups.items()):
        verdicts = [is_success(r, criteria.for_procedure(procedure_id)) for r in items]
        supervised = sum(r.supervisor is not None for r in items)
        entries.append(
            LogbookEntry(
                operator=operator,
                procedure_id=procedure_id,
                modality=modality,
                setting=setting,
                count=len(items),
                supervised=supervised,
                unsupervised=len(items) - supervised,
                successes=verdicts.count(True),
                failures=verdicts.count(False),
                not_assessable=verdicts.count(None),
                complications=sum(bool(r.complications) for r in items),
                first=min(r.performed_on for r in items),
                last=max(r.performed_on for r in items),
            )
        )
    return tuple(entries)


def outcome_series(
    records: Iterable[PerformedProcedure],
    criteria: SuccessCriteria,
    *,
    operator: str,
    procedure_id: str,
    modality: Modality,
    settings: tuple[Setting, ...] = ("patient",),
) -> tuple[int, ...]:
    """The operator's assessable outcomes in date order (1 success, 0 failure), ready for a learning curve.

    Records that are not assessable are left out; by default only procedures on patients count.
    """
    criterion = criteria.for_procedure(procedure_id)
    chosen = sorted(
        (
            r
            for r in records
            if r.operator == operator
            and r.procedure_id == procedure_id
            and r.modality == modality
            and r.setting in settings
        ),
        key=lambda r: r.performed_on,
    )
    verdicts = (is_success(r, criterion) for r in chosen)
    return tuple(int(v) for v in verdicts if v is not None)
