"""`painguide user disable|enable|passwd|token|revoke` through main(), with their audit entries."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from painguide.accounts.keys import digest
from painguide.cli import main
from painguide.services import open_uow
from painguide.store.tables import ApiTokenRow, AuditEntry
from painguide.store.users import create_user


def _run(
    argv: list[str], capsys: pytest.CaptureFixture[str], stdin: str | None = None
) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(argv)
    captured = capsys.readouterr()
    return int(done.value.code or 0), captured.out, captured.err


@pytest.fixture
def ada() -> None:
    with open_uow() as uow:
        create_user(uow.session, "ada", "correct horse", ["physician"], actor="test")
        uow.commit()


def test_token_is_printed_once_and_stored_hashed(ada: None, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = _run(["user", "token", "ada", "--label", "nightly export", "--days", "30"], capsys)
    token = out.strip()
    assert code == 0 and token.startswith("pgt_") and "Shown once" in err
    with open_uow() as uow:
        rows = list(uow.session.scalars(select(ApiTokenRow)))
        audit = uow.session.scalars(select(AuditEntry).where(AuditEntry.action == "user.token")).one()
    assert [r.token_hash for r in rows] == [digest(token)] and token not in str(audit.detail)
    assert rows[0].expires_at is not None and audit.actor == "cli"


def test_disable_enable_passwd_revoke(ada: None, capsys: pytest.CaptureFixture[str]) -> None:
    assert _run(["user", "token", "ada"], capsys)[0] == 0
    code, out, _ = _run(["user", "disable", "ada"], capsys)
    assert code == 0 and "disabled ada: 0 session(s) ended, 1 token(s) revoked" in out
    with open_uow() as uow:
        assert uow.users.active("ada") is None
    assert _run(["user", "enable", "ada"], capsys)[:2] == (0, "enabled ada\n")
    code, out, _ = _run(["user", "passwd", "ada", "--password", "new horse staple"], capsys)
    assert code == 0 and "password of ada changed" in out
    code, _, err = _run(["user", "passwd", "ada", "--password", "short"], capsys)
    assert code == 2 and "password: use at least 8 characters" in err
    code, out, _ = _run(["user", "revoke", "ada"], capsys)
    assert code == 0 and "ada: 0 session(s) ended, 0 token(s) revoked" in out
    code, _, err = _run(["user", "disable", "nobody"], capsys)
    assert code == 2 and "no account 'nobody'" in err
    with open_uow() as uow:
        actions = list(uow.session.scalars(select(AuditEntry.action).where(AuditEntry.object_id == "ada")))
    assert actions == [
        "user.create",
        "user.token",
        "user.disable",
        "user.enable",
        "user.password",
        "user.revoke",
    ]
