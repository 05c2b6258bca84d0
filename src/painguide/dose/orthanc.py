"""Find dose reports on an Orthanc server through its REST API and turn them into import sources.

``POST /tools/find`` (Level ``Instance``, Modality ``SR``, optionally StudyDate from a day on) lists the SR
instances; the SOP Class UID of each comes from ``/instances/{id}/metadata/SopClassUid`` (when the server
does not keep that metadata, the instance is fetched and the parser decides). Instances whose SOP Instance
UID is already stored are not downloaded. Each remaining instance is fetched from ``/instances/{id}/file``
by the import service, which parses, stores and quarantines exactly as for files.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx

from painguide.dose.rdsr import DOSE_SR_SOP_CLASSES
from painguide.dose.service import ImportOutcome, ImportSummary, Progress, Source, UowFactory, import_sources
from painguide.errors import ValidationError

__all__ = [
    "OrthancInstance",
    "OrthancSources",
    "find_dose_instances",
    "import_from_orthanc",
    "orthanc_client",
    "orthanc_sources",
]

_TIMEOUT = httpx.Timeout(30.0, connect=5.0)


@dataclass(frozen=True, slots=True)
class OrthancInstance:
    """One SR instance on the server."""

    orthanc_id: str
    sop_instance_uid: str | None
    sop_class_uid: str | None


@dataclass(frozen=True, slots=True)
class OrthancSources:
    """What an Orthanc query found: sources to import, already stored instances, other SR classes."""

    sources: list[Source]
    already_stored: list[OrthancInstance]
    not_dose: list[OrthancInstance]


def orthanc_client(url: str, user: str | None = None, password: str | None = None) -> httpx.Client:
    """An HTTP client for the Orthanc REST API at ``url`` (basic authentication when a user is given)."""
    auth = httpx.BasicAuth(user, password or "") if user else None
    return httpx.Client(base_url=url.rstrip("/"), auth=auth, timeout=_TIMEOUT)


def _request(client: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """One request; connection and HTTP errors become a :class:`ValidationError` naming the URL and a fix."""
    url = f"{client.base_url}{path}"
    try:
        response = client.request(method, path, **kwargs)
    except httpx.TransportError as exc:
        raise ValidationError(
            "URL",
            f"cannot reach Orthanc at {client.base_url} ({type(exc).__name__}: {exc}); check the address and "
            "port of its REST API (default http://host:8042) and that the server is running",
        ) from exc
    if response.status_code in (401, 403):
        raise ValidationError(
            "--user/--password",
            f"Orthanc at {client.base_url} refused the request (HTTP {response.status_code}); "
            "give a user allowed to read instances",
        )
    if response.status_code >= 400 and response.status_code != 404:
        raise ValidationError(
            "URL", f"{method} {url} answered HTTP {response.status_code}; is this an Orthanc REST API?"
        )
    return response


def find_dose_instances(client: httpx.Client, *, since: date | None = None) -> list[OrthancInstance]:
    """SR instances on the server (studies on or after ``since``), with their SOP class where known."""
    query: dict[str, str] = {"Modality": "SR"}
    if since is not None:
        query["StudyDate"] = f"{since:%Y%m%d}-"
    body = {"Level": "Instance", "Query": query, "Expand": True}
    response = _request(client, "POST", "/tools/find", json=body)
    if response.status_code == 404:
        raise ValidationError("URL", f"{client.base_url}/tools/find not found; is this an Orthanc REST API?")
    instances = []
    for item in response.json():
        orthanc_id = item["ID"] if isinstance(item, dict) else str(item)
        tags = item.get("MainDicomTags", {}) if isinstance(item, dict) else {}
        sop_class = _request(client, "GET", f"/instances/{orthanc_id}/metadata/SopClassUid")
        known = sop_class.text.strip() if sop_class.status_code == 200 else None
        instances.append(OrthancInstance(orthanc_id, tags.get("SOPInstanceUID"), known))
    return instances


def _fetcher(client: httpx.Client, orthanc_id: str) -> Callable[[], bytes]:
    def fetch() -> bytes:
        try:
            response = client.get(f"/instances/{orthanc_id}/file")
            response.raise_for_status()
        except httpx.HTTPError as exc:  # the import service quarantines a source it cannot read
            raise OSError(f"cannot download instance {orthanc_id}: {exc}") from exc
        return response.content

    return fetch


def orthanc_sources(
    client: httpx.Client, stored: Callable[[Collection[str]], set[str]], *, since: date | None = None
) -> OrthancSources:
    """Import sources for the server's dose SRs that are not stored yet.

    Parameters
    ----------
    client : httpx.Client
        From :func:`orthanc_client`.
    stored : callable
        Returns the subset of the given SOP Instance UIDs already in the database.
    since : date, optional
        Only studies on or after this day.

    Returns
    -------
    OrthancSources
    """
    found = find_dose_instances(client, since=since)
    not_dose = [
        i for i in found if i.sop_class_uid is not None and i.sop_class_uid not in DOSE_SR_SOP_CLASSES
    ]
    candidates = [i for i in found if i not in not_dose]
    known = stored({i.sop_instance_uid for i in candidates if i.sop_instance_uid})
    already = [i for i in candidates if i.sop_instance_uid in known]
    sources = [
        Source(f"orthanc:{client.base_url}/instances/{i.orthanc_id}", Path(i.orthanc_id),
               fetch=_fetcher(client, i.orthanc_id))
        for i in candidates
        if i.sop_instance_uid not in known
    ]  # fmt: skip
    return OrthancSources(sources, already, not_dose)


def import_from_orthanc(
    url: str,
    *,
    uow_factory: UowFactory,
    quarantine_dir: Path,
    user: str | None = None,
    password: str | None = None,
    since: date | None = None,
    strict: bool = False,
    actor: str = "system",
    progress: Progress | None = None,
) -> tuple[ImportSummary, int]:
    """Import the server's dose reports that are not stored yet (idempotent on SOP Instance UID).

    Returns
    -------
    summary : ImportSummary
        Instances already stored count as duplicates (they are not downloaded again).
    skipped : int
        SR instances of other SOP classes (not dose reports), left alone.

    Raises
    ------
    ValidationError
        When the server cannot be reached or refuses the credentials (naming the URL and the fix).
    """

    def stored(uids: Collection[str]) -> set[str]:
        with uow_factory() as uow:
            return uow.dose.existing_sop_uids(uids)

    with orthanc_client(url, user, password) as client:
        found = orthanc_sources(client, stored, since=since)
        summary = import_sources(
            found.sources, uow_factory=uow_factory, quarantine_dir=quarantine_dir, strict=strict,
            actor=actor, progress=progress,
        )  # fmt: skip
    summary.outcomes[:0] = [
        ImportOutcome(f"orthanc:{client.base_url}/instances/{i.orthanc_id}", "duplicate", i.sop_instance_uid)
        for i in found.already_stored
    ]
    return summary, len(found.not_dose)
