"""Users: the typed repository (``uow.users``) and the account rules checked when one is added."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from painguide.accounts.passwords import MIN_PASSWORD_LENGTH, hash_password, verify_password
from painguide.auth.models import ROLES, User
from painguide.errors import ValidationError
from painguide.i18n.marks import N_
from painguide.store.audit import AuditRepository
from painguide.store.tables import UserRow

__all__ = [
    "ROLES",
    "User",
    "UserRepository",
    "authenticate",
    "create_user",
    "get_user",
    "hash_password",
    "list_users",
    "to_user",
    "user_of",
    "validate_password",
    "verify_password",
]


def to_user(row: UserRow) -> User:
    """The signed-in person services see for a stored account."""
    return user_of(row.username, row.full_name, row.roles)


def user_of(username: str, full_name: str, roles: str) -> User:
    """The signed-in person services see for an account's name, full name and roles (comma-separated)."""
    return User(username, full_name, frozenset(r for r in roles.split(",") if r))


def validate_password(password: str) -> None:
    """Refuse a password shorter than the minimum, naming the field."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError("password", N_("use at least %(n)s characters"), n=MIN_PASSWORD_LENGTH)


def _validate_username(username: str) -> str:
    username = username.strip()
    if (
        not username
        or len(username) > 64
        or not username.replace(".", "").replace("-", "").replace("_", "").isalnum()
    ):
        raise ValidationError("username", N_("use 1-64 letters, digits, '.', '-' or '_'"))
    return username


class UserRepository:
    """Accounts in the ``users`` table."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def row(self, username: str) -> UserRow | None:
        """The account called ``username`` (active or not), or None."""
        return self._session.scalar(select(UserRow).where(UserRow.username == username[:64]))

    def require(self, username: str) -> UserRow:
        """The account called ``username``, or a :class:`ValidationError` naming it."""
        row = self.row(username)
        if row is None:
            raise ValidationError(
                "username", N_("no account %(name)s; see `painguide user list`"), name=repr(username[:64])
            )
        return row

    def by_id(self, user_id: int) -> UserRow | None:
        """The account with primary key ``user_id``."""
        return self._session.get(UserRow, user_id)

    def active(self, username: str) -> User | None:
        """The active account called ``username`` as a :class:`User`, or None."""
        row = self.row(username)
        return to_user(row) if row is not None and row.active else None

    def add(
        self,
        username: str,
        password: str,
        roles: list[str],
        *,
        full_name: str = "",
        demo: bool = False,
    ) -> UserRow:
        """Add an account after checking its name, password and roles (each error names its field)."""
        username = _validate_username(username)
        validate_password(password)
        bad = [r for r in roles if r not in ROLES]
        if bad or not roles:
            raise ValidationError(
                "roles",
                N_("give one or more of %(roles)s (got %(bad)s)"),
                roles=", ".join(ROLES),
                bad=", ".join(bad) or "none",
            )
        if self.row(username) is not None:
            raise ValidationError(
                "username", N_("%(name)s exists already; choose another name"), name=repr(username)
            )
        row = UserRow(
            username=username,
            full_name=full_name,
            password_hash=hash_password(password),
            roles=",".join(sorted(set(roles))),
            active=True,
            demo=demo,
        )
        self._session.add(row)
        self._session.flush()
        return row

    def all(self) -> list[UserRow]:
        """Every account, by name."""
        return list(self._session.scalars(select(UserRow).order_by(UserRow.username)))

    def create(
        self,
        username: str,
        password: str,
        roles: list[str],
        *,
        full_name: str = "",
        actor: str = "system",
        demo: bool = False,
    ) -> User:
        """Add an account (:meth:`add`) and audit it in the same transaction; the caller commits."""
        row = self.add(username, password, roles, full_name=full_name, demo=demo)
        detail = {"roles": sorted(set(roles)), "demo": demo}
        AuditRepository(self._session).record(actor, "user.create", "user", row.username, detail)
        return to_user(row)

    def users(self) -> list[User]:
        """Every account as a :class:`User`, by name."""
        return [to_user(r) for r in self.all()]


def create_user(
    session: Session,
    username: str,
    password: str,
    roles: list[str],
    *,
    full_name: str = "",
    actor: str = "system",
    demo: bool = False,
) -> User:
    """Add a user and audit it; the caller's unit of work commits (:meth:`UserRepository.create`)."""
    repository = UserRepository(session)
    return repository.create(username, password, roles, full_name=full_name, actor=actor, demo=demo)


def get_user(session: Session, username: str) -> User | None:
    """The active account called ``username``, or None."""
    return UserRepository(session).active(username)


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The user if the password matches an active account, else None (no throttling: see
    :func:`painguide.accounts.service.sign_in` for the sign-in use case)."""
    row = UserRepository(session).row(username)
    if row is None or not row.active or not verify_password(password, row.password_hash):
        return None
    return to_user(row)


def list_users(session: Session) -> list[User]:
    """Every account as a :class:`User`."""
    return UserRepository(session).users()
