"""`painguide demo seed`, `case show|list` and `user qualify` on the demo data (one seeding per test)."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from painguide.cli import main
from painguide.dose.demo import demo_reports
from painguide.pathway.case import STAGES
from painguide.services import open_uow
from painguide.store.pathway_tables import CaseRow, EntryRow, ProcedureRow
from painguide.store.users import create_user


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(argv))
    out, err = capsys.readouterr()
    return int(done.value.code or 0), out, err


def test_demo_seed_and_case_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "demo", "seed")[0] == 0
    code, out, _ = run(capsys, "case", "list", "--json", "--limit", "200")
    listing = json.loads(out)
    trainee = [c for c in listing["cases"] if c["pseudonym"].startswith("DEMO-TR")]  # the training demo's
    assert code == 0 and len(trainee) == 24 and 45 <= listing["total"] - len(trainee) <= 55
    assert set(Counter(c["stage"] for c in listing["cases"])) == set(STAGES)
    assert run(capsys, "demo", "seed")[0] == 0  # idempotent
    assert json.loads(run(capsys, "case", "list", "--json", "--limit", "200")[1])["total"] == listing["total"]

    with open_uow() as uow:
        procedures = list(uow.session.scalars(select(ProcedureRow)))
        entries = list(
            uow.session.scalars(select(EntryRow).where(EntryRow.kind.in_(("refusal", "override"))))
        )
    assert {p.modality for p in procedures} == {"fluoroscopy", "ct", "ultrasound", "landmark"}
    now = datetime.now(UTC)  # a performed procedure lies in the past, a scheduled one ahead
    performed = [p.performed_at for p in procedures if p.performed_at is not None]
    scheduled = [p.scheduled_at for p in procedures if p.performed_at is None and p.scheduled_at]
    assert len(performed) >= 20 and max(performed) < now < min(scheduled)
    with open_uow() as uow:  # every case was opened before its procedure
        rows = uow.session.execute(select(CaseRow.opened_at, ProcedureRow.scheduled_at).join(ProcedureRow))
        assert all(opened < scheduled for opened, scheduled in rows)
    dose = {r.accession_number: r for r in demo_reports(date.today())}
    linked = [p for p in procedures if p.accession_number in dose]
    assert len(linked) >= 8
    assert all(dose[p.accession_number].patient.patient_id == p.patient_pseudonym for p in linked)
    assert {"2.25.7001", "2.25.7002", "2.25.7003"} <= {p.study_instance_uid for p in procedures}
    assert len({p.accession_number for p in procedures}) == len(procedures)
    refused = {u["code"] for e in entries if e.kind == "refusal" for u in e.data["unmet"]}
    assert {"conservative_therapy_missing", "diagnostic_blocks_insufficient", "pregnancy_status_unknown",
            "justification_not_qualified", "contraindication"} <= refused  # fmt: skip
    (override,) = [e for e in entries if e.kind == "override"]

    code, out, _ = run(capsys, "case", "show", str(override.case_id), "--json")
    shown = json.loads(out)
    assert code == 0 and shown["overrides"][0]["code"] == "contraindication"
    assert shown["indication"]["procedure"] == "lumbar-facet-mbb"
    blocked = next(
        c for c in listing["cases"] if c["stage"] == "preparation" and c["next_step"] == "justification"
    )
    code, out, _ = run(capsys, "case", "show", str(blocked["id"]))
    assert code == 0 and "unmet justification_missing" in out and "timeline:" in out
    code, out, _ = run(capsys, "case", "list", "--stage", "closed", "--json")
    assert code == 0 and {c["stage"] for c in json.loads(out)["cases"]} == {"closed"}
    code, _, err = run(capsys, "case", "show", "99999")
    assert code == 2 and "case 99999 does not exist" in err
    code, _, err = run(capsys, "case", "list", "--stage", "done")
    assert code == 2 and "stage: one of workup" in err


def test_user_qualify(capsys: pytest.CaptureFixture[str]) -> None:
    with open_uow() as uow:
        create_user(uow.session, "rpo", "password-123", ["rpo"])
        uow.commit()
    code, out, _ = run(
        capsys, "user", "qualify", "rpo", "--valid-until", "2030-12-31", "--certificate", "FK-9"
    )
    assert code == 0 and "rpo: radiation-protection qualification FK-9 valid until 2030-12-31" in out
    code, _, err = run(capsys, "user", "qualify", "nobody", "--valid-until", "2030-12-31")
    assert code == 2 and "user 'nobody' does not exist" in err
    code, _, err = run(capsys, "user", "qualify", "rpo", "--valid-until", "soon")
    assert code == 2 and "valid_until" in err
