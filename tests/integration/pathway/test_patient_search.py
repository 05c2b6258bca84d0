"""Patient search against a brute-force reference on a real database (SQLite, PostgreSQL): every shape of
query the repository builds a statement for (no words; one or several indexed words; short words checked per
candidate), pages within and beyond the counted ids, and patients added earlier in the same unit of work; the
statements a search page and a case's loading send."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import event

from painguide.pathway.models import Patient
from painguide.store.db import session_factory, upgrade
from painguide.store.pathway_repository import search_keys
from painguide.store.uow import UnitOfWork

FIRST = ["Anna", "Annika", "Eva", "Ida", "Ivo", "Zoë"]
LAST = ["Kunz", "Kunzi", "Keller", "Roth", "Müller", "Mueller-Lang"]
CAP = 7


def _patient(pseudonym: str, name: str) -> Patient:
    return Patient(pseudonym=pseudonym, name=name, birth_year=1970, sex="female", pregnancy="unknown")


def _keys(pseudonym: str, name: str) -> set[str]:
    return {pseudonym.casefold()[:100], *search_keys(pseudonym), *search_keys(name)}


def _expected(people: list[tuple[int, set[str]]], query: str) -> list[int]:
    """Ids (registration order) of the patients with a key starting with each of the query's words."""
    words = list(dict.fromkeys(search_keys(query)[:5]))
    return [i for i, keys in people if all(any(k.startswith(w) for k in keys) for w in words)]


@pytest.fixture
def loaded(db_url: str) -> Iterator[tuple[UnitOfWork, list[tuple[int, set[str]]]]]:
    """40 patients with names drawn from a few words (so prefixes match several), committed."""
    upgrade(db_url)
    rng = random.Random(7)
    people: list[tuple[int, set[str]]] = []
    with UnitOfWork(session_factory(db_url)) as uow:
        for i in range(40):
            pseudonym = f"{rng.choice('KPZ')}-{rng.randint(0, 999):03d}-{i}"
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            row = uow.pathway.add_patient(_patient(pseudonym, name), actor="test")
            people.append((row.id, _keys(pseudonym, name)))
        uow.commit()
        yield uow, people


QUERIES = [
    "", "a", "k", "k-0", "ann", "kun", "Müll", "mue", "ann kun", "eva kunz", "a kun", "k eva", "a k e",
    "z-1 zoe", "ida roth ivo", "anna kunz keller roth eva ida", "zzz", "anni annika", "p-", "kunz kunz",
]  # fmt: skip


@pytest.mark.parametrize("query", QUERIES)
def test_search_matches_the_reference_on_every_page(
    loaded: tuple[UnitOfWork, list[tuple[int, set[str]]]], query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    uow, people = loaded
    monkeypatch.setattr("painguide.store.pathway_repository.COUNT_CAP", CAP)
    expected = _expected(people, query)
    for offset in range(0, len(expected) + 3, 3):  # pages within and beyond the counted ids
        page = uow.pathway.search_patients(query, limit=3, offset=offset)
        assert [row.id for row in page.rows] == expected[offset : offset + 3], (query, offset)
        assert (page.total, page.exact) == (min(len(expected), CAP), len(expected) <= CAP), query
    if expected:
        first = uow.pathway.search_patients(query, limit=1).rows[0]
        assert (first.record["pseudonym"], first.record["name"]) == (first.pseudonym, first.name)


def test_search_finds_patients_added_earlier_in_the_same_unit_of_work(db_url: str) -> None:
    upgrade(db_url)
    with UnitOfWork(session_factory(db_url)) as uow:
        uow.pathway.add_patient(_patient("Q-1", "Olga Quist"), actor="test")  # its keys not yet flushed
        page = uow.pathway.search_patients("quist")
        assert [(row.pseudonym, row.name) for row in page.rows] == [("Q-1", "Olga Quist")]
        uow.rollback()


@contextmanager
def _statements(uow: UnitOfWork) -> Iterator[list[str]]:
    """The SQL statements sent on the unit of work's engine inside the block."""
    engine = uow.session.get_bind()
    sent: list[str] = []

    def count(*args: object) -> None:
        sent.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


@pytest.mark.parametrize("query", ["", "kun", "ann kun", "a kun", "zzz"])
def test_a_page_within_the_counted_ids_is_one_statement(
    loaded: tuple[UnitOfWork, list[tuple[int, set[str]]]], query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows and count of a first page come from one statement; a page reaching past the cap takes more."""
    uow, people = loaded
    monkeypatch.setattr("painguide.store.pathway_repository.COUNT_CAP", CAP)
    uow.session.connection()  # the transaction is open before counting
    with _statements(uow) as sent:
        first = uow.pathway.search_patients(query, limit=3)
        within = len(sent)
        past = uow.pathway.search_patients(query, limit=3, offset=CAP)
    assert within == 1, sent
    expected = _expected(people, query)
    assert [row.id for row in first.rows] == expected[:3]
    assert [row.id for row in past.rows] == expected[CAP : CAP + 3]
    assert len(sent) > within  # past the cap: the counted ids, then the page on its own


def test_a_case_reads_the_patients_earlier_sessions_only_when_there_are_some(db_url: str) -> None:
    """load_case: the patient's performed procedures in other cases are the case file's history; without
    any, they are not read (the case page's first statement says so)."""
    from datetime import UTC, date, datetime

    from painguide.pathway.models import CaseInfo
    from painguide.store.pathway_tables import ProcedureRow

    upgrade(db_url)
    info = CaseInfo(complaint="back pain", region="lumbar", side="right", pain_duration_weeks=20, nrs=7,
                    opened_on=date(2026, 1, 5))  # fmt: skip
    with UnitOfWork(session_factory(db_url)) as uow:
        patient = uow.pathway.add_patient(_patient("H-1", "Hanna Hist"), actor="test")
        first = uow.pathway.add_case(patient.id, info, actor="test", stage="closed", step="done")
        second = uow.pathway.add_case(patient.id, info, actor="test", stage="workup", step="diagnostics")
        lone = uow.pathway.add_case(
            uow.pathway.add_patient(_patient("H-2", "Hugo Lone"), actor="test").id, info, actor="test",
            stage="workup", step="diagnostics",
        )  # fmt: skip
        at = datetime(2026, 2, 2, 9, 0, tzinfo=UTC)
        uow.session.add(ProcedureRow(case_id=first.id, accession_number="PGH1", patient_pseudonym="H-1",
                                     procedure="lumbar-facet-mbb", region="lumbar", modality="ultrasound",
                                     scheduled_at=at, status="performed", performed_at=at))  # fmt: skip
        uow.commit()
        with _statements(uow) as sent:
            with_history = uow.pathway.load_case(second.id)
            with_history_sent = len(sent)
            without = uow.pathway.load_case(lone.id)
            without_sent = len(sent) - with_history_sent
            of_itself = uow.pathway.load_case(first.id)
        assert [(s.case_id, s.procedure, s.performed_on) for s in with_history.file.history] == [
            (first.id, "lumbar-facet-mbb", date(2026, 2, 2))
        ]
        assert without.file.history == () and of_itself.file.history == ()
        assert without_sent == 2  # the case with its patient and procedure, then its timeline: no sessions
        assert with_history_sent > without_sent
