"""DICOM Storage SCP (pynetdicom) that imports received dose reports through the import service.

Only the SR storage classes that can carry an X-ray or CT dose report are accepted, plus Verification
(C-ECHO). Safe defaults: the receiver binds the loopback address unless a host is given, and outside demo
mode it accepts only the calling AE titles configured (or any, when that is said explicitly). TLS is
optional (a certificate and key; with a CA file, callers must present a certificate signed by it). A refused
report is quarantined like a refused file and the sender gets a failure status.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from painguide.dose.rdsr import DOSE_SR_SOP_CLASSES
from painguide.dose.service import ImportOutcome, UowFactory, import_dataset
from painguide.errors import ValidationError

if TYPE_CHECKING:  # pynetdicom loads only when a listener starts (start-up time)
    from pynetdicom.events import Event, EventHandlerType
    from pynetdicom.transport import ThreadedAssociationServer

__all__ = [
    "STATUS_CANNOT_UNDERSTAND",
    "STATUS_SUCCESS",
    "ReceiverConfig",
    "TlsFiles",
    "check_association_settings",
    "make_store_handler",
    "receiver_config",
    "ssl_context",
    "start_receiver",
]

log = logging.getLogger(__name__)
log.addHandler(logging.NullHandler())

STATUS_SUCCESS = 0x0000
STATUS_CANNOT_UNDERSTAND = 0xC000  # Storage Service "Error: cannot understand"
_TRANSFER_SYNTAXES = (
    "1.2.840.10008.1.2",  # Implicit VR Little Endian
    "1.2.840.10008.1.2.1",  # Explicit VR Little Endian
    "1.2.840.10008.1.2.1.99",  # Deflated Explicit VR Little Endian
    "1.2.840.10008.1.2.2",  # Explicit VR Big Endian (retired, still sent by old modalities)
)
_VERIFICATION = "1.2.840.10008.1.1"


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files for DICOM over TLS; with ``ca``, callers must present a certificate signed by it."""

    certificate: Path
    key: Path
    ca: Path | None = None


@dataclass(frozen=True, slots=True)
class ReceiverConfig:
    """Where and as whom the receiver listens, and who may send.

    Attributes
    ----------
    allowed_callers : tuple of str
        Calling AE titles accepted; empty accepts any caller.
    """

    host: str
    port: int
    ae_title: str
    allowed_callers: tuple[str, ...]
    quarantine_dir: Path
    strict: bool = False
    tls: TlsFiles | None = None


def check_association_settings(
    ae_title: str,
    allowed_callers: Sequence[str],
    *,
    accept_any: bool,
    demo: bool,
    tls: TlsFiles | None,
    allowed_to: str,
    setting: str,
) -> tuple[str, tuple[str, ...]]:
    """Our AE title and the allowed calling AE titles of a DICOM service (receiver or worklist), checked.

    Outside demo mode the callers must be named or ``accept_any`` said; TLS files must exist. Errors name the
    command-line option and the fix (``allowed_to`` and ``setting`` word the message for the service).
    """
    title = ae_title.strip()
    if not 0 < len(title) <= 16:
        raise ValidationError("--ae-title", f"{ae_title!r} must be 1 to 16 characters")
    callers = tuple(c.strip() for c in allowed_callers if c.strip())
    if bad := [c for c in callers if len(c) > 16]:
        raise ValidationError("--allow", f"AE titles are at most 16 characters ({', '.join(bad)})")
    if callers and accept_any:
        raise ValidationError("--accept-any", "give either --allow titles or --accept-any, not both")
    if not callers and not accept_any and not demo:
        raise ValidationError(
            "--allow",
            f"name the calling AE titles allowed to {allowed_to} (--allow CARM01, or {setting}), or say "
            "--accept-any to accept every caller",
        )
    if tls is not None:
        for option, path in (("--tls-cert", tls.certificate), ("--tls-key", tls.key), ("--tls-ca", tls.ca)):
            if path is not None and not path.is_file():
                raise ValidationError(option, f"{path} is not a readable file; give a PEM file")
    return title, callers


def receiver_config(
    *,
    host: str,
    port: int,
    ae_title: str,
    allowed_callers: list[str],
    accept_any: bool,
    demo: bool,
    quarantine_dir: Path,
    strict: bool,
    tls: TlsFiles | None = None,
) -> ReceiverConfig:
    """Check the receiver's settings and return its configuration; every problem names its option.

    Outside demo mode a receiver must name the calling AE titles it accepts, or be told ``accept_any``.

    Examples
    --------
    >>> receiver_config(host="127.0.0.1", port=11112, ae_title="PAINGUIDE", allowed_callers=[],
    ...                 accept_any=False, demo=False, quarantine_dir=Path("q"), strict=False)
    ... # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    painguide.errors.ValidationError: --allow: name the calling AE titles allowed to send ... --accept-any ...
    """
    title, callers = check_association_settings(
        ae_title, allowed_callers, accept_any=accept_any, demo=demo, tls=tls,
        allowed_to="send", setting="PAINGUIDE_DICOM_ALLOWED_CALLERS",
    )  # fmt: skip
    return ReceiverConfig(
        host=host,
        port=port,
        ae_title=title,
        allowed_callers=callers,
        quarantine_dir=quarantine_dir,
        strict=strict,
        tls=tls,
    )


def ssl_context(tls: TlsFiles) -> ssl.SSLContext:
    """A server context at TLS 1.2 or newer; callers must present a certificate when a CA is given.

    Shared by the DICOM services (the dose receiver, the worklist).
    """
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH, cafile=str(tls.ca) if tls.ca else None)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(tls.certificate), str(tls.key))
    except (ssl.SSLError, OSError) as exc:
        raise ValidationError("--tls-cert/--tls-key", f"cannot load the certificate and key ({exc})") from exc
    context.verify_mode = ssl.CERT_REQUIRED if tls.ca else ssl.CERT_NONE
    return context


def make_store_handler(
    config: ReceiverConfig,
    uow_factory: UowFactory,
    on_outcome: Callable[[ImportOutcome], None] | None = None,
) -> Callable[[Event], int]:
    """Build the EVT_C_STORE handler: decode, import through the service, answer with a status."""

    def handle_store(event: Event) -> int:
        caller = str(getattr(event.assoc.requestor, "ae_title", "") or "").strip()
        try:
            dataset = event.dataset
            dataset.file_meta = event.file_meta
            outcome = import_dataset(
                dataset,
                label=f"dicom:{caller or 'unknown'}",
                uow_factory=uow_factory,
                quarantine_dir=config.quarantine_dir,
                strict=config.strict,
            )
        except Exception as exc:  # a decoding failure must answer the sender, not kill the association
            log.exception("C-STORE from %s could not be decoded", caller)
            outcome = ImportOutcome(f"dicom:{caller}", "quarantined", reason=f"cannot decode: {exc}")
        if on_outcome is not None:
            on_outcome(outcome)
        return STATUS_CANNOT_UNDERSTAND if outcome.status == "quarantined" else STATUS_SUCCESS

    return handle_store


def start_receiver(
    config: ReceiverConfig,
    uow_factory: UowFactory,
    *,
    on_outcome: Callable[[ImportOutcome], None] | None = None,
) -> ThreadedAssociationServer:
    """Start the Storage SCP in background threads.

    Parameters
    ----------
    config : ReceiverConfig
        Address, AE title, allowed callers, quarantine folder, strictness.
    uow_factory : callable
        Returns a fresh unit of work for each received report.
    on_outcome : callable, optional
        Called with each :class:`~painguide.dose.service.ImportOutcome` (from the association's thread).

    Returns
    -------
    pynetdicom.transport.ThreadedAssociationServer
        Call ``.shutdown()`` to stop it.
    """
    from pynetdicom import AE, evt

    ae = AE(ae_title=config.ae_title)
    for sop_class in DOSE_SR_SOP_CLASSES:
        ae.add_supported_context(sop_class, list(_TRANSFER_SYNTAXES))
    ae.add_supported_context(_VERIFICATION)
    if config.allowed_callers:
        ae.require_calling_aet = list(config.allowed_callers)
    handlers: list[EventHandlerType] = [
        (evt.EVT_C_STORE, make_store_handler(config, uow_factory, on_outcome))
    ]
    context = ssl_context(config.tls) if config.tls is not None else None
    try:
        server = ae.start_server(
            (config.host, config.port), block=False, evt_handlers=handlers, ssl_context=context
        )
    except OSError as exc:
        raise ValidationError(
            "--host/--port", f"cannot listen on {config.host}:{config.port} ({exc.strerror or exc})"
        ) from exc
    assert server is not None  # block=False always returns the running server
    return server
