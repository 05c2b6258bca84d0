"""HTML form input for the domain's records: the submitted text cleaned into keyword arguments.

Browsers send every field as text: empty fields are left out (so a record's default applies), numbers may
use the decimal comma, check boxes are present or absent, lists are comma-separated, and ``datetime-local``
fields have no time zone (they are read in the site's zone). Validation itself is the record's
(:func:`painguide.pathway.models.build`), so pages, the API and the command line give the same message.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from fastapi import Request

from painguide.errors import ValidationError
from painguide.i18n.marks import N_
from painguide.settings import get_settings

__all__ = ["FormData", "clean", "form_data", "local_datetime", "site_zone"]

FormData = dict[str, object]


async def form_data(request: Request) -> FormData:
    """The submitted form as a plain dict (a repeated name keeps every value as a list)."""
    form = await request.form()
    data: FormData = {}
    for key in form:
        values = [v for v in form.getlist(key) if isinstance(v, str)]
        data[key] = values if len(values) > 1 else (values[0] if values else "")
    return data


def site_zone() -> tzinfo:
    """The zone times entered on pages are read in (the site's zone where one is configured, else UTC)."""

    zone = getattr(get_settings(), "site_zone", None)
    return zone() if callable(zone) else UTC


def local_datetime(field: str, text: str) -> datetime:
    """A ``datetime-local`` value (``2026-03-16T09:00``) read in the site's zone, as UTC."""
    try:
        value = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValidationError(
            field, N_("%(value)s is not a date and time (YYYY-MM-DDTHH:MM)"), value=repr(text)
        ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=site_zone())
    return value.astimezone(UTC)


def clean(
    form: Mapping[str, Any],
    fields: Collection[str],
    *,
    flags: Collection[str] = (),
    numbers: Collection[str] = (),
    lists: Collection[str] = (),
    datetimes: Collection[str] = (),
) -> dict[str, Any]:
    """The keyword arguments of a record from the submitted ``form``.

    Only ``fields`` are read; ``flags`` are check boxes (``True`` when present), ``numbers`` accept a decimal
    comma, ``lists`` are comma-separated, ``datetimes`` are ``datetime-local`` values. Empty text is left
    out.
    """
    out: dict[str, object] = {}
    for name in fields:
        raw = form.get(name)
        if name in flags:
            out[name] = raw not in (None, "", "off", "false")
            continue
        if isinstance(raw, list):
            raw = ",".join(raw)
        text = (raw or "").strip()
        if not text:
            continue
        if name in lists:
            out[name] = tuple(part.strip() for part in text.split(",") if part.strip())
        elif name in numbers:
            out[name] = text.replace(",", ".")
        elif name in datetimes:
            out[name] = local_datetime(name, text)
        else:
            out[name] = text
    return out
