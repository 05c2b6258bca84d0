"""Demo dose data: synthetic reports over the twelve months before today (idempotent).

A few reports are generated and parsed once per process (one per fluoroscopy profile and one CT report) and
then varied in place for every demo report: new identifiers, patient, device, operator and date; a subset of
the irradiation events; doses drawn log-normally around the profile's published median, as the generator
does. Every description maps to a catalogue procedure id. The data include:

* patients treated in series of three (so the 12-week per-patient sums add up something),
* three lumbar medial branch blocks at the dose reported with a pedal not controlled by the physician
  (5.31 Gy·cm², 72 s; J Korean Med Sci 2016;31:S55), well above the local median,
* one patient (``DEMO-ALERT``) with three long vertebroplasty sessions within twelve weeks whose summed DAP
  reaches the OpenREM 200 Gy·cm² alert level while no single report does (synthetic values chosen for the
  demonstration, not a published figure),
* one real, anonymised Siemens AXIOM Artis report from pyskindose's own example data (MIT licence; shipped
  inside the installed pyskindose package, so nothing is downloaded), with its peak skin dose and skin-dose
  map estimated at seeding: the synthetic devices have no geometry pyskindose knows.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from importlib.resources import files
from typing import TYPE_CHECKING

from painguide.dose.generator import FLUORO_PROFILES, ct_report, fluoro_report
from painguide.dose.models import DoseReport, DoseTotals, IrradiationEvent
from painguide.dose.rdsr import parse_dataset, read_dose_report
from painguide.dose.service import procedure_matcher, procedure_type_of, skin_dose_of
from painguide.dose.skin import not_estimable, unmet_skin_reasons
from painguide.store.uow import UnitOfWork

if TYPE_CHECKING:
    from painguide.dose.procedures import ProcedureMatcher

__all__ = ["ALERT_PATIENT", "DEMO_SOURCE", "demo_reports", "seed_demo_data"]

DEMO_SOURCE = "demo"
ALERT_PATIENT = "DEMO-ALERT"
_OPERATORS = ("Demo^Physician", "Demo^Fellow", "Demo^Consultant")
_DEVICES = (
    ("Siemens", "Cios Alpha", "CARM01", "10101"),
    ("Philips", "Zenition 70", "CARM02", "20202"),
    ("GE Healthcare", "OEC 3D", "CARM03", "30303"),
)
# RIS texts as sites write them; each maps to the procedure id it is listed under.
_DESCRIPTIONS = {
    "lumbar-tfesi": (
        "Lumbar TFESI L4/5 right",
        "Lumbale transforaminale Steroidinjektion L5/S1",
        "Lumbar SNRB",
    ),
    "caudal-esi": ("Caudal ESI", "Kaudale epidurale Injektion"),
    "lumbar-facet-mbb": ("Lumbar medial branch block L3-L5", "MBB lumbar bilateral", "Facettenblockade LWS"),
    "cervical-facet-mbb": ("Cervical MBB C5/6", "Zervikale Medial-Branch-Blockade", "TON block right"),
    "sij-ia": ("SIJ injection left", "ISG-Infiltration rechts"),
}
_HIGH_MBB = (5.31, 72.0)  # DAP Gy·cm², fluoroscopy time s; J Korean Med Sci 2016;31:S55
_ALERT_SESSION = (75.0, 420.0)  # synthetic: three sessions reach the 200 Gy·cm² alert together
_ALERT_INDICES = frozenset({21, 25, 29})  # about four weeks apart: inside one 12-week window


@lru_cache(maxsize=1)
def _templates() -> dict[str, DoseReport]:
    """One parsed report per fluoroscopy profile and one CT report (generated once per process)."""

    templates = {
        key: parse_dataset(fluoro_report(seed=5000 + i, events=14, procedure=key, acquisitions=2))
        for i, key in enumerate(sorted(FLUORO_PROFILES))
    }
    templates["ct"] = parse_dataset(ct_report(seed=5999, events=3))
    return templates


def _uid(rng: random.Random) -> str:
    return f"2.25.{uuid.UUID(int=rng.getrandbits(128)).int}"


def _sum(values: list[float | None]) -> float:
    return sum(v or 0.0 for v in values)


def _projection_events(
    rng: random.Random, template: DoseReport, when: datetime, dap: float, time_s: float
) -> tuple[tuple[IrradiationEvent, ...], DoseTotals]:
    """A subset of the template's events, shifted to ``when`` and scaled to the drawn DAP and time."""
    fluoro = [e for e in template.events if e.event_type == "fluoroscopy"]
    acquisitions = [e for e in template.events if e.event_type != "fluoroscopy"]
    chosen = sorted(rng.sample(fluoro, rng.randrange(3, len(fluoro) + 1)), key=lambda e: e.index)
    chosen += acquisitions[: rng.randrange(0, len(acquisitions) + 1)]
    dap_scale = dap / _sum([e.dap_gy_cm2 for e in chosen])
    time_scale = time_s / max(_sum([e.duration_s for e in chosen if e.event_type == "fluoroscopy"]), 1e-6)
    start = template.events[0].started or when
    events = []
    for index, event in enumerate(chosen):
        is_fluoro = event.event_type == "fluoroscopy"
        events.append(
            replace(
                event,
                index=index,
                uid=_uid(rng),
                started=when + ((event.started or start) - start),
                dap_gy_cm2=(event.dap_gy_cm2 or 0.0) * dap_scale,
                rp_dose_mgy=(event.rp_dose_mgy or 0.0) * dap_scale,
                duration_s=round((event.duration_s or 0.0) * time_scale, 2)
                if is_fluoro
                else event.duration_s,
                pulses=max(1.0, round((event.pulses or 1.0) * time_scale)) if is_fluoro else event.pulses,
            )
        )
    fluoro_events = [e for e in events if e.event_type == "fluoroscopy"]
    acquisition_events = [e for e in events if e.event_type != "fluoroscopy"]
    totals = DoseTotals(
        dap_total_gy_cm2=_sum([e.dap_gy_cm2 for e in events]),
        fluoro_dap_gy_cm2=_sum([e.dap_gy_cm2 for e in fluoro_events]),
        acquisition_dap_gy_cm2=_sum([e.dap_gy_cm2 for e in acquisition_events]),
        rp_dose_total_mgy=_sum([e.rp_dose_mgy for e in events]),
        fluoro_time_s=_sum([e.duration_s for e in fluoro_events]),
        acquisition_time_s=_sum([e.duration_s for e in acquisition_events]),
        event_count=len(events),
    )
    return tuple(events), totals


def _ct_events(
    rng: random.Random, template: DoseReport, when: datetime
) -> tuple[tuple[IrradiationEvent, ...], DoseTotals]:
    scale = rng.lognormvariate(0.0, 0.3)
    start = template.events[0].started or when
    events = tuple(
        replace(
            e,
            uid=_uid(rng),
            started=when + ((e.started or start) - start),
            ctdivol_mgy=None if e.ctdivol_mgy is None else e.ctdivol_mgy * scale,
            dlp_mgy_cm=None if e.dlp_mgy_cm is None else e.dlp_mgy_cm * scale,
        )
        for e in template.events
    )
    totals = replace(template.totals, dlp_total_mgy_cm=(template.totals.dlp_total_mgy_cm or 0.0) * scale)
    return events, totals


def _dose(rng: random.Random, key: str, index: int, patient: str) -> tuple[float, float, str | None]:
    """DAP (Gy·cm²), fluoroscopy time (s) and a description override for one fluoroscopy report."""

    if patient == ALERT_PATIENT:
        return (
            _ALERT_SESSION[0] * rng.uniform(0.95, 1.1),
            _ALERT_SESSION[1],
            f"Vertebroplastie LWK {index % 3 + 1}",
        )
    profile = FLUORO_PROFILES[key]
    median_dap, median_time = profile.median_dap_gy_cm2, profile.median_fluoro_time_s
    if key == "lumbar-facet-mbb" and index % 3 == 2:  # the last of a series: a few reports, not a whole group
        median_dap, median_time = _HIGH_MBB
    dap = median_dap * rng.lognormvariate(0.0, 0.5 if median_dap < 5 else 0.15)
    return dap, max(1.0, median_time * rng.lognormvariate(0.0, 0.5)), None


def _one(rng: random.Random, index: int, when: datetime, templates: dict[str, DoseReport]) -> DoseReport:
    block = index // 3  # patients come in series of three
    keys = sorted(FLUORO_PROFILES)
    patient = ALERT_PATIENT if index in _ALERT_INDICES else f"DEMO-{block % 20:03d}"
    key = "ct" if index % 12 == 11 and patient != ALERT_PATIENT else keys[block % len(keys)]
    template = templates[key]
    description = template.study_description
    if key == "ct":
        events, totals = _ct_events(rng, template, when)
    else:
        dap, time_s, override = _dose(rng, key, index, patient)
        events, totals = _projection_events(rng, template, when, dap, time_s)
        description = override or rng.choice(_DESCRIPTIONS[key])
    manufacturer, model, station, serial = _DEVICES[index % len(_DEVICES)]
    return replace(
        template,
        sop_instance_uid=_uid(rng),
        study_instance_uid=_uid(rng),
        study_datetime=when,
        accession_number=f"DEMO{index:05d}",
        study_description=description,
        operator=None if key == "ct" else _OPERATORS[block % len(_OPERATORS)],
        patient=replace(template.patient, patient_id=patient, name=f"DEMO^{patient}"),
        device=template.device
        if key == "ct"
        else replace(template.device, manufacturer=manufacturer, model=model, station=station, serial=serial),
        totals=totals,
        events=events,
    )


@lru_cache(maxsize=2)
def demo_reports(today: date, count: int = 60) -> tuple[DoseReport, ...]:
    """``count`` demo reports spread over the twelve months before ``today`` (cached per process).

    Parameters
    ----------
    today : date
        The last report is dated the working day before it.
    count : int
        Number of reports (at least 24 for every scenario of the module docstring to appear).

    Returns
    -------
    tuple of DoseReport
        In date order.
    """
    rng = random.Random(today.toordinal())
    templates = _templates()
    first = datetime.combine(today - timedelta(days=365), datetime.min.time())
    step = timedelta(days=364) / max(count, 1)
    reports = []
    for index in range(count):
        when = (first + step * (index + 1)).replace(hour=8 + index % 8, minute=(index * 17) % 60)
        reports.append(_one(rng, index, when, templates))
    return tuple(reports)


def seed_demo_data(uow: UnitOfWork, count: int = 60, today: date | None = None) -> None:
    """Add ``count`` demo reports unless demo reports exist (the caller commits)."""

    if uow.dose.has_source(DEMO_SOURCE):
        return
    matcher = procedure_matcher()
    for report in demo_reports(today or date.today(), count):
        (report_id,) = uow.dose.add([(report, DEMO_SOURCE, procedure_type_of(report, matcher))])
        reasons = unmet_skin_reasons(
            report
        )  # the demo devices have no pyskindose geometry: the reasons say so
        if reasons:
            uow.dose.save_skin(report_id, not_estimable(reasons))
    _seed_skin_example(uow, matcher, today or date.today())


#: pyskindose's example report of a Siemens AXIOM Artis procedure (DAP about 2.8 Gy·cm², 74 s fluoroscopy).
SKIN_EXAMPLE = "example_data/RDSR/siemens_axiom_example_procedure.dcm"


def _seed_skin_example(uow: UnitOfWork, matcher: ProcedureMatcher, today: date) -> None:
    """Add pyskindose's example report with its skin dose estimate (about a second of pyskindose), dated a
    month before ``today`` like the other demo reports (the file says 2017); its description stays as the
    file has it, so it shows as a report no catalogue procedure names."""
    try:
        data = files("pyskindose").joinpath(SKIN_EXAMPLE).read_bytes()
    except (ModuleNotFoundError, OSError):  # pragma: no cover - pyskindose is a pinned dependency
        return
    when = datetime.combine(today - timedelta(days=30), datetime.min.time()).replace(hour=10)
    report = replace(read_dose_report(data), study_datetime=when)
    (report_id,) = uow.dose.add([(report, DEMO_SOURCE, procedure_type_of(report, matcher))])
    uow.dose.save_skin(report_id, skin_dose_of(data, report))
