"""Patient search against a brute-force reference on a real database (SQLite, PostgreSQL): every shape of
query the repository builds a statement for (no words; one or several indexed words; short words checked per
candidate), pages within and beyond the counted ids, and patients added earlier in the same unit of work."""

from __future__ import annotations

import random
from collections.abc import Iterator

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


@pytest.mark.parametrize("query", ["", "kun", "ann kun", "a kun", "zzz"])
def test_a_page_within_the_counted_ids_is_one_statement(
    loaded: tuple[UnitOfWork, list[tuple[int, set[str]]]], query: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Rows and count of a first page come from one statement; a page reaching past the cap takes more."""
    uow, people = loaded
    monkeypatch.setattr("painguide.store.pathway_repository.COUNT_CAP", CAP)
    engine = uow.session.get_bind()
    sent: list[str] = []

    def count(*args: object) -> None:
        sent.append(str(args[2]))

    event.listen(engine, "before_cursor_execute", count)
    try:
        uow.session.connection()  # the transaction is open before counting
        first = uow.pathway.search_patients(query, limit=3)
        within = len(sent)
        past = uow.pathway.search_patients(query, limit=3, offset=CAP)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert within == 1, sent
    expected = _expected(people, query)
    assert [row.id for row in first.rows] == expected[:3]
    assert [row.id for row in past.rows] == expected[CAP : CAP + 3]
    assert len(sent) > within  # past the cap: the counted ids, then the page on its own
