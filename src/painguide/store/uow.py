"""Unit of work: one transaction that rolls back unless the service commits it, with typed repositories."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session, sessionmaker

from painguide.store.audit import AuditRepository, append_entries, audit_writer
from painguide.store.db import READS_ONLY
from painguide.store.preferences import PreferenceRepository
from painguide.store.sessions import LoginRepository, SessionRepository, TokenRepository
from painguide.store.sono_repository import SonoRepository
from painguide.store.users import UserRepository

if TYPE_CHECKING:  # the feature repositories are imported when first used (start-up time of commands)
    from painguide.store.dose_store import DoseRepository
    from painguide.store.link_repository import LinkRepository
    from painguide.store.pathway_repository import PathwayRepository
    from painguide.store.report_repository import ReportRepository
    from painguide.store.training_repository import TrainingRepository

__all__ = ["OneTransaction", "UnitOfWork"]


class UnitOfWork:
    """A transactional scope over one SQLAlchemy session, handing out typed repositories.

    Examples
    --------
    >>> from painguide.store.db import session_factory
    >>> with UnitOfWork(session_factory("sqlite://")) as uow:  # doctest: +SKIP
    ...     uow.users.add("ada", "correct horse", ["physician"])
    ...     uow.audit.record("admin", "user.create", "user", "ada")
    ...     uow.commit()
    """

    users: UserRepository
    audit: AuditRepository
    sessions: SessionRepository
    tokens: TokenRepository
    logins: LoginRepository
    preferences: PreferenceRepository
    sono: SonoRepository

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._session: Session | None = None
        self._committed = False
        self._pathway: PathwayRepository | None = None
        self._training: TrainingRepository | None = None
        self._links: LinkRepository | None = None
        self._dose: DoseRepository | None = None
        self._reports: ReportRepository | None = None

    @property
    def session(self) -> Session:
        """The raw SQLAlchemy session, for the repositories in store/ only (services use the typed
        repositories; tests/unit/architecture/test_unit_of_work.py fails on any use outside store/)."""
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its `with` block")
        return self._session

    @property
    def links(self) -> LinkRepository:
        """The worklist's and linking's queries on this unit of work's session."""
        from painguide.store.link_repository import LinkRepository  # loads the care-pathway package

        current: LinkRepository | None = getattr(self, "_links", None)  # wrappers skip __init__
        if current is None or current.session is not self.session:
            current = self._links = LinkRepository(self.session)
        return current

    @property
    def pathway(self) -> PathwayRepository:
        """The care-pathway repository on this unit of work's session."""
        # imported here: the care-pathway package takes a noticeable share of a command's start-up, and
        # commands of other features (dose, sono) open units of work without it
        from painguide.store.pathway_repository import PathwayRepository

        if self._pathway is None or self._pathway.session is not self.session:
            self._pathway = PathwayRepository(self.session)
        return self._pathway

    @property
    def training(self) -> TrainingRepository:
        """The competence and outcomes repository on this unit of work's session."""
        from painguide.store.training_repository import TrainingRepository

        current: TrainingRepository | None = getattr(self, "_training", None)  # wrappers skip __init__
        if current is None or current.session is not self.session:
            current = self._training = TrainingRepository(self.session)
        return current

    @property
    def dose(self) -> DoseRepository:
        """The dose repository (reports, statistics, peak skin dose) on this unit of work's session."""
        from painguide.store.dose_store import DoseRepository  # loaded by dose use cases only

        current: DoseRepository | None = getattr(self, "_dose", None)  # wrappers skip __init__
        if current is None or current.session is not self.session:
            current = self._dose = DoseRepository(self.session)
        return current

    @property
    def reports(self) -> ReportRepository:
        """Cross-feature reads of the procedure and quality reports and the FHIR export."""
        from painguide.store.report_repository import ReportRepository  # loads the pathway tables

        current: ReportRepository | None = getattr(self, "_reports", None)  # wrappers skip __init__
        if current is None or current.session is not self.session:
            current = self._reports = ReportRepository(self.session)
        return current

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        self._committed = False
        self.users = UserRepository(self._session)
        self.audit = AuditRepository(self._session, deferred=True)
        self.sessions = SessionRepository(self._session)
        self.tokens = TokenRepository(self._session)
        self.logins = LoginRepository(self._session)
        self.preferences = PreferenceRepository(self._session)
        self.sono = SonoRepository(self._session)
        return self

    def commit(self) -> None:
        """Commit everything done in this unit of work, its audit entries written right before the commit.

        When the transaction wrote nothing but audit entries (an audited read), the entries go to the
        process's group-commit writer (:class:`~painguide.store.audit.AuditWriter`); this returns only after
        they are committed, and raises when they cannot be.
        """
        pending = self.audit.take_pending()
        if pending and self._reads_only():
            audit_writer(self.session.get_bind().engine).write(pending, self.session)
        else:
            append_entries(self.session, pending)
        self.session.commit()
        self._committed = True

    def _reads_only(self) -> bool:
        """Whether this transaction has written nothing (no SELECT-only flag: assume it has)."""
        session = self.session
        if session.new or session.dirty or session.deleted:
            return False
        if not session.in_transaction():
            return True
        return session.connection().info.get(READS_ONLY) is True

    def in_transaction(self) -> bool:
        """Whether a transaction is open (leaving the ``with`` block then rolls it back: database I/O)."""
        return self._session is not None and self._session.in_transaction()

    def rollback(self) -> None:
        """Discard everything not yet committed (audit entries recorded in this transaction too)."""
        self.audit.take_pending()
        self.session.rollback()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        # close() rolls back whatever was not committed; unlike rollback() it leaves loaded objects readable.
        self.session.close()
        self._session = None


class OneTransaction(UnitOfWork):
    """An open unit of work as services see it while a seeder calls them: their commits only flush.

    All the seeder's writes then land in the caller's one transaction (much faster on SQLite, and nothing is
    half-seeded after an error). A service rolls back only when a gate refuses, before it has written
    anything, so skipping that rollback keeps the refusal entry and loses nothing. It hands out the same
    typed repositories, on the caller's session.
    """

    def __init__(self, outer: UnitOfWork) -> None:  # wraps an open unit of work: no session of its own
        super().__init__(outer._factory)
        self._session = outer.session
        self.users, self.audit, self.sessions = outer.users, outer.audit, outer.sessions
        self.tokens, self.logins = outer.tokens, outer.logins
        self.preferences, self.sono = outer.preferences, outer.sono

    def commit(self) -> None:
        """Flush only (the audit entries written): the caller commits the one transaction."""
        self.audit.write_pending()
        self.session.flush()

    def rollback(self) -> None:
        """Nothing: the caller's transaction decides."""
