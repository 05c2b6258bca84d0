"""Generated from the command tree: every command declares an action of the permission matrix, and a
command-line user whose roles the matrix does not allow is refused with exit 5."""

from __future__ import annotations

import pytest
import typer.main

from painguide.auth import permission_matrix
from painguide.cli import app, main
from painguide.commands.guard import ACTION_ATTRIBUTE
from painguide.demo import DEMO_PASSWORD
from painguide.services import open_uow
from painguide.store.users import create_user


def _commands() -> dict[str, object]:
    found: dict[str, object] = {}

    def walk(command: object, path: str) -> None:
        subcommands = getattr(command, "commands", None)  # a group (Typer bundles its own click)
        if subcommands is not None:
            for name, sub in subcommands.items():
                walk(sub, f"{path} {name}".strip())
        else:
            found[path] = getattr(command, "callback", None)

    walk(typer.main.get_command(app), "")
    return found


def _action(callback: object) -> str | None:
    while callback is not None:
        if hasattr(callback, ACTION_ATTRIBUTE):
            return str(getattr(callback, ACTION_ATTRIBUTE))
        callback = getattr(callback, "__wrapped__", None)
    return None


def test_every_command_declares_a_known_action() -> None:
    commands = _commands()
    assert len(commands) >= 20
    missing = sorted(path for path, cb in commands.items() if _action(cb) is None)
    assert missing == [], f"commands without @requires(action): {missing}"
    for callback in commands.values():
        permission_matrix().action(str(_action(callback)))


def test_cli_user_without_the_role_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with open_uow() as uow:
        create_user(uow.session, "vera", DEMO_PASSWORD, ["viewer"], actor="test")
        uow.commit()
    monkeypatch.setenv("PAINGUIDE_CLI_USER", "vera")
    with pytest.raises(SystemExit) as refused:
        main(["user", "list"])
    assert refused.value.code == 5
    assert "user.manage needs one of the roles admin; vera has viewer" in capsys.readouterr().err
    with pytest.raises(SystemExit) as allowed:
        main(["catalogue", "list", "--json"])
    assert allowed.value.code == 0


def test_unknown_cli_user_is_refused(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("PAINGUIDE_CLI_USER", "nobody")
    with pytest.raises(SystemExit) as refused:
        main(["catalogue", "list"])
    assert refused.value.code == 5
    assert "PAINGUIDE_CLI_USER: no active account 'nobody'" in capsys.readouterr().err
