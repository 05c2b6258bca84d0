"""Unit of work: one transaction that rolls back unless the service commits it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from painguide.store.pathway_repository import PathwayRepository

__all__ = ["UnitOfWork"]


class UnitOfWork:
    """A transactional scope over one SQLAlchemy session.

    Examples
    --------
    >>> from painguide.store.db import session_factory
    >>> with UnitOfWork(session_factory("sqlite://")) as uow:  # doctest: +SKIP
    ...     uow.session.add(row)
    ...     uow.commit()
    """

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._session: Session | None = None
        self._committed = False
        self._pathway: PathwayRepository | None = None

    @property
    def session(self) -> Session:
        if self._session is None:
            raise RuntimeError("UnitOfWork used outside its `with` block")
        return self._session

    @property
    def pathway(self) -> PathwayRepository:
        """The care-pathway repository on this unit of work's session."""
        if self._pathway is None or self._pathway.session is not self.session:
            self._pathway = PathwayRepository(self.session)
        return self._pathway

    def __enter__(self) -> UnitOfWork:
        self._session = self._factory()
        self._committed = False
        return self

    def commit(self) -> None:
        """Commit everything done in this unit of work."""
        self.session.commit()
        self._committed = True

    def rollback(self) -> None:
        """Discard everything not yet committed."""
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
