"""Generated from the command tree: every usage error of every command prints one line and exits 2.

For each command: an unknown option, each missing required argument, a malformed value for each numeric
option and an out-of-range port. New commands are covered as soon as they are registered.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
import typer.main

from painguide.cli import app, main

#: Options that take a TCP port: 99999 must be refused as a usage error.
PORT_OPTIONS = {"port", "igtl_out"}


@dataclass(frozen=True)
class Command:
    path: tuple[str, ...]
    command: object


def _leaves() -> list[Command]:
    found: list[Command] = []

    def walk(command: object, path: tuple[str, ...]) -> None:
        subcommands = getattr(command, "commands", None)
        if subcommands is not None:
            for name, sub in subcommands.items():
                walk(sub, (*path, name))
        else:
            found.append(Command(path, command))

    walk(typer.main.get_command(app), ())
    return found


def _params(command: Command) -> list[object]:
    return list(getattr(command.command, "params", []))


def _cases() -> list[object]:
    cases: list[object] = []
    for command in _leaves():
        name = " ".join(command.path)
        cases.append(pytest.param(command.path, ["--no-such-option"], "No such option", id=f"{name}:unknown"))
        arguments = [p for p in _params(command) if getattr(p, "param_type_name", "") == "argument"]
        if any(getattr(p, "required", False) for p in arguments):
            cases.append(pytest.param(command.path, [], "Missing argument", id=f"{name}:missing"))
        for param in _params(command):
            if getattr(param, "param_type_name", "") != "option":
                continue
            kind = getattr(getattr(param, "type", None), "name", "")
            flag = max(getattr(param, "opts", []), key=len)
            if kind in ("integer", "float", "integer range", "float range"):
                cases.append(pytest.param(command.path, [flag, "abc"], flag, id=f"{name}:{flag}=abc"))
            if getattr(param, "name", "") in PORT_OPTIONS:
                cases.append(pytest.param(command.path, [flag, "99999"], flag, id=f"{name}:{flag}=99999"))
    return cases


def test_the_tree_has_commands_to_check() -> None:
    assert len(_leaves()) >= 20


@pytest.mark.parametrize(("path", "args", "named"), _cases())
def test_usage_error_is_one_line_and_exit_2(
    path: tuple[str, ...], args: list[str], named: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stopped:
        main([*path, *args])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert stopped.value.code == 2, err
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: painguide {' '.join(path)}: "), err
    assert named in lines[0] and "Traceback" not in err
