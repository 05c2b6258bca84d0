"""Which procedure a dose report or an ultrasound analysis belongs to (pure; never a guess).

The rules, in order (docs/pathway.md, "Worklist and linking"):

1. the **accession number** the modality took from the worklist;
2. else the **Study Instance UID** the worklist handed out (or the one recorded with the procedure);
3. else the **patient id** (pseudonym) with the item's time within the procedure's time window (performed
   time, else scheduled time, ± ``window``) and a matching modality.

A rule that finds exactly one procedure links; one that finds several leaves the item for manual linking
(``ambiguous``, with the candidates); an identifier that names a procedure of another patient is a
``conflict`` and is never linked. A procedure the item was unlinked from by hand is not proposed again.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

__all__ = [
    "DEFAULT_WINDOW",
    "ItemKind",
    "LinkDecision",
    "LinkItem",
    "Method",
    "Outcome",
    "ProcedureKey",
    "decide",
    "modality_of_dose_kind",
]

ItemKind = Literal["dose", "sono"]
Method = Literal["accession", "study_uid", "patient_time", "manual"]
Outcome = Literal["linked", "unmatched", "ambiguous", "conflict"]

DEFAULT_WINDOW = timedelta(hours=12)
"""Default time window around a procedure (painguide convention; ``PAINGUIDE_LINK_WINDOW_HOURS``)."""

_DOSE_KIND_MODALITY = {"fluoro": "fluoroscopy", "radiography": "fluoroscopy", "ct": "ct"}


def modality_of_dose_kind(kind: str) -> str | None:
    """The pathway modality a dose report kind comes from (``None`` when unknown).

    Examples
    --------
    >>> modality_of_dose_kind("fluoro"), modality_of_dose_kind("ct"), modality_of_dose_kind("mg")
    ('fluoroscopy', 'ct', None)
    """
    return _DOSE_KIND_MODALITY.get(kind)


@dataclass(frozen=True, slots=True)
class LinkItem:
    """A dose report or ultrasound analysis with the identifiers it carries.

    Attributes
    ----------
    at : datetime or None
        When it was acquired (timezone-aware), from the study date and time.
    modality : str or None
        The pathway modality it comes from (``fluoroscopy``, ``ct``, ``ultrasound``), ``None`` if unknown.
    """

    kind: ItemKind
    id: int
    accession_number: str | None = None
    study_instance_uid: str | None = None
    patient_id: str | None = None
    at: datetime | None = None
    modality: str | None = None


@dataclass(frozen=True, slots=True)
class ProcedureKey:
    """What linking reads of a scheduled or performed procedure (``at``: performed, else scheduled)."""

    id: int
    accession_number: str
    study_instance_uid: str | None
    patient_id: str
    at: datetime
    modality: str


@dataclass(frozen=True, slots=True)
class LinkDecision:
    """The outcome for one item: the procedure and the rule that found it, or why there is none."""

    item: LinkItem
    outcome: Outcome
    procedure_id: int | None = None
    method: Method | None = None
    candidates: tuple[int, ...] = ()
    reason: str = ""

    @property
    def linked(self) -> bool:
        return self.outcome == "linked"


def _clean(value: str | None) -> str | None:
    text = (value or "").strip()
    return text or None


def _by_identifier(
    item: LinkItem, found: list[ProcedureKey], method: Method, what: str
) -> LinkDecision | None:
    """Decide on the procedures an identifier names (``None`` when it names none)."""
    if not found:
        return None
    ids = tuple(sorted(p.id for p in found))
    if len(found) > 1:
        reason = f"{what} names {len(found)} procedures; link by hand"
        return LinkDecision(item, "ambiguous", None, method, ids, reason)
    proc = found[0]
    patient = _clean(item.patient_id)
    if patient is not None and patient != proc.patient_id:
        reason = (
            f"{what} belongs to procedure {proc.accession_number} of patient {proc.patient_id}, "
            f"but the {'report' if item.kind == 'dose' else 'cine'} names patient {patient}; check both"
        )
        return LinkDecision(item, "conflict", None, method, ids, reason)
    return LinkDecision(item, "linked", proc.id, method, ids, f"{what} matches {proc.accession_number}")


def decide(
    item: LinkItem,
    procedures: Sequence[ProcedureKey],
    *,
    window: timedelta = DEFAULT_WINDOW,
    excluded: Collection[int] = (),
) -> LinkDecision:
    """Find the one procedure ``item`` belongs to, or say why there is none.

    Parameters
    ----------
    item : LinkItem
        The dose report or analysis.
    procedures : sequence of ProcedureKey
        Candidate procedures (at least those sharing an identifier or the patient; more do no harm).
    window : timedelta
        How far from the procedure's time an item of the same patient may be.
    excluded : collection of int
        Procedures the item was unlinked from by hand (never proposed again).

    Returns
    -------
    LinkDecision

    Examples
    --------
    >>> from datetime import UTC
    >>> at = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
    >>> procs = [ProcedureKey(1, "PG00000001", None, "P-1", at, "fluoroscopy")]
    >>> decide(LinkItem("dose", 7, patient_id="P-1", at=at, modality="fluoroscopy"), procs).method
    'patient_time'
    >>> decide(LinkItem("dose", 7, patient_id="P-2", at=at), procs).outcome
    'unmatched'
    """
    pool = [p for p in procedures if p.id not in excluded]
    accession = _clean(item.accession_number)
    if accession is not None:
        found = [p for p in pool if p.accession_number == accession]
        if decision := _by_identifier(item, found, "accession", f"accession number {accession}"):
            return decision
    study = _clean(item.study_instance_uid)
    if study is not None:
        found = [p for p in pool if p.study_instance_uid == study]
        if decision := _by_identifier(item, found, "study_uid", f"Study Instance UID {study}"):
            return decision
    return _by_patient_time(item, pool, window)


def _by_patient_time(item: LinkItem, pool: list[ProcedureKey], window: timedelta) -> LinkDecision:
    patient = _clean(item.patient_id)
    hours = window.total_seconds() / 3600
    if patient is None or item.at is None:
        missing = "patient id" if patient is None else "study date and time"
        reason = f"no matching accession number or Study Instance UID, and no {missing}; link by hand"
        return LinkDecision(item, "unmatched", reason=reason)
    assert item.at is not None
    found = [
        p
        for p in pool
        if p.patient_id == patient
        and abs(p.at - item.at) <= window
        and (item.modality is None or p.modality == item.modality)
    ]
    ids = tuple(sorted(p.id for p in found))
    if len(found) == 1:
        proc = found[0]
        reason = f"patient {patient} within {hours:g} h of {proc.accession_number}"
        return LinkDecision(item, "linked", proc.id, "patient_time", ids, reason)
    if found:
        names = ", ".join(sorted(p.accession_number for p in found))
        reason = f"patient {patient} has {len(found)} procedures within {hours:g} h ({names}); link by hand"
        return LinkDecision(item, "ambiguous", None, "patient_time", ids, reason)
    reason = f"no procedure of patient {patient} within {hours:g} h"
    if item.modality is not None:
        reason += f" under {item.modality}"
    return LinkDecision(item, "unmatched", reason=reason + "; link by hand")
