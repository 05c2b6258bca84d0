"""The languages painguide speaks and the choice among them (pure: no web, database or files).

The order of preference for a page: the signed-in user's stored choice, then the choice kept in a cookie
(the sign-in page), then the browser's ``Accept-Language``, then English.
"""

from __future__ import annotations

from painguide.errors import ValidationError
from painguide.i18n.marks import N_

__all__ = ["DEFAULT_LANGUAGE", "LANGUAGES", "check_language", "negotiate"]

LANGUAGES: dict[str, str] = {"en": "English", "de": "Deutsch"}
"""Language code → the language's own name (shown in the language switch)."""

DEFAULT_LANGUAGE = "en"


def check_language(value: str, *, field: str = "language") -> str:
    """``value`` if painguide speaks it, else :class:`~painguide.errors.ValidationError` naming ``field``.

    Examples
    --------
    >>> check_language("de")
    'de'
    >>> check_language("fr")
    Traceback (most recent call last):
    ...
    painguide.errors.ValidationError: language: 'fr' is not offered; choose one of de, en
    """
    code = value.strip().lower()
    if code not in LANGUAGES:
        offered = ", ".join(sorted(LANGUAGES))
        raise ValidationError(
            field,
            N_("%(value)s is not offered; choose one of %(offered)s"),
            value=repr(value),
            offered=offered,
        )
    return code


def _ranges(header: str) -> list[tuple[float, int, str]]:
    """``(-q, position, primary subtag)`` per language range of an Accept-Language header."""
    found: list[tuple[float, int, str]] = []
    for position, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        primary = tag.strip().lower().split("-")[0]
        if primary and quality > 0:
            found.append((-quality, position, primary))
    return sorted(found)


def negotiate(accept_language: str | None) -> str | None:
    """The offered language the browser prefers most (RFC 9110 quality values), or ``None``.

    Examples
    --------
    >>> negotiate("de-DE,de;q=0.9,en;q=0.8")
    'de'
    >>> negotiate("fr-CH, fr;q=0.9, en;q=0.5, de;q=0.7")
    'de'
    >>> negotiate("fr, *;q=0.1") is None
    True
    """
    for _, _, primary in _ranges(accept_language or ""):
        if primary in LANGUAGES:
            return primary
    return None
