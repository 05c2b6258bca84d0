"""Page translation: Babel message catalogues, the request's language, and the Jinja2 helpers.

The catalogues are kept as ``locale/{de,en}/LC_MESSAGES/messages.po`` in the package and compiled in memory
with Babel's own API when first used (``create_app`` does it at start-up, so a broken catalogue stops
start-up). Templates write ``{{ _("English text") }}``; Jinja2's i18n extension is installed with the
new-style gettext, so ``_("%(n)s reports", n=count)`` escapes ``n`` and a literal percent sign is ``%%``.
Routes translate their own messages with ``_ = gettext_for(request)``. docs/i18n.md tells how to extract
and translate.
"""

from __future__ import annotations

import gettext as _gettext
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING, Any

from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.numbers import format_decimal
from fastapi import Request
from jinja2 import pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from painguide.dose.skin import NOT_ESTIMABLE
from painguide.errors import DataFileError, FieldError, PainguideError
from painguide.i18n import DEFAULT_LANGUAGE, LANGUAGES, negotiate
from painguide.i18n.text import event_detail, filled, number
from painguide.web.labels import FIELDS, LABELS

if TYPE_CHECKING:
    from painguide.dose.models import PeakSkinNote, SkinDose
    from painguide.sono.pipeline import Event

__all__ = [
    "COOKIE",
    "LOCALE_DIR",
    "Translator",
    "catalogue_path",
    "gettext_for",
    "load_catalogues",
    "request_language",
    "template_context",
    "translator",
]

LOCALE_DIR = Path(__file__).with_name("locale")
COOKIE = "painguide_lang"
"""The cookie that keeps the language chosen before sign-in (and mirrors the stored choice after it)."""


def catalogue_path(language: str) -> Path:
    """The ``messages.po`` of ``language`` inside the package."""
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


@cache
def translations(language: str) -> _gettext.NullTranslations:
    """``language``'s catalogue, compiled in memory from its ``.po`` file (fuzzy entries are left out)."""
    path = catalogue_path(language)
    try:
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=language, abort_invalid=True)
    except FileNotFoundError:
        raise DataFileError(str(path), "messages.po", "a message catalogue (run `make messages`)") from None
    except PoFileError as exc:
        raise DataFileError(str(path), "messages.po", f"a valid PO file ({exc})") from None
    compiled = BytesIO()
    write_mo(compiled, catalog, use_fuzzy=False)
    compiled.seek(0)
    return _gettext.GNUTranslations(compiled)


def load_catalogues() -> None:
    """Compile every language's catalogue now (start-up), so a broken file stops the app at once."""
    for language in LANGUAGES:
        translations(language)


@dataclass(frozen=True, slots=True)
class Translator:
    """Messages, dates and numbers in one language."""

    language: str

    def gettext(self, message: str, **variables: object) -> str:
        """``message`` translated; ``%(name)s`` placeholders filled from ``variables``."""
        text = translations(self.language).gettext(message)
        return text % variables if variables else text

    def ngettext(self, singular: str, plural: str, n: int, **variables: object) -> str:
        """The singular or plural form for ``n``; ``%(num)d`` is ``n``."""
        text = translations(self.language).ngettext(singular, plural, n)
        return text % {"num": n, **variables}

    def label(self, value: object) -> str:
        """A data value's word (a modality, status, region, …) in this language; unknown values unchanged."""
        text = str(value)
        return self.gettext(LABELS[text]) if text in LABELS else text

    def reason(self, unmet: object) -> str:
        """An unmet gate reason's message in this language: its ``text`` template translated and filled with
        its ``params`` (each value a data word or message id, translated where the catalogue has it); a
        reason stored without a template keeps its English ``message``. ``unmet`` is a
        :class:`~painguide.pathway.gates.Unmet` or its stored ``to_dict()`` form. A data text given by
        language (a policy rule's text) is shown in this language where written, else in English."""
        if isinstance(unmet, Mapping):
            text, params, message = unmet.get("text"), unmet.get("params") or {}, unmet.get("message", "")
        else:
            text, params = getattr(unmet, "text", ""), dict(getattr(unmet, "params", ()))
            message = getattr(unmet, "message", "")
        if not text or self.language == "en":
            return str(message)
        values = {key: self._value(value) for key, value in params.items()}
        try:
            return self.gettext(str(text)) % values
        except (KeyError, TypeError, ValueError):  # a catalogue entry that does not fit its template
            return str(message)

    def error(self, exc: PainguideError) -> str:
        """An error's message in this language: a :class:`~painguide.errors.FieldError` as ``"field:
        message"``, the field by its form label (:meth:`field`) and the template translated and filled with
        its values (a decimal number with this language's decimal sign, a data word such as a modality
        translated); any other error, and a template without a translation, in English."""
        if isinstance(exc, FieldError):
            return f"{self.field(exc.field)}: {self.detail(exc)}"
        return filled(self, exc.text, exc.params, str(exc)) if exc.text else str(exc)

    def field(self, name: str) -> str:
        """An input field's form label in this language (``egfr`` -> "eGFR (mL/min/1.73 m²)"); a field
        without a form label (an API or file field) keeps its id."""
        label = FIELDS.get(name)
        return self.gettext(label).replace("%%", "%") if label else name

    def skin_note(self, skin: SkinDose) -> str:
        """A skin dose's note in this language: "not estimable, because …" with each stored reason
        translated and filled, or a fixed note (pending, estimated on a phantom) translated; a note kept
        without its reasons, and a reason without a translation, in English."""
        if not skin.reasons or self.language == "en":
            return self.gettext(skin.note)
        reasons = "; ".join(filled(self, r.text, r.params, r.english) for r in skin.reasons)
        return self.gettext(NOT_ESTIMABLE, reasons=reasons)

    def peak_skin_note(self, note: PeakSkinNote) -> str:
        """A procedure's peak skin dose note in this language: one report's note (:meth:`skin_note`), the
        reports without an estimate, or the sum's caveat."""
        return note.english if self.language == "en" else note.worded(self.gettext, self.skin_note)

    def event(self, event: Mapping[str, object] | Event) -> str:
        """An ultrasound event's detail in this language: its ``text`` template translated and filled with
        its ``params``; the English ``detail`` where it has no template or no translation. ``event`` is a
        :class:`~painguide.sono.pipeline.Event` or its stored ``record()`` form."""
        record = event if isinstance(event, Mapping) else event.record()
        return event_detail(self, record)

    def detail(self, exc: FieldError) -> str:
        """A :class:`~painguide.errors.FieldError`'s message without its field, in this language."""
        return filled(self, exc.text, exc.params, exc.detail)

    def citation(self, source: object) -> str:
        """A gate reason's source in this language: ``"C20, verified"`` with its status word translated, and
        painguide's own convention named as such (ids and site-policy notes stay as written)."""
        text = str(source)
        head, sep, note = text.partition("; ")
        sources, comma, status = head.rpartition(", ")
        if comma and status in LABELS:
            head = f"{self.label(sources)}, {self.label(status)}"
        return head + sep + note

    def _value(self, value: object) -> str:
        if isinstance(value, list | tuple):
            return "; ".join(map(self._word, value))
        if isinstance(value, Mapping):  # a data text in each language it is written in
            return str(value.get(self.language) or value.get("en", ""))
        return self._word(value)

    def _word(self, value: object) -> str:
        text = str(value)
        if not text:
            return text
        return self.label(text) if text in LABELS else self.gettext(text)

    def provenance(self, fact: Any) -> str:
        """A catalogue fact's short provenance (``N18, verified``, or the site policy that changed it)."""
        override = getattr(fact, "override", None)
        if override is not None:
            return self.gettext(
                "site policy (%(author)s, %(date)s)", author=override.author, date=self.date(override.date)
            )
        source = fact.source or self.gettext("no source")
        return f"{source}, {self.label(fact.status)}"

    def date(self, value: date | datetime | str | None, format: str = "medium") -> str:
        """A date in this language's form (``—`` for none); an ISO date text (a stored record's) is read
        first."""
        if isinstance(value, str):
            value = date.fromisoformat(value) if value else None
        return "—" if value is None else format_date(value, format=format, locale=self.language)

    def datetime(self, value: datetime | None, format: str = "medium") -> str:
        """A date and time in this language's form (``—`` for none)."""
        return "—" if value is None else format_datetime(value, format=format, locale=self.language)

    def number(self, value: float | None, spec: str = "g") -> str:
        """``value`` formatted with the format ``spec`` and this language's decimal sign (``—`` for none)."""
        return "—" if value is None else number(value, self.language, spec)

    def decimal(self, value: float | Decimal | None, format: str | None = None) -> str:
        """A number with this language's decimal sign (``—`` for none); ``format`` is a CLDR pattern."""
        if value is None:
            return "—"
        return format_decimal(value, format=format, locale=self.language)


def request_language(request: Request) -> str:
    """The language of the page: the user's stored choice, the cookie, the browser's, else English."""
    for chosen in (getattr(request.state, "language", None), request.cookies.get(COOKIE)):
        if isinstance(chosen, str) and chosen in LANGUAGES:
            return chosen
    return negotiate(request.headers.get("accept-language")) or DEFAULT_LANGUAGE


def translator(request: Request) -> Translator:
    """The translator for ``request``'s language."""
    return Translator(request_language(request))


def gettext_for(request: Request) -> Callable[..., str]:
    """A ``gettext`` in the request's language, for messages built in routes (``_ = gettext_for(r)``)."""
    return translator(request).gettext


def _jinja_gettext(t: Translator) -> Callable[..., str]:
    @pass_context
    def gettext(context: Context, message: str, **variables: object) -> str:
        text = t.gettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % variables  # new-style gettext: always a format string, variables escaped

    return gettext


def _jinja_ngettext(t: Translator) -> Callable[..., str]:
    @pass_context
    def ngettext(context: Context, singular: str, plural: str, n: int, **variables: object) -> str:
        text = translations(t.language).ngettext(singular, plural, n)
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % {"num": n, **variables}

    return ngettext


def template_context(request: Request) -> dict[str, object]:
    """Jinja2 context processor: ``_``, ``gettext``, ``ngettext``, ``label``, the formatters, the language."""
    t = translator(request)
    gettext = _jinja_gettext(t)
    return {
        "_": gettext,
        "gettext": gettext,
        "ngettext": _jinja_ngettext(t),
        "lang": t.language,
        "languages": LANGUAGES,
        "format_date": t.date,
        "format_datetime": t.datetime,
        "format_decimal": t.decimal,
        "num": t.number,
        "label": t.label,
        "reason": t.reason,
        "event_detail": t.event,
        "skin_note": t.skin_note,
        "peak_skin_note": t.peak_skin_note,
        "citation": t.citation,
        "provenance": t.provenance,
    }
