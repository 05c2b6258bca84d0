"""An error painguide did not expect: one line through ``main()``, its traceback in a log, a set code."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from painguide.cli import EXIT_BROKEN_INSTALL, EXIT_INTERNAL, main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    out, err = capsys.readouterr()
    return int(exit_.value.code or 0), out, err


@pytest.fixture
def broken_catalogue(monkeypatch: pytest.MonkeyPatch) -> None:
    def boom(*args: object, **kwargs: object) -> object:
        raise RuntimeError("disk on fire\nsecond line")

    monkeypatch.setattr("painguide.catalogue.loader.load_catalogue", boom)


def test_unexpected_error_is_one_line_and_logged(
    broken_catalogue: None, isolated_settings: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = _run(["catalogue", "list"], capsys)

    log = isolated_settings / "logs" / "errors.log"
    assert code == EXIT_INTERNAL == 70
    assert err.strip() == f"painguide: internal error (RuntimeError: disk on fire); details in {log}"
    assert "Traceback" not in out + err
    logged = log.read_text(encoding="utf-8")
    assert "painguide catalogue list" in logged
    assert "Traceback (most recent call last)" in logged and "RuntimeError: disk on fire" in logged


@pytest.mark.parametrize("how", ["option", "environment"])
def test_debug_shows_the_traceback(
    how: str,
    broken_catalogue: None,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = ["catalogue", "list"]
    if how == "option":
        argv = ["--debug", *argv]
    else:
        monkeypatch.setenv("PAINGUIDE_DEBUG", "1")
    code, _out, err = _run(argv, capsys)

    assert code == EXIT_INTERNAL
    assert "Traceback (most recent call last)" in err and "RuntimeError: disk on fire" in err
    assert err.rstrip().splitlines()[-1].startswith("painguide: internal error (RuntimeError: disk on fire)")


def test_missing_module_says_to_run_make_again(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delitem(sys.modules, "painguide.commands.render", raising=False)
    monkeypatch.setitem(sys.modules, "painguide.commands.render", None)  # import fails: ModuleNotFoundError

    code, out, err = _run(["catalogue", "list"], capsys)

    assert code == EXIT_BROKEN_INSTALL == 69
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in out + err
    assert "module painguide.commands.render is missing" in err and "run `make` again" in err


def test_painguide_errors_still_keep_their_codes(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = _run(["catalogue", "show", "no-such-procedure"], capsys)

    assert code == 2 and err.startswith("error: ") and "internal error" not in err
