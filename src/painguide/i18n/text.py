"""Texts in the reader's language for pure modules (charts, reports): a protocol and its English default.

Pure modules must not import the web layer, so a chart takes a :class:`Texts` (the web layer's
``Translator`` satisfies it) and writes ``t.gettext("English text")``; ``make messages`` extracts those calls
(Babel's ``gettext`` keyword) from the files listed in ``babel.cfg``. Without a translator the text stays
English. Strings kept in tables are marked with :func:`N_` and translated where they are shown.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import Protocol

from babel.numbers import get_decimal_symbol, get_group_symbol

from painguide.i18n.marks import N_

__all__ = ["ENGLISH", "N_", "English", "Texts", "event_detail", "filled", "number", "plotly_separators"]


class Texts(Protocol):
    """What a pure module needs to write for a reader: the language, messages and data-value words."""

    @property
    def language(self) -> str: ...

    def gettext(self, message: str, **variables: object) -> str: ...

    def label(self, value: object) -> str: ...

    def __hash__(self) -> int: ...  # kept in caches keyed by language (the web's translators are frozen)


class English:
    """The message ids themselves: ``%(name)s`` placeholders filled, data values unchanged."""

    language = "en"

    def gettext(self, message: str, **variables: object) -> str:
        """``message`` with its placeholders filled.

        Examples
        --------
        >>> English().gettext("%(n)s reports", n=3)
        '3 reports'
        """
        return message % variables if variables else message

    def label(self, value: object) -> str:
        """The value as written."""
        return str(value)


ENGLISH = English()


@cache
def plotly_separators(language: str) -> str:
    """Plotly's ``layout.separators`` for ``language``: its decimal sign, then its thousands separator.

    Examples
    --------
    >>> plotly_separators("de"), plotly_separators("en")
    (',.', '.,')
    """
    return _decimal_sign(language) + get_group_symbol(language)


def number(value: float, language: str, spec: str = "g") -> str:
    """``value`` formatted with ``spec`` (no grouping) and ``language``'s decimal sign.

    Examples
    --------
    >>> number(12.72, "de", ".3g"), number(200.0, "en")
    ('12,7', '200')
    """
    return format(value, spec).replace(".", _decimal_sign(language))


@cache
def _decimal_sign(language: str) -> str:
    return str(get_decimal_symbol(language))


def filled(t: Texts, text: str, params: Mapping[str, object], english: str) -> str:
    """The template ``text`` in ``t``'s language filled with ``params`` (a decimal number with the
    language's decimal sign, a data word as its label); ``english`` in English, without a translation, or
    when the translation does not fit its template.

    Examples
    --------
    >>> filled(ENGLISH, "fluid %(area)s mm²", {"area": 2.5}, "fluid 2.5 mm²")
    'fluid 2.5 mm²'
    """
    translated = t.gettext(text)
    if t.language == "en" or translated == text:
        return english
    values = {key: _value(t, value) for key, value in params.items()}
    try:
        return translated % values if values or "%(" in translated else translated
    except (KeyError, TypeError, ValueError):
        return english


def _value(t: Texts, value: object) -> object:
    if isinstance(value, float):
        return number(value, t.language, "")
    return t.label(value) if isinstance(value, str) else value


def event_detail(t: Texts, event: Mapping[str, object]) -> str:
    """A stored ultrasound event's detail (``detail``, with ``text`` and ``params`` where it has a template)
    in ``t``'s language."""
    english = str(event.get("detail", ""))
    text, params = event.get("text"), event.get("params")
    if not isinstance(text, str) or not text:
        return english
    return filled(t, text, params if isinstance(params, Mapping) else {}, english)
