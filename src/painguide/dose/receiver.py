"""DICOM Storage SCP (pynetdicom) that imports received dose reports through the import service.

Only the SR storage classes that can carry an X-ray or CT dose report are accepted, plus Verification
(C-ECHO). Calling AE titles can be restricted; a refused report is quarantined like a refused file and the
sender gets a failure status.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from painguide.dose.rdsr import DOSE_SR_SOP_CLASSES
from painguide.dose.service import ImportOutcome, UowFactory, import_dataset

__all__ = [
    "STATUS_CANNOT_UNDERSTAND",
    "STATUS_SUCCESS",
    "ReceiverConfig",
    "make_store_handler",
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


def make_store_handler(
    config: ReceiverConfig,
    uow_factory: UowFactory,
    on_outcome: Callable[[ImportOutcome], None] | None = None,
) -> Callable[[Any], int]:
    """Build the EVT_C_STORE handler: decode, import through the service, answer with a status."""

    def handle_store(event: Any) -> int:
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
) -> Any:
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
    handlers: list[Any] = [(evt.EVT_C_STORE, make_store_handler(config, uow_factory, on_outcome))]
    return ae.start_server((config.host, config.port), block=False, evt_handlers=handlers)
