"""From performed procedures and their follow-ups to what the outcome figures count (pure).

* :func:`responder_inputs`: one :class:`~painguide.outcomes.responders.FollowUp` per procedure, at the
  follow-up scheduled ``days_after`` the procedure (the case's baseline NRS against the NRS then, and the
  PGIC then).
* :func:`relief_durations`: one :class:`~painguide.outcomes.survival.ReliefDuration` per procedure with at
  least one recorded follow-up after the day of the procedure. Relief counts while the relief in percent
  (recorded, else computed from the NRS against the baseline) reaches ``min_relief_percent``: the first
  follow-up below it ends the relief at its day (an event); relief still present at the last recorded
  follow-up is censored at that day. The true end lies between two visits; the figure uses the visit day
  (documented in docs/outcomes.md).
* :class:`PatientAnswers`: what a patient enters through a one-time link (NRS and PGIC), and
  :func:`link_problem`, the one reason a link cannot be used (the page shows the same text for all).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from painguide.outcomes.responders import PGIC, FollowUp
from painguide.outcomes.survival import ReliefDuration
from painguide.training.records import PerformedCase

__all__ = [
    "LinkState",
    "PatientAnswers",
    "follow_up_days",
    "hash_token",
    "link_problem",
    "new_token",
    "relief_durations",
    "responder_inputs",
]


def follow_up_days(cases: Iterable[PerformedCase]) -> list[int]:
    """Days after the procedure at which follow-ups were recorded, most frequent first (then earliest)."""
    counts: dict[int, int] = {}
    for case in cases:
        for follow_up in case.recorded_follow_ups():
            counts[follow_up.days_after] = counts.get(follow_up.days_after, 0) + 1
    return sorted(counts, key=lambda d: (-counts[d], d))


def responder_inputs(cases: Iterable[PerformedCase], *, days_after: int) -> list[FollowUp]:
    """The follow-up recorded ``days_after`` the procedure, per procedure that has one."""
    out = []
    for case in cases:
        for follow_up in case.recorded_follow_ups():
            if follow_up.days_after != days_after or follow_up.result is None:
                continue
            out.append(
                FollowUp(
                    baseline_nrs=case.baseline_nrs,
                    followup_nrs=follow_up.result.nrs,
                    pgic=follow_up.result.pgic,
                    procedure_id=case.procedure_id,
                    modality=case.modality,
                    operator=case.operator,
                )
            )
            break
    return out


def relief_durations(cases: Iterable[PerformedCase], *, min_relief_percent: float) -> list[ReliefDuration]:
    """Days of relief per procedure (see the module text); procedures without a later follow-up are left out.

    Examples
    --------
    >>> from datetime import UTC, date, datetime
    >>> from painguide.pathway.models import FollowUp as Due, FollowUpResult, ProcedureRecord
    >>> rec = ProcedureRecord(performed_at=datetime(2026, 1, 5, tzinfo=UTC), operator="dr-a",
    ...                       modality="fluoroscopy", side="left")
    >>> def due(days, nrs):
    ...     return Due(due_on=date(2026, 1, 5), days_after=days,
    ...                result=FollowUpResult(on=date(2026, 1, 5), nrs=nrs)), None
    >>> case = PerformedCase(1, 1, "P", "lumbar-tfesi", "lumbar", "fluoroscopy", "PG1", rec, 8, None,
    ...                      (due(14, 2), due(90, 7)))
    >>> [(d.days, d.ended) for d in relief_durations([case], min_relief_percent=30)]
    [(90.0, True)]
    """
    out = []
    for case in cases:
        visits = [f for f in case.recorded_follow_ups() if f.days_after > 0]
        if not visits:
            continue
        ended_at: int | None = None
        last_relieved = 0
        for follow_up in visits:
            assert follow_up.result is not None
            relief = follow_up.result.relief(case.baseline_nrs)
            if relief is None:
                continue
            if relief + 1e-9 < min_relief_percent:
                ended_at = follow_up.days_after
                break
            last_relieved = follow_up.days_after
        if ended_at is None and last_relieved == 0:
            continue  # no follow-up said anything about relief
        out.append(
            ReliefDuration(
                days=float(ended_at if ended_at is not None else last_relieved),
                ended=ended_at is not None,
                procedure_id=case.procedure_id,
                modality=case.modality,
                operator=case.operator,
            )
        )
    return out


# ------------------------------------------------------------------------------------------ patient links


class PatientAnswers(BaseModel):
    """What a patient answers through the one-time link: pain now (NRS 0-10) and the PGIC."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    nrs: int = Field(ge=0, le=10)
    pgic: PGIC


def new_token() -> tuple[str, str]:
    """A fresh link token (256 random bits, URL-safe) and the SHA-256 that is stored instead of it."""
    token = secrets.token_urlsafe(32)
    return token, hash_token(token)


def hash_token(token: str) -> str:
    """The stored form of a token: its SHA-256 in hex.

    Examples
    --------
    >>> hash_token("abc")[:16]
    'ba7816bf8f01cfea'
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


@dataclass(frozen=True, slots=True)
class LinkState:
    """What decides whether a link may be used."""

    expires_at: datetime
    used_at: datetime | None
    revoked_at: datetime | None
    recorded: bool


def link_problem(state: LinkState | None, now: datetime) -> str | None:
    """Why a link cannot be used (``None``: it can). For the log; the patient sees one text for all reasons.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> s = LinkState(datetime(2026, 1, 2, tzinfo=UTC), None, None, False)
    >>> link_problem(s, datetime(2026, 1, 1, tzinfo=UTC)), link_problem(s, datetime(2026, 1, 2, tzinfo=UTC))
    (None, 'expired')
    """
    if state is None:
        return "unknown"
    if state.used_at is not None:
        return "used"
    if state.revoked_at is not None:
        return "revoked"
    if now >= state.expires_at:
        return "expired"
    if state.recorded:
        return "recorded"
    return None
