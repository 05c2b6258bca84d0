"""Every rule of linking and every way it refuses to guess."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from painguide.pathway.linking import LinkItem, ProcedureKey, decide, modality_of_dose_kind

AT = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)


def proc(pid: int, patient: str = "P-1", *, at: datetime = AT, modality: str = "fluoroscopy",
         study: str | None = None) -> ProcedureKey:  # fmt: skip
    return ProcedureKey(pid, f"PG{pid:08d}", study, patient, at, modality)


def item(**fields: object) -> LinkItem:
    data: dict[str, object] = {
        "kind": "dose",
        "id": 7,
        "patient_id": "P-1",
        "at": AT,
        "modality": "fluoroscopy",
    }
    data.update(fields)
    return LinkItem(**data)  # type: ignore[arg-type]


def test_accession_number_links_first_even_when_the_time_points_elsewhere() -> None:
    procs = [proc(1), proc(2, at=AT + timedelta(days=30))]
    d = decide(item(accession_number="PG00000002"), procs)
    assert (d.outcome, d.procedure_id, d.method) == ("linked", 2, "accession")


def test_accession_number_of_another_patient_is_a_conflict_never_a_link() -> None:
    d = decide(item(accession_number="PG00000001", patient_id="P-9"), [proc(1, "P-1"), proc(2, "P-9")])
    assert (d.outcome, d.procedure_id, d.candidates) == ("conflict", None, (1,))
    assert "patient P-1" in d.reason and "patient P-9" in d.reason


def test_accession_number_without_patient_id_links() -> None:
    d = decide(item(accession_number="PG00000001", patient_id=None), [proc(1)])
    assert (d.outcome, d.method) == ("linked", "accession")


def test_unknown_accession_number_falls_through_to_the_study_uid() -> None:
    d = decide(item(accession_number="RIS-77", study_instance_uid="2.25.1"), [proc(1, study="2.25.1")])
    assert (d.outcome, d.procedure_id, d.method) == ("linked", 1, "study_uid")


def test_study_uid_naming_two_procedures_is_ambiguous() -> None:
    procs = [proc(1, study="2.25.1"), proc(2, study="2.25.1")]
    d = decide(item(study_instance_uid="2.25.1"), procs)
    assert (d.outcome, d.method, d.candidates) == ("ambiguous", "study_uid", (1, 2))


def test_study_uid_of_another_patient_is_a_conflict() -> None:
    d = decide(item(study_instance_uid="2.25.1", patient_id="P-2"), [proc(1, "P-1", study="2.25.1")])
    assert d.outcome == "conflict" and d.method == "study_uid"


def test_patient_and_time_window_link_one_procedure() -> None:
    d = decide(item(at=AT + timedelta(hours=11)), [proc(1)], window=timedelta(hours=12))
    assert (d.outcome, d.procedure_id, d.method) == ("linked", 1, "patient_time")


def test_outside_the_window_is_unmatched() -> None:
    d = decide(item(at=AT + timedelta(hours=13)), [proc(1)], window=timedelta(hours=12))
    assert d.outcome == "unmatched" and "within 12 h" in d.reason


def test_two_procedures_of_the_patient_in_the_window_are_ambiguous() -> None:
    procs = [proc(1), proc(2, at=AT + timedelta(hours=3))]
    d = decide(item(at=AT + timedelta(hours=1)), procs)
    assert (d.outcome, d.candidates) == ("ambiguous", (1, 2))
    assert "PG00000001, PG00000002" in d.reason


def test_window_matching_needs_the_same_modality() -> None:
    procs = [proc(1, modality="ct"), proc(2, modality="fluoroscopy")]
    assert decide(item(modality="fluoroscopy"), procs).procedure_id == 2
    assert decide(item(modality="ultrasound"), procs).outcome == "unmatched"
    assert decide(item(modality=None), procs).outcome == "ambiguous"  # unknown modality: both fit


def test_another_patients_procedure_at_the_same_time_is_not_proposed() -> None:
    assert decide(item(patient_id="P-2"), [proc(1, "P-1")]).outcome == "unmatched"


@pytest.mark.parametrize(
    ("fields", "missing"), [({"patient_id": None}, "patient id"), ({"at": None}, "study date and time")]
)
def test_without_patient_or_time_only_identifiers_can_link(fields: dict[str, object], missing: str) -> None:
    d = decide(item(**fields), [proc(1)])
    assert d.outcome == "unmatched" and missing in d.reason


def test_blank_identifiers_are_ignored() -> None:
    d = decide(item(accession_number="  ", study_instance_uid="", patient_id=" "), [proc(1)])
    assert d.outcome == "unmatched"


def test_a_procedure_unlinked_by_hand_is_not_proposed_again_by_any_rule() -> None:
    procs = [proc(1, study="2.25.1")]
    for fields in ({"accession_number": "PG00000001"}, {"study_instance_uid": "2.25.1"}, {}):
        assert decide(item(**fields), procs, excluded={1}).outcome == "unmatched"
    # the other candidate in the window now stands alone
    procs = [proc(1), proc(2, at=AT + timedelta(hours=2))]
    assert decide(item(), procs, excluded={1}).procedure_id == 2


def test_ultrasound_item_says_cine_in_a_conflict() -> None:
    d = decide(item(kind="sono", study_instance_uid="2.25.1", patient_id="P-2", modality="ultrasound"),
               [proc(1, study="2.25.1", modality="ultrasound")])  # fmt: skip
    assert d.outcome == "conflict" and "the cine names patient P-2" in d.reason


def test_dose_report_kinds_map_to_modalities() -> None:
    assert [modality_of_dose_kind(k) for k in ("fluoro", "radiography", "ct", "mammo")] == [
        "fluoroscopy",
        "fluoroscopy",
        "ct",
        None,
    ]
