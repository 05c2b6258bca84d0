"""Demo dose data: synthetic reports for three devices and operators over the last year (idempotent)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from painguide.store.uow import UnitOfWork

__all__ = ["DEMO_SOURCE", "seed_demo_data"]

DEMO_SOURCE = "demo"
_OPERATORS = ("Demo^Physician", "Demo^Fellow", "Demo^Consultant")


def seed_demo_data(uow: UnitOfWork, count: int = 60) -> None:
    """Add ``count`` synthetic reports unless demo reports exist (the caller commits)."""
    from painguide.dose.generator import FLUORO_PROFILES, ct_report, fluoro_report
    from painguide.dose.rdsr import parse_dataset
    from painguide.dose.service import procedure_type_of
    from painguide.store.dose_repository import add_report
    from painguide.store.dose_tables import DoseReportRow

    if uow.session.scalar(select(DoseReportRow.id).where(DoseReportRow.source == DEMO_SOURCE).limit(1)):
        return
    keys = sorted(FLUORO_PROFILES)
    start = datetime(2024, 1, 8, 8, 30)
    for index in range(count):
        when = start + timedelta(days=6 * index, hours=index % 5)
        patient = f"DEMO-{index % 15:03d}"
        if index % 12 == 11:
            dataset = ct_report(seed=5000 + index, patient_id=patient, study_datetime=when)
        else:
            dataset = fluoro_report(
                seed=5000 + index,
                events=4 + index % 9,
                procedure=keys[index % len(keys)],
                patient_id=patient,
                study_datetime=when,
                operator=_OPERATORS[index % len(_OPERATORS)],
            )
        report = parse_dataset(dataset)
        add_report(uow.session, report, source=DEMO_SOURCE, procedure_type=procedure_type_of(report))
