"""Pydantic's input errors as message templates a page can show in its reader's language.

Pydantic words its errors in English ("Input should be a valid integer, unable to parse string as an
integer"); the API and the CLI keep that wording. A page shows instead the template of the error's ``type``
(marked with :func:`N_`, translated in the catalogues) filled with the error's ``ctx`` values. An error of a
type not listed here keeps pydantic's message.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence

from pydantic_core import ErrorDetails

from painguide.errors import Param, ValidationError
from painguide.i18n.marks import N_

__all__ = ["TEMPLATES", "input_error_text", "one_of", "untemplate"]

_WHOLE = N_("must be a whole number")
_NUMBER = N_("must be a number")
_DATE = N_("is not a valid date (YYYY-MM-DD)")
_DATETIME = N_("is not a valid date and time (YYYY-MM-DDTHH:MM)")
_YES_NO = N_("must be yes or no (true or false)")
_ONE_OF = N_("must be one of %(expected)s")

TEMPLATES: dict[str, str] = {
    "missing": N_("required; fill in this field"),
    "int_parsing": _WHOLE,
    "int_type": _WHOLE,
    "int_from_float": _WHOLE,
    "float_parsing": _NUMBER,
    "float_type": _NUMBER,
    "decimal_parsing": _NUMBER,
    "decimal_type": _NUMBER,
    "finite_number": N_("must be a finite number"),
    "greater_than": N_("must be greater than %(gt)s"),
    "greater_than_equal": N_("must be at least %(ge)s"),
    "less_than": N_("must be less than %(lt)s"),
    "less_than_equal": N_("must be at most %(le)s"),
    "string_type": N_("must be text"),
    "string_too_short": N_("must be at least %(min_length)s characters long"),
    "string_too_long": N_("must be at most %(max_length)s characters long"),
    "string_pattern_mismatch": N_("does not have the expected form (%(pattern)s)"),
    "too_short": N_("must have at least %(min_length)s entries"),
    "too_long": N_("must have at most %(max_length)s entries"),
    "list_type": N_("must be a list"),
    "enum": _ONE_OF,
    "literal_error": _ONE_OF,
    "date_parsing": _DATE,
    "date_type": _DATE,
    "date_from_datetime_parsing": _DATE,
    "date_from_datetime_inexact": N_("must be a date without a time of day"),
    "datetime_parsing": _DATETIME,
    "datetime_type": _DATETIME,
    "datetime_from_date_parsing": _DATETIME,
    "timezone_aware": N_("give a time with its time zone"),
    "bool_parsing": _YES_NO,
    "bool_type": _YES_NO,
    "extra_forbidden": N_("is not a field of this form; leave it out"),
    "json_invalid": N_("is not valid JSON (%(error)s, character %(position)s)"),
}
"""Pydantic's error ``type`` → the English template a page translates (``%(name)s`` from ``ctx``)."""


def input_error_text(error: ErrorDetails, **extra: Param) -> tuple[str, dict[str, Param]]:
    """The template and values of one pydantic ``error`` for a page (``extra`` adds values, such as the
    character position of invalid JSON); pydantic's own message where its type has no template.

    A record's own check (``value_error``) keeps its message as the template: a message marked with
    ``N_`` where it is raised is translated, any other stays English.

    Examples
    --------
    >>> input_error_text({"type": "greater_than_equal", "loc": ("page",), "msg": "…", "input": "0",
    ...                   "ctx": {"ge": 1}})
    ('must be at least %(ge)s', {'ge': 1})
    >>> input_error_text({"type": "literal_error", "loc": (), "msg": "…", "input": "x",
    ...                   "ctx": {"expected": "'de' or 'en'"}})
    ('must be one of %(expected)s', {'expected': "'de', 'en'"})
    """
    template = TEMPLATES.get(error["type"])
    if template is None:
        return str(error["msg"]).removeprefix("Value error, "), {}
    params: dict[str, Param] = {key: _value(value) for key, value in _context(error).items()}
    if "expected" in params:  # pydantic joins the choices in English: "'a', 'b' or 'c'"
        params["expected"] = str(params["expected"]).replace(" or ", ", ")
    return template, {**params, **extra}


def _context(error: ErrorDetails) -> Mapping[str, object]:
    context: Mapping[str, object] = error.get("ctx") or {}
    return context


def _value(value: object) -> Param:
    return value if isinstance(value, str | int | float) else str(value)


def untemplate(message: str, templates: Sequence[str]) -> tuple[str, dict[str, Param]]:
    """The template among ``templates`` that ``message`` was filled from, with the values it was filled
    with; ``message`` itself where none fits (a record's check raises a filled ``ValueError``, whose
    message is all pydantic keeps).

    Examples
    --------
    >>> untemplate("ct uses X-rays", ["%(modality)s uses X-rays"])
    ('%(modality)s uses X-rays', {'modality': 'ct'})
    >>> untemplate("give the date", ["%(modality)s uses X-rays"])
    ('give the date', {})
    """
    for template in templates:
        match = _pattern(template).fullmatch(message)
        if match:
            return template, dict(match.groupdict())
    return message, {}


def _pattern(template: str) -> re.Pattern[str]:
    parts = re.split(r"%\((\w+)\)s", template)  # literal text, name, literal text, name, …
    return re.compile(
        "".join(f"(?P<{part}>.+?)" if i % 2 else re.escape(part) for i, part in enumerate(parts)), re.DOTALL
    )


def one_of(field: str, choices: Iterable[str], value: object) -> ValidationError:
    """The error for a ``value`` that is not one of ``choices``.

    Examples
    --------
    >>> str(one_of("stage", ["referral", "plan"], "x"))
    "stage: one of referral, plan (got 'x')"
    """
    return ValidationError(
        field, N_("one of %(choices)s (got %(value)s)"), choices=", ".join(choices), value=repr(value)
    )
