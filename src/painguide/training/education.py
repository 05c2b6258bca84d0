"""Continuing education: courses and credits, requirements per role and period, reminders, and the
radiation-protection qualification that decides who may sign a radiation justification.

Pure functions over frozen dataclasses. Requirements come from
:class:`~painguide.training.policy.EducationPolicy` (data); a period is a rolling window of months ending on
the day asked about.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from painguide.catalogue.models import Modality
from painguide.errors import ValidationError
from painguide.i18n.marks import N_
from painguide.training.policy import Requirement, StaffRole

__all__ = [
    "Course",
    "JustificationEligibility",
    "RadiationQualification",
    "RequirementStatus",
    "add_months",
    "can_sign_justification",
    "refresher_due_date",
    "requirement_status",
]


def add_months(day: date, months: int) -> date:
    """``day`` moved by ``months`` (negative: back), clamped to the month's last day.

    Examples
    --------
    >>> add_months(date(2026, 3, 31), -1), add_months(date(2024, 2, 29), 12)
    (datetime.date(2026, 2, 28), datetime.date(2025, 2, 28))
    """
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(day.day, calendar.monthrange(year, month + 1)[1]))


@dataclass(frozen=True, slots=True)
class Course:
    """A course attended: date, provider, topic, modality (if any) and hours credited."""

    person: str
    attended_on: date
    provider: str
    topic: str
    hours: float
    modality: Modality | None = None

    def __post_init__(self) -> None:
        if not self.hours > 0:
            raise ValidationError(
                "hours", N_("expected a positive number of hours, got %(value)s"), value=repr(self.hours)
            )


@dataclass(frozen=True, slots=True)
class RequirementStatus:
    """How far a person is with one requirement on a given day, and by when the missing hours are due."""

    requirement: Requirement
    hours_done: float
    hours_missing: float
    period_start: date
    due_by: date

    @property
    def met(self) -> bool:
        """All hours done within the period."""
        return self.hours_missing <= 0

    def to_dict(self) -> dict[str, object]:
        """JSON form."""
        return {
            "requirement": self.requirement.id,
            "hours_done": self.hours_done,
            "hours_missing": self.hours_missing,
            "met": self.met,
            "period_start": self.period_start.isoformat(),
            "due_by": self.due_by.isoformat(),
            "source": self.requirement.source,
            "status": self.requirement.status,
        }


def _counts(course: Course, requirement: Requirement) -> bool:
    return (requirement.topic is None or course.topic == requirement.topic) and (
        requirement.modality is None or course.modality == requirement.modality
    )


def requirement_status(
    courses: Iterable[Course],
    requirements: Iterable[Requirement],
    *,
    roles: Iterable[StaffRole],
    on_date: date,
) -> tuple[RequirementStatus, ...]:
    """Every requirement of the person's roles, with hours done in the rolling period ending ``on_date``.

    ``due_by`` is when the oldest counted course leaves the period (the day hours start to be missing
    again) while the requirement is met, and ``on_date`` itself when hours are missing now: a reminder lists
    the statuses that are not met or whose ``due_by`` is near.
    """
    held = set(roles)
    attended = [c for c in courses if c.attended_on <= on_date]
    statuses = []
    for requirement in requirements:
        if not held.intersection(requirement.roles):
            continue
        start = add_months(on_date, -requirement.period_months)
        counted = sorted(
            (c for c in attended if c.attended_on > start and _counts(c, requirement)),
            key=lambda c: c.attended_on,
        )
        done = sum(c.hours for c in counted)
        missing = max(0.0, requirement.min_hours - done)
        due = on_date
        if missing == 0:
            # The requirement stays met until dropping the oldest courses leaves too few hours.
            remaining = done
            for course in counted:
                remaining -= course.hours
                if remaining < requirement.min_hours:
                    due = add_months(course.attended_on, requirement.period_months)
                    break
        statuses.append(RequirementStatus(requirement, done, missing, start, due))
    return tuple(statuses)


@dataclass(frozen=True, slots=True)
class RadiationQualification:
    """A physician's radiation-protection qualification (e.g. German *Fachkunde im Strahlenschutz*).

    ``refresher_due`` is the last day it is valid without a refresher course (from the certificate, or
    :func:`refresher_due_date` where a site sets the interval). ``modalities`` limits the scope; empty means
    every X-ray modality.
    """

    holder: str
    acquired_on: date
    refresher_due: date | None
    modalities: tuple[Modality, ...] = ()
    revoked_on: date | None = None


def refresher_due_date(last_course: date, interval_years: int | None) -> date | None:
    """The refresher date from the last qualifying course and the site's interval (``None`` if unset).

    Examples
    --------
    >>> refresher_due_date(date(2021, 6, 30), 5), refresher_due_date(date(2021, 6, 30), None)
    (datetime.date(2026, 6, 30), None)
    """
    return None if interval_years is None else add_months(last_course, 12 * interval_years)


@dataclass(frozen=True, slots=True)
class JustificationEligibility:
    """Whether the holder may sign a radiation justification on a day, and every reason if not."""

    allowed: bool
    reasons: tuple[str, ...]
    valid_until: date | None

    def __bool__(self) -> bool:
        return self.allowed


def can_sign_justification(
    qualification: RadiationQualification | None, on_date: date, *, modality: Modality | None = None
) -> JustificationEligibility:
    """May the holder sign a radiation justification on ``on_date`` (for ``modality``)? Lists every reason.

    Examples
    --------
    >>> q = RadiationQualification("dr-a", date(2020, 1, 10), refresher_due=date(2025, 1, 10))
    >>> bool(can_sign_justification(q, date(2025, 1, 10)))
    True
    >>> can_sign_justification(q, date(2025, 1, 11)).reasons
    ('radiation-protection qualification: refresher was due on 2025-01-10: record a refresher course',)
    """
    if qualification is None:
        return JustificationEligibility(
            False, ("radiation-protection qualification: none recorded for this physician",), None
        )
    q, reasons = qualification, []
    if on_date < q.acquired_on:
        reasons.append(f"radiation-protection qualification: acquired only on {q.acquired_on.isoformat()}")
    if q.refresher_due is None:
        reasons.append("radiation-protection qualification: no refresher date recorded: record it")
    elif on_date > q.refresher_due:
        reasons.append(
            f"radiation-protection qualification: refresher was due on {q.refresher_due.isoformat()}: "
            "record a refresher course"
        )
    if q.revoked_on is not None and on_date >= q.revoked_on:
        reasons.append(f"radiation-protection qualification: revoked on {q.revoked_on.isoformat()}")
    if modality is not None and q.modalities and modality not in q.modalities:
        reasons.append(
            f"radiation-protection qualification: does not cover {modality} "
            f"(covers {', '.join(q.modalities)})"
        )
    return JustificationEligibility(not reasons, tuple(reasons), q.refresher_due)
