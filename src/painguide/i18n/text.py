"""Texts in the reader's language for pure modules (charts, reports): a protocol and its English default.

Pure modules must not import the web layer, so a chart takes a :class:`Texts` (the web layer's
``Translator`` satisfies it) and writes ``t.gettext("English text")``; ``make messages`` extracts those calls
(Babel's ``gettext`` keyword) from the files listed in ``babel.cfg``. Without a translator the text stays
English. Strings kept in tables are marked with :func:`N_` and translated where they are shown.
"""

from __future__ import annotations

from functools import cache
from typing import Protocol

from babel.numbers import get_decimal_symbol, get_group_symbol

from painguide.i18n.marks import N_

__all__ = ["ENGLISH", "N_", "English", "Texts", "number", "plotly_separators"]


class Texts(Protocol):
    """What a pure module needs to write for a reader: the language, messages and data-value words."""

    @property
    def language(self) -> str: ...

    def gettext(self, message: str, **variables: object) -> str: ...

    def label(self, value: object) -> str: ...


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
