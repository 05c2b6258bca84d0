"""One exception hierarchy for painguide.

Every message names the field (or file, or key) that is wrong and says how to fix it. The CLI maps these
classes to exit codes in one place (:mod:`painguide.cli`), the web app to HTTP status codes in one handler
(:mod:`painguide.web.app`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NotRequired, Self, TypedDict

__all__ = [
    "AuditChainError",
    "CatalogueError",
    "ConfigurationError",
    "DataFileError",
    "DatabaseUnavailableError",
    "DicomError",
    "FieldError",
    "GateError",
    "ImportRejectedError",
    "NotFoundError",
    "PainguideError",
    "Param",
    "PermissionDeniedError",
    "SourceUnavailableError",
    "TooManyAttemptsError",
    "UnknownDrugError",
    "UnknownProcedureError",
    "UnmetDict",
    "UploadTooLargeError",
    "ValidationError",
]


class UnmetDict(TypedDict):
    """One unmet reason of a refusal: the stable ``{code, message, source}``, and where the message has a
    template, its English ``text`` and ``params`` (a page shows the message in the reader's language)."""

    code: str
    message: str
    source: str | None
    text: NotRequired[str]
    params: NotRequired[dict[str, str | list[str] | dict[str, str]]]


Param = str | int | float


class PainguideError(Exception):
    """Base class of all errors painguide reports to a user.

    Attributes
    ----------
    exit_code : int
        Process exit code used by the CLI.
    http_status : int
        HTTP status used by the web app.
    """

    exit_code: int = 1
    http_status: int = 400
    text: str = ""
    """The English template of the message (``%(name)s`` placeholders) that a page translates, if any."""
    params: dict[str, Param]

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
        self.params = {}

    def __str__(self) -> str:
        return self.message

    @classmethod
    def templated(cls, text: str, /, **params: Param) -> Self:
        """The error whose message is the English template ``text`` (marked with ``N_``) filled from
        ``params``; the API and the CLI show it so, and a page in its reader's language
        (``Translator.error``)."""
        exc = cls(text % params)
        exc.text, exc.params = text, params
        return exc


class ConfigurationError(PainguideError):
    """A setting is missing, malformed or unsafe (for example a default secret outside demo mode)."""

    exit_code = 78


class DataFileError(PainguideError):
    """A catalogue data file or a site policy file is malformed.

    The message names the file, the key and what is expected; start-up stops.
    """

    exit_code = 78

    def __init__(self, path: str, key: str, expected: str) -> None:
        self.path = path
        self.key = key
        self.expected = expected
        super().__init__(f"{path}: {key}: {expected}")


"""A value filled into a :class:`ValidationError`'s message template."""


class FieldError(PainguideError):
    """An error that names the ``field`` (or file, or key) that is wrong.

    ``message`` is an English template (marked with ``N_`` where a page can show it), filled from
    ``params`` (``%(name)s`` placeholders); ``str(exc)`` is ``"field: filled message"``, the text the API
    and the CLI show. A page shows the template in its reader's language, filled with the same values
    (``Translator.error``). Without ``params`` the message is used as written.

    Examples
    --------
    >>> exc = ValidationError("egfr", "%(value)s is out of range; give %(low)s-%(high)s", value=500.0,
    ...                       low=0, high=200)
    >>> str(exc), exc.field, exc.detail
    ('egfr: 500.0 is out of range; give 0-200', 'egfr', '500.0 is out of range; give 0-200')
    """

    def __init__(self, field: str, message: str, /, **params: Param) -> None:
        self.field = field
        self.detail = message % params if params else message
        super().__init__(f"{field}: {self.detail}")
        self.text = message
        self.params = params


class ValidationError(FieldError):
    """User input is invalid; ``field`` names it (see :class:`FieldError` for the message's template)."""

    exit_code = 2
    http_status = 422

    @classmethod
    def worded(cls, field: str, detail: str, text: str, /, **params: Param) -> ValidationError:
        """The error ``field: detail`` as given (another library's English wording, kept for the API and
        the CLI) that pages show with the template ``text`` filled from ``params`` instead."""
        exc = cls(field, detail)
        exc.text, exc.params = text, params
        return exc


class DatabaseUnavailableError(PainguideError):
    """The database cannot be reached or refuses work for a reason that is not the data's (an outage).

    Nothing is quarantined for it; the message says what was done before the failure and to run again.
    """

    exit_code = 75  # EX_TEMPFAIL: try again later
    http_status = 503


class NotFoundError(PainguideError):
    """A requested object does not exist."""

    exit_code = 2
    http_status = 404


class CatalogueError(NotFoundError):
    """An id is not in the catalogue; the message names the closest matches."""

    def __init__(self, kind: str, value: str, suggestions: Sequence[str]) -> None:
        self.kind = kind
        self.value = value
        self.suggestions = tuple(suggestions)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"unknown {kind} {value!r}.{hint}")


class UnknownProcedureError(CatalogueError):
    """The procedure id is not in the catalogue."""

    def __init__(self, value: str, suggestions: Sequence[str]) -> None:
        super().__init__("procedure", value, suggestions)


class UnknownDrugError(CatalogueError):
    """The drug name is not in the anticoagulant table."""

    def __init__(self, value: str, suggestions: Sequence[str]) -> None:
        super().__init__("drug", value, suggestions)


class DicomError(PainguideError):
    """A DICOM object cannot be used; the message says which attribute or template and why."""

    exit_code = 3
    http_status = 422


class ImportRejectedError(DicomError):
    """A file was refused by an importer (and quarantined with this reason)."""


class GateError(PainguideError):
    """A safety gate refused a step; ``reasons`` lists every unmet condition, not just the first.

    ``unmet`` carries the same reasons as ``{code, message, source}`` mappings where the gate has codes (the
    care pathway's stable contract; the API answers ``{"error": "gate_refused", "unmet": [...]}``).
    """

    exit_code = 4
    http_status = 409

    def __init__(self, step: str, reasons: Sequence[str], *, unmet: Sequence[UnmetDict] = ()) -> None:
        self.step = step
        self.reasons = tuple(reasons)
        self.unmet = tuple(unmet)
        joined = "; ".join(self.reasons)
        super().__init__(f"{step} refused: {joined}")


class PermissionDeniedError(PainguideError):
    """The user is not authenticated or lacks the role for this action."""

    exit_code = 5
    http_status = 403


class SourceUnavailableError(PainguideError):
    """A live source (scanner, OpenIGTLink server, capture device) cannot be reached; the message says why."""

    exit_code = 6
    http_status = 502


class UploadTooLargeError(FieldError):
    """An upload exceeds the size limit of its endpoint (HTTP 413); nothing of it is kept."""

    exit_code = 2
    http_status = 413


class TooManyAttemptsError(PermissionDeniedError):
    """Too many failed sign-ins for an account or an address: wait ``retry_after`` seconds (HTTP 429)."""

    http_status = 429

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class AuditChainError(PainguideError):
    """The audit trail's hash chain is broken: an entry was changed, removed or inserted outside painguide."""

    exit_code = 7
    http_status = 500
