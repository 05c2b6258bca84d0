"""Account use cases: sign in (throttled, equal work for unknown names), sessions, API tokens, and the
administrator's disable, enable, password reset, token and revoke."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from painguide.accounts.keys import digest, new_session_id, new_token
from painguide.accounts.passwords import hash_password, needs_rehash, verify_dummy, verify_password
from painguide.accounts.throttle import ThrottlePolicy
from painguide.audit.chain import clean_text
from painguide.auth import User, authorize
from painguide.errors import TooManyAttemptsError, ValidationError
from painguide.i18n.marks import N_
from painguide.settings import Settings, get_settings
from painguide.store.base import utcnow
from painguide.store.tables import UserRow
from painguide.store.uow import UnitOfWork
from painguide.store.users import to_user, user_of, validate_password

__all__ = [
    "DEMO_PASSWORD",
    "SessionUser",
    "SignIn",
    "create_account",
    "disable_user",
    "enable_user",
    "issue_token",
    "list_accounts",
    "revoke_access",
    "session_login",
    "session_user",
    "set_password",
    "sign_in",
    "sign_out",
    "token_user",
]

DEMO_PASSWORD = "demo-painguide"
"""The password of the demo accounts; refused outside demo mode, whatever account it is given for."""

_TOUCH = timedelta(seconds=60)  # last-seen times are written at most once a minute per session


@dataclass(frozen=True)
class SignIn:
    """A successful sign-in: the user and the new session id for the cookie (never stored as such)."""

    user: User
    session_id: str


def _policies(settings: Settings) -> tuple[ThrottlePolicy, ThrottlePolicy]:
    window = timedelta(minutes=settings.login_failure_window_minutes)
    account = ThrottlePolicy(settings.login_free_failures_account, settings.login_max_delay_s, window)
    address = ThrottlePolicy(settings.login_free_failures_address, settings.login_max_delay_s, window)
    return account, address


def _keys(username: str, address: str) -> tuple[str, str]:
    return f"user:{username.strip().lower()[:64]}", f"addr:{address[:64]}"


def _refuse_if_blocked(uow: UnitOfWork, keys: tuple[str, str], now: datetime) -> None:
    waits = []
    for key in keys:
        row = uow.logins.get(key)
        if row is not None and row.blocked_until is not None and row.blocked_until > now:
            waits.append(max(1, math.ceil((row.blocked_until - now).total_seconds())))
    if waits:
        wait = max(waits)
        raise TooManyAttemptsError(
            f"too many failed sign-ins: wait {wait} s before trying again "
            "(an administrator can reset the password with `painguide user passwd`)",
            retry_after=wait,
        )


def _count_failure(uow: UnitOfWork, keys: tuple[str, str], now: datetime, actor: str) -> None:
    for key, policy in zip(keys, _policies(get_settings()), strict=True):
        row = uow.logins.get(key)
        failures = policy.failures_now(row.failures, row.last_failure_at, now) if row else 0
        failures += 1
        delay = policy.delay_s(failures)
        blocked = now + timedelta(seconds=delay) if delay else None
        uow.logins.put(key, failures=failures, now=now, blocked_until=blocked)
        if delay:
            detail = {"key": key.split(":", 1)[0], "failures": failures, "delay_s": delay}
            uow.audit.record(actor, "login.blocked", "login", key, detail)


def _refusal(row: UserRow | None, password: str, settings: Settings) -> str | None:
    """Why a sign-in is refused (for the audit trail only), or None. Always runs one hash check."""
    if row is None:
        verify_dummy(password)
        return "unknown user"
    ok = verify_password(password, row.password_hash)
    if not row.active:
        return "account disabled"
    if row.demo and not settings.demo:
        return "demo account outside demo mode"
    if not ok:
        return "wrong password"
    if password == DEMO_PASSWORD and not settings.demo:
        return "demo password outside demo mode"
    return None


def sign_in(
    uow: UnitOfWork, username: str, password: str, *, address: str, previous_session: str | None = None
) -> SignIn | None:
    """Check a sign-in and start a session, or return None (wrong name or password; audited).

    A new session id is issued on every sign-in; ``previous_session`` (the browser's old cookie) is ended,
    so a session id planted before sign-in is never promoted. Raises :class:`TooManyAttemptsError`
    (HTTP 429) while the account or the address is refused after failures; then no password is checked.
    """
    settings = get_settings()
    now = utcnow()
    name = clean_text(username.strip(), 64) or "(empty)"
    keys = _keys(name, address)
    _refuse_if_blocked(uow, keys, now)
    row = uow.users.row(name)
    reason = _refusal(row, password, settings)
    if row is None or reason is not None:
        uow.audit.record(name, "login.failed", "user", name, {"reason": reason, "address": address[:64]})
        _count_failure(uow, keys, now, name)
        uow.commit()
        return None
    if needs_rehash(row.password_hash):
        row.password_hash = hash_password(password)
        uow.audit.record(row.username, "user.password.rehash", "user", row.username)
    uow.logins.clear(keys[0])
    if previous_session:
        uow.sessions.end(digest(previous_session), now=now)
    session_id = new_session_id()
    uow.sessions.add(digest(session_id), row.id, now=now, address=address)
    uow.audit.record(row.username, "login", "user", row.username, {"address": address[:64]})
    uow.commit()
    return SignIn(user=to_user(row), session_id=session_id)


def _usable(active: bool, demo: bool, settings: Settings) -> bool:
    return active and (settings.demo or not demo)


@dataclass(frozen=True)
class SessionUser:
    """The user of an open session and the page language they chose (``None``: never chose one)."""

    user: User
    language: str | None


def session_login(uow: UnitOfWork, session_id: str) -> SessionUser | None:
    """The user of an open session and their page language, or None when the session is unknown, ended,
    idle or too old (then ended). One statement reads session, account and language."""
    settings = get_settings()
    id_hash = digest(session_id)
    found = uow.sessions.open_session(id_hash)
    if found is None:
        return None
    now = utcnow()
    idle = now - found.last_seen_at > timedelta(minutes=settings.session_idle_minutes)
    old = now - found.created_at > timedelta(hours=settings.session_absolute_hours)
    if idle or old or not _usable(found.active, found.demo, settings):
        uow.sessions.end(id_hash, now=now)
        uow.commit()
        return None
    if now - found.last_seen_at > _TOUCH:
        uow.sessions.touch(id_hash, now=now)
        uow.commit()
    return SessionUser(user_of(found.username, found.full_name, found.roles), found.language)


def session_user(uow: UnitOfWork, session_id: str) -> User | None:
    """The user of an open session, or None when it is unknown, ended, idle or too old (then ended)."""
    found = session_login(uow, session_id)
    return found.user if found is not None else None


def token_user(uow: UnitOfWork, token: str) -> User | None:
    """The user of a personal API token that is neither revoked nor expired, or None."""
    found = uow.tokens.with_user(digest(token))
    if found is None:
        return None
    row, user = found
    now = utcnow()
    if (row.expires_at is not None and row.expires_at <= now) or not _usable(
        user.active, user.demo, get_settings()
    ):
        return None
    if row.last_used_at is None or now - row.last_used_at > _TOUCH:
        row.last_used_at = now
        uow.commit()
    return to_user(user)


def sign_out(uow: UnitOfWork, user: User, session_id: str | None) -> None:
    """End the session of this browser (a copied cookie stops working too); audited."""
    authorize(user, "session.end")
    if session_id:
        uow.sessions.end(digest(session_id), now=utcnow())
    uow.audit.record(user.username, "logout", "user", user.username)
    uow.commit()


def _end_access(uow: UnitOfWork, row: UserRow) -> tuple[int, int]:
    now = utcnow()
    return uow.sessions.end_all(row.id, now=now), uow.tokens.revoke_all(row.id, now=now)


def create_account(
    uow: UnitOfWork, actor: User, username: str, password: str, roles: list[str], *, full_name: str = ""
) -> User:
    """Create an account (name, password and roles checked, each error naming its field); audited."""
    authorize(actor, "user.manage")
    if password == DEMO_PASSWORD:
        raise ValidationError("password", N_("the demo password is public; choose another"))
    user = uow.users.create(username, password, roles, full_name=full_name, actor=actor.username)
    uow.commit()
    return user


def list_accounts(uow: UnitOfWork, actor: User) -> list[User]:
    """Every account with its roles, by name."""
    authorize(actor, "user.manage")
    return uow.users.users()


def disable_user(uow: UnitOfWork, actor: User, username: str) -> tuple[int, int]:
    """Disable an account and end its sessions and tokens; returns (sessions ended, tokens revoked)."""
    authorize(actor, "user.manage")
    row = uow.users.require(username)
    if row.username == actor.username:
        raise ValidationError(
            "username", N_("you cannot disable your own account; ask another administrator")
        )
    row.active = False
    ended = _end_access(uow, row)
    detail = {"sessions_ended": ended[0], "tokens_revoked": ended[1]}
    uow.audit.record(actor.username, "user.disable", "user", row.username, detail)
    uow.commit()
    return ended


def enable_user(uow: UnitOfWork, actor: User, username: str) -> None:
    """Enable a disabled account again."""
    authorize(actor, "user.manage")
    row = uow.users.require(username)
    row.active = True
    uow.audit.record(actor.username, "user.enable", "user", row.username)
    uow.commit()


def set_password(uow: UnitOfWork, actor: User, username: str, password: str) -> int:
    """Set a new password (argon2id) and end the account's sessions; returns how many were ended."""
    authorize(actor, "user.manage")
    validate_password(password)
    if password == DEMO_PASSWORD:
        raise ValidationError("password", N_("the demo password is public; choose another"))
    row = uow.users.require(username)
    row.password_hash = hash_password(password)
    row.demo = False  # a demo account given a real password becomes an ordinary account
    ended = uow.sessions.end_all(row.id, now=utcnow())
    uow.audit.record(actor.username, "user.password", "user", row.username, {"sessions_ended": ended})
    uow.commit()
    return ended


def issue_token(
    uow: UnitOfWork, actor: User, username: str, *, label: str = "", days: int | None = None
) -> str:
    """Make a personal API token for ``username``; returns it (shown once, only its digest is stored)."""
    authorize(actor, "user.manage")
    if days is not None and not 1 <= days <= 3650:
        raise ValidationError("days", N_("give 1 to 3650 days (got %(days)s)"), days=days)
    row = uow.users.require(username)
    if not _usable(row.active, row.demo, get_settings()):
        raise ValidationError(
            "username", N_("%(name)s is disabled or a demo account; enable it first"), name=repr(row.username)
        )
    token = new_token()
    now = utcnow()
    expires = now + timedelta(days=days) if days else None
    stored = uow.tokens.add(digest(token), row.id, label=clean_text(label, 100), now=now, expires_at=expires)
    detail = {
        "token_id": stored.id,
        "label": stored.label,
        "expires": expires.isoformat() if expires else None,
    }
    uow.audit.record(actor.username, "user.token", "user", row.username, detail)
    uow.commit()
    return token


def revoke_access(uow: UnitOfWork, actor: User, username: str) -> tuple[int, int]:
    """End every session and revoke every token of ``username``; returns (sessions, tokens)."""
    authorize(actor, "user.manage")
    row = uow.users.require(username)
    ended = _end_access(uow, row)
    detail = {"sessions_ended": ended[0], "tokens_revoked": ended[1]}
    uow.audit.record(actor.username, "user.revoke", "user", row.username, detail)
    uow.commit()
    return ended
